"""Benchmark: chat messages through the machine-translation path, and what translation
adds to delivery.

On a tiny argos-translate model built offline (tests/translation/tiny_model.py: a real
package through argos' real code path, but 1 layer of width 16, so the figures measure the
helpdesk's path — detection, protection, cache, storage, emit — far more than a real
model's beam search, which takes 50–500 ms a sentence on a CPU):

1. translation path: ``chat.translation.translate_message`` on stored buyer messages,
   first all different (cache misses: the engine runs), then the same texts again (cache
   hits: no engine call); messages per second, one after the other;
2. delivery: a buyer sends messages one at a time over Socket.IO to an agent on a live
   server (threading mode, SQLite), translation on (argos with the model) and off (no
   translation job queued at all); ``added_delivery_ms`` is the difference of the median
   send→receipt latencies. It should be about zero: translation runs after delivery.

    .venv/bin/python bench/translate.py [--quick] [--postgres URL]

Needs requirements-dev.txt (onnx builds the tiny model). The last line reads
``translate cached_per_s=... uncached_per_s=... added_delivery_ms=...``.
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOME = Path(tempfile.mkdtemp(prefix="bench-translate-"))
for _name, _sub in {"ARGOS_PACKAGES_DIR": "packages", "XDG_DATA_HOME": "data", "XDG_CONFIG_HOME": "config",
                    "XDG_CACHE_HOME": "cache"}.items():
    os.environ[_name] = str(HOME / _sub)  # before anything imports argostranslate
os.environ.update(ARGOS_CHUNK_TYPE="MINISBD", ARGOS_DEVICE_TYPE="cpu", LOG_LEVEL="WARNING", LOG_FORMAT="text")

from bench.common import machine, postgres_database  # noqa: E402

WORDS = ("chávena", "encomenda", "partida", "azul", "hoje", "amanhã", "reembolso", "caixa", "prato", "tampa")


def buyer_text(n: int) -> str:
    """A distinct Portuguese message per ``n`` (so each is a cache miss the first time)."""
    words = " ".join(WORDS[(n // 10 ** i) % 10] for i in range(4))
    return f"Olá, a minha encomenda chegou partida e quero saber do reembolso: {words}."


def build_app(url: str):
    from flask_migrate import upgrade

    from helpdesk import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret", "TRANSLATION_ENGINE": "argos",
                      "HELPDESK_ENV": "development", "LOGIN_RATE_LIMIT": "10000 per minute",
                      "CHAT_START_RATE_LIMIT": "10000 per minute", "CHAT_EVENT_RATE_LIMIT": "100000 per 10 seconds",
                      "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade()
    return app


def translation_path(app, count: int) -> tuple[float, float]:
    """(uncached msgs/s, cached msgs/s) through ``translate_message``."""
    from chat import service
    from chat.translation import translate_message
    from helpdesk.extensions import db

    with app.app_context():
        conversation = service.start_conversation(email="bench@example.pt", language="pt-PT")
        ids = []
        for n in range(2 * count):
            message, _ = service.post_message(conversation, sender="buyer", body=buyer_text(n % count),
                                              client_id=uuid.uuid4().hex)
            ids.append(message.id)
        translate_message(ids[0])  # load argostranslate, the detector and the model before timing
        db.session.remove()
        rates = []
        for batch in (ids[1:count], ids[count + 1:]):
            started = time.perf_counter()
            for message_id in batch:
                row = translate_message(message_id)
                assert row is not None and row.status == "translated", row and row.note
                db.session.remove()
            rates.append(len(batch) / (time.perf_counter() - started))
    return rates[0], rates[1]


def delivery(app, count: int, translate: bool) -> list[float]:
    """Send→receipt latencies (ms) of ``count`` buyer messages to a connected agent."""
    import requests
    import socketio
    from werkzeug.serving import make_server

    from chat import events
    from helpdesk.cli import create_agent
    from helpdesk.translation.worker import worker

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # request lines, and the dropped websockets at the end
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    real_schedule = events.chat_translation.schedule
    if not translate:
        events.chat_translation.schedule = lambda message: None
    try:
        email = f"agent-{uuid.uuid4().hex[:8]}@bench.example"
        with app.app_context():
            create_agent(email, "Bench Agent", "bench password 1", languages=["en"])
        http = requests.Session()
        assert http.post(f"{url}/login", data={"email": email, "password": "bench password 1"},
                         allow_redirects=False, timeout=10).status_code == 302
        start = requests.post(f"{url}/chat/api/conversations", json={"email": "ana@example.pt"},
                              headers={"Accept-Language": "pt-PT"}, timeout=10).json()
        arrived = threading.Event()
        agent = socketio.Client(http_session=http)
        agent.on("message", lambda m: arrived.set())
        agent.connect(url, transports=["websocket"], wait_timeout=10)
        agent.call("conversation:join", {"conversation": start["conversation"]}, timeout=10)
        buyer = socketio.Client()
        buyer.connect(url, auth={"token": start["token"]}, transports=["websocket"], wait_timeout=10)
        latencies = []
        for n in range(count):
            arrived.clear()
            sent = time.perf_counter()
            buyer.call("message:send", {"client_id": uuid.uuid4().hex, "body": buyer_text(10_000 + n)}, timeout=10)
            if not arrived.wait(10):
                raise SystemExit(f"message {n} never reached the agent")
            latencies.append((time.perf_counter() - sent) * 1000)
        worker(app).drain(120)
        buyer.disconnect()
        agent.disconnect()
        return latencies
    finally:
        events.chat_translation.schedule = real_schedule
        server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few messages: finishes within a minute")
    parser.add_argument("--postgres", help="run on a fresh database on this PostgreSQL server instead of SQLite")
    args = parser.parse_args()
    count = 30 if args.quick else 300
    deliveries = 30 if args.quick else 200

    from tests.translation.tiny_model import build_tiny_model

    admin = None
    if args.postgres:
        admin, name, url = postgres_database(args.postgres)
    else:
        url = f"sqlite:///{HOME / 'bench.sqlite3'}"
    app = build_app(url)
    try:
        from helpdesk.translation import argos

        argos.install_file(app.config, build_tiny_model(HOME / "models", "pt", "en"))
        uncached, cached = translation_path(app, count)
        off = delivery(app, deliveries, translate=False)
        on = delivery(app, deliveries, translate=True)
    finally:
        with app.app_context():
            from helpdesk.extensions import db

            db.engine.dispose()
        if admin is not None:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    added = statistics.median(on) - statistics.median(off)
    print(f"machine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}; model: tiny argos pt→en (built offline)")
    print(f"translation path, {count} messages each: uncached {uncached:.0f} msgs/s, cached {cached:.0f} msgs/s")
    print(f"delivery, {deliveries} messages each: p50 off {statistics.median(off):.1f} ms, "
          f"on {statistics.median(on):.1f} ms; p95 off {sorted(off)[int(.95 * len(off)) - 1]:.1f} ms, "
          f"on {sorted(on)[int(.95 * len(on)) - 1]:.1f} ms")
    print(f"translate cached_per_s={cached:.1f} uncached_per_s={uncached:.1f} added_delivery_ms={added:.2f}")


if __name__ == "__main__":
    main()
