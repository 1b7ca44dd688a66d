"""What the benchmarks share: the machine line, free ports, a throw-away PostgreSQL database."""
from __future__ import annotations

import os
import platform
import socket
import time
import uuid
from pathlib import Path


def machine() -> str:
    """``Linux x86_64, 2 cores (model), Python 3.11.7``: printed by every benchmark."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({model}), Python {platform.python_version()}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, what: str = "server", timeout: float = 60) -> None:
    """Wait until something listens on 127.0.0.1:``port``.

    Raises:
        SystemExit: nothing did within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not start on port {port}")


def postgres_database(url: str):
    """Create an empty database on the server at ``url``.

    Returns:
        ``(admin connection, database name, URL of the new database)``; drop it with
        ``admin.execute('DROP DATABASE ... WITH (FORCE)')``.
    """
    import psycopg

    name = f"helpdesk_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(url, autocommit=True, connect_timeout=3)
    admin.execute(f'CREATE DATABASE "{name}"')
    return admin, name, url.rsplit("/", 1)[0] + "/" + name
