"""Production entry point under gunicorn's gevent worker, one worker per process:

    gunicorn -k gevent -w 1 --worker-connections 2000 -b 127.0.0.1:8001 wsgi_gevent:app

gevent must patch the standard library before Flask, SQLAlchemy or psycopg are imported
(psycopg 3 picks its cooperative wait function at import time), so this module comes
first and then loads :mod:`wsgi`.
"""
from gevent import monkey

monkey.patch_all()

import os  # noqa: E402

os.environ.setdefault("SOCKETIO_ASYNC_MODE", "gevent")
os.environ.setdefault("DATABASE_POOL_SIZE", "20")
os.environ.setdefault("DATABASE_MAX_OVERFLOW", "20")

from wsgi import app  # noqa: E402,F401
