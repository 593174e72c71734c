"""Seed derivation: one integer per purpose, stable across processes and Python versions.

Python's ``hash`` is salted per process, so seeds are derived from a SHA-256 of the purpose
and the identifying values instead. Separate purposes (label noise, initialisation, data
order) get independent streams, so changing how one is drawn never shifts the others.
"""

from __future__ import annotations

import hashlib


def derive_seed(purpose: str, *parts: object) -> int:
    """Return a 63-bit seed for ``purpose`` and ``parts`` (e.g. ``derive_seed("init", 3)``)."""
    key = "/".join([purpose, *(repr(p) for p in parts)])
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little") >> 1
