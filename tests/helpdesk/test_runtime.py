"""One serving process per database unless a message queue joins them."""
from __future__ import annotations

import subprocess

from tests.processes import ROOT, server_env, start_server, stop, wait_healthy


def test_a_second_process_without_a_message_queue_is_refused(app, tmp_path):
    env = server_env(app, tmp_path)
    first, url = start_server(env)
    try:
        wait_healthy(url)
        second, _ = start_server(env, stderr=subprocess.PIPE)
        _, errors = second.communicate(timeout=30)
        assert second.returncode == 3
        assert ("Refusing to start: Another helpdesk process is already serving this database, and "
                "SOCKETIO_MESSAGE_QUEUE is not set") in errors
        wait_healthy(url, timeout=2)  # the first one goes on serving

        migrate = subprocess.run([*second.args[:3], "db", "current"], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=60)
        assert migrate.returncode == 0, migrate.stderr  # CLI commands do not serve, and take no lock
    finally:
        stop([first])
    again, url = start_server(env)  # the lock died with its process
    try:
        wait_healthy(url)
    finally:
        stop([again])
