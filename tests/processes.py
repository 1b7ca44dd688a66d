"""Helpdesk servers in their own processes (``flask run``, as the demo serves it), for
tests about what happens between processes."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(app, instance_path: Path, **extra: str) -> dict[str, str]:
    """Environment for a server process on ``app``'s database with its secret key."""
    return {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": app.config["SECRET_KEY"],
            "LOG_LEVEL": "WARNING", "FLASK_APP": "wsgi", "HELPDESK_INSTANCE_PATH": str(instance_path), **extra}


def start_server(env: dict[str, str], *, stderr=subprocess.DEVNULL) -> tuple[subprocess.Popen, str]:
    """``flask run`` on a free port; returns the process and its base URL."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "flask", "run", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=stderr, text=True)
    return process, f"http://127.0.0.1:{port}"


def wait_healthy(url: str, timeout: float = 30) -> None:
    """Wait until ``url``/healthz answers.

    Raises:
        OSError: it did not within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
        process.wait(10)
