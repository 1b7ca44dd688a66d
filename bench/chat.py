"""Benchmark: live chat delivery, buyer → agent, against a bare Socket.IO relay.

Serves the helpdesk as in production (gunicorn, gevent worker, one worker per process,
PostgreSQL; with two processes a Redis message queue) and, as the reference in the same
run, ``bench/relay.py``: python-socketio relaying the same events with no database,
authentication or validation. For 1, 50 and 500 concurrent conversations, every buyer
sends its messages one after the other (each waits for its acknowledgement: a closed
loop, so the server runs flat out), and the agent holding the conversation receives
them. Agents hold five conversations each (joined and claimed first). With two
processes, buyers are connected to one and agents to the other.

Latency is the time from the buyer's send to the agent's receipt, both in this process
(python-socketio's asyncio client); msgs/s is messages delivered over the wall time of
the phase. The load client shares the machine with the servers: on 2 cores it takes a
good part of one.

    .venv/bin/python bench/chat.py [--quick] [--postgres URL] [--redis URL]

The last line reads ``chat p50_ms=... p95_ms=... msgs_per_s=... relay_p95_ratio=...``
for 50 conversations on one process; the ratio is the helpdesk's p95 over the relay's.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LOG_LEVEL", "WARNING")

from bench.common import free_port, machine, postgres_database, wait_for  # noqa: E402

PASSWORD = "bench password 1"
CHATS_PER_AGENT = 5
HEADLINE = (1, 50)  # processes, conversations


@dataclass
class Result:
    target: str
    processes: int
    conversations: int
    latencies_ms: list[float]
    sent: int
    seconds: float

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else float("nan")

    def line(self) -> str:
        lost = self.sent - len(self.latencies_ms)
        return (f"{self.target:8} {self.processes} process{'es' if self.processes > 1 else '  '} "
                f"{self.conversations:4} conversations: {len(self.latencies_ms):5} messages  "
                f"p50 {self.percentile(.5):7.1f} ms  p95 {self.percentile(.95):7.1f} ms  "
                f"p99 {self.percentile(.99):7.1f} ms  {self.rate:7.0f} msgs/s" + (f"  LOST {lost}" if lost else ""))


class Servers:
    """gunicorn processes serving ``app`` (``wsgi_gevent:app`` or ``bench.relay:app``)."""

    def __init__(self, app: str, count: int, env: dict[str, str]):
        self.processes, self.urls = [], []
        for _ in range(count):
            port = free_port()
            self.processes.append(subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "-k", "gevent", "-w", "1", "--worker-connections",
                 "2000", "-b", f"127.0.0.1:{port}", "--log-level", "warning", app],
                cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            self.urls.append(f"http://127.0.0.1:{port}")
        for url in self.urls:
            wait_for(int(url.rsplit(":", 1)[1]), app)
        time.sleep(1)  # the worker boots after the master listens

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(20)


def prepare_database(url: str, agents: int) -> None:
    """Migrate the database and create the agents (``bench-<n>@bench.example``)."""
    from flask_migrate import upgrade

    from helpdesk import create_app
    from helpdesk.cli import create_agent
    from helpdesk.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        logging.getLogger("alembic").setLevel(logging.WARNING)
        for n in range(agents):
            create_agent(f"bench-{n}@bench.example", f"Agent {n}", PASSWORD)
        db.engine.dispose()


def agent_cookie(url: str, n: int) -> str:
    """Sign agent ``n`` in through the login form; the session cookie as a header value."""
    import re

    import requests

    http = requests.Session()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', http.get(f"{url}/login").text).group(1)
    answer = http.post(f"{url}/login", data={"email": f"bench-{n}@bench.example", "password": PASSWORD,
                                              "csrf_token": token}, allow_redirects=False)
    assert answer.status_code == 302, answer.text[:200]
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


async def run_load(target: str, urls: list[str], conversations: int, per_conversation: int,
                   cookies: list[str]) -> Result:
    """One phase: connect, join and claim, then every buyer sends ``per_conversation``
    messages in a closed loop; returns what the agents received and when."""
    import aiohttp
    import socketio

    buyer_url, agent_url = urls[0], urls[-1]
    limit = asyncio.Semaphore(50)
    if target == "helpdesk":
        async with aiohttp.ClientSession() as http:
            async def start(n):
                async with limit, http.post(f"{buyer_url}/chat/api/conversations",
                                            json={"email": f"b{n}-{uuid.uuid4().hex[:6]}@bench.example"}) as answer:
                    body = await answer.json()
                    return body["conversation"], {"token": body["token"]}
            chats = await asyncio.gather(*(start(n) for n in range(conversations)))
    else:
        chats = [(f"c-{uuid.uuid4().hex}", None) for _ in range(conversations)]
        chats = [(public_id, {"conversation": public_id}) for public_id, _ in chats]

    sent_at: dict[str, float] = {}
    latencies: list[float] = []

    def received(message):
        started = sent_at.get(message.get("client_id"))
        if started is not None:
            latencies.append((time.perf_counter() - started) * 1000)

    async def connect(url, **kwargs):
        client = socketio.AsyncClient(reconnection=False)
        async with limit:
            await client.connect(url, transports=["websocket"], wait_timeout=30, **kwargs)
        return client

    agents = []
    for n in range(math.ceil(conversations / CHATS_PER_AGENT)):
        if target == "helpdesk":
            agent = await connect(agent_url, headers={"Cookie": cookies[n]})
        else:
            agent = await connect(agent_url, auth={"agent": True})
        agent.on("message", received)
        for public_id, _ in chats[n * CHATS_PER_AGENT:(n + 1) * CHATS_PER_AGENT]:
            for event in ("conversation:join", "conversation:claim"):
                ack = await agent.call(event, {"conversation": public_id}, timeout=30)
                assert ack["ok"], ack
        agents.append(agent)
    buyers = await asyncio.gather(*(connect(buyer_url, auth=auth) for _, auth in chats))

    refused: list[str] = []

    async def talk(buyer, n):
        for k in range(per_conversation):
            client_id = f"{n}-{k}"
            sent_at[client_id] = time.perf_counter()
            try:
                ack = await buyer.call("message:send", {"client_id": client_id, "body": f"Where is my parcel? {k}"},
                                       timeout=60)
            except socketio.exceptions.TimeoutError:
                ack = {"error": {"code": "no acknowledgement in 60 s"}}
            if not ack.get("ok"):
                refused.append(ack["error"]["code"])

    total = conversations * per_conversation
    began = time.perf_counter()
    await asyncio.gather(*(talk(buyer, n) for n, buyer in enumerate(buyers)))
    deadline = time.monotonic() + 30
    while len(latencies) < total and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - began
    await asyncio.gather(*(client.disconnect() for client in [*buyers, *agents]))
    for client in [*buyers, *agents]:  # python-engineio leaves its aiohttp session open
        if client.eio.http and not client.eio.http.closed:
            await client.eio.http.close()
    if refused:
        print(f"  refused or unanswered sends: {len(refused)} ({', '.join(sorted(set(refused)))})")
    return Result(target, len(urls), conversations, latencies, total, elapsed)


def redis_reachable(url: str) -> bool:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        return True
    except redis.RedisError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 and 50 conversations, one process (under a minute)")
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    plan = {1: 100, 50: 6} if args.quick else {1: 400, 50: 20, 500: 4}  # conversations: messages each
    process_counts = [1] if args.quick else [1, 2]

    print(f"machine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print("servers: gunicorn -k gevent -w 1 per process; helpdesk on PostgreSQL; load client on the same machine")
    if 2 in process_counts and not redis_reachable(args.redis):
        print(f"two processes: not measured (no Redis at {args.redis})")
        process_counts = [1]
    admin, name, database = postgres_database(args.postgres)
    database = database.replace("postgresql://", "postgresql+psycopg://")
    results: list[Result] = []
    try:
        agents = math.ceil(max(plan) / CHATS_PER_AGENT)
        prepare_database(database, agents)
        with tempfile.TemporaryDirectory() as instance:
            for processes in process_counts:
                channel = f"bench-{uuid.uuid4().hex}"
                queue = {"SOCKETIO_MESSAGE_QUEUE": args.redis, "SOCKETIO_CHANNEL": channel,
                         "RELAY_QUEUE": args.redis, "RELAY_CHANNEL": channel} if processes > 1 else {}
                for target, app in (("helpdesk", "wsgi_gevent:app"), ("relay", "bench.relay:app")):
                    servers = Servers(app, processes, {
                        "DATABASE_URL": database, "SECRET_KEY": "bench-" + "x" * 40, "HELPDESK_INSTANCE_PATH": instance,
                        "CHAT_EVENT_RATE_LIMIT": "1000000 per minute", "CHAT_START_RATE_LIMIT": "1000000 per minute",
                        "LOGIN_RATE_LIMIT": "1000000 per minute", "LOG_LEVEL": "WARNING", **queue})
                    try:
                        cookies = [agent_cookie(servers.urls[-1], n) for n in range(agents)] \
                            if target == "helpdesk" else []
                        for conversations, each in plan.items():
                            result = asyncio.run(run_load(target, servers.urls, conversations, each, cookies))
                            results.append(result)
                            print(result.line(), flush=True)
                    finally:
                        servers.stop()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    ours, relay = ({(r.processes, r.conversations): r for r in results if r.target == t} for t in ("helpdesk", "relay"))
    head = ours[HEADLINE]
    print(f"headline: {HEADLINE[1]} conversations, {HEADLINE[0]} process")
    print(f"chat p50_ms={head.percentile(.5):.1f} p95_ms={head.percentile(.95):.1f} msgs_per_s={head.rate:.0f} "
          f"relay_p95_ratio={head.percentile(.95) / relay[HEADLINE].percentile(.95):.2f}")


if __name__ == "__main__":
    main()
