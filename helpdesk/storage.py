"""Storage for uploaded files (chat attachments, later claim evidence): bytes kept under a
directory outside the web root, addressed by an opaque key. Nothing here is served by
path: views look a file up by its database row and stream it with safe headers.
"""
from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app


@dataclass(frozen=True)
class Stored:
    """A saved file: ``key`` to find it again, ``size`` in bytes, ``sha256`` hex digest."""

    key: str
    size: int
    sha256: str


class LocalStorage:
    """Files in ``root`` (created on first use), two levels of fan-out by random key."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def save(self, data: bytes) -> Stored:
        """Write ``data`` to a new file (atomically: a temporary name, then a rename)."""
        key = secrets.token_hex(16)
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, path)
        return Stored(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

    def path(self, key: str) -> Path:
        """Where the file with ``key`` lives.

        Raises:
            ValueError: ``key`` is not one this storage made (32 hex digits).
        """
        if len(key) != 32 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError("not a storage key")
        return self.root / key[:2] / key


def storage() -> LocalStorage:
    """The app's storage, rooted at ``ATTACHMENT_DIR``."""
    return LocalStorage(current_app.config["ATTACHMENT_DIR"])
