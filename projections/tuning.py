"""The read models' speed tricks, each named, fenced off from the fold logic, with what it was measured to save.

Remove one and every read model still folds the same rows; only the time changes.
"""

from __future__ import annotations

import gc
import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from . import tables

#: SQLite's page cache during a rebuild, in KB (the default is 2 MB; the memory budget is 300 MB).
REBUILD_CACHE_KB = 32 * 1024  # 64 MB was no faster at 100k events and cost 33 MB more
#: SQLite settings while rebuilding, put back afterwards: no fsync per commit; change ids (primary keys) arrive
#: in random order, so keep their index pages cached; checkpoint the WAL every 80 MB rather than
#: every 4 MB, so an index page rewritten by many batches is copied into the database once (~15% at 100k).
REBUILD_PRAGMAS = {"synchronous": 1, "cache_size": -REBUILD_CACHE_KB, "wal_autocheckpoint": 20_000}
#: Python's cyclic garbage collection while rebuilding, put back afterwards. A refold keeps a page of decoded
#: events and their folded forms alive at a time; at the default thresholds (700, 10, 10) the collector walks
#: them again and again, about 15 % of a rebuild at 1M events. The peak memory measured the same.
REBUILD_GC_THRESHOLDS = (50_000, 20, 100)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run Python's cyclic garbage collector less often for the duration (a bulk fold makes no cycles to speak of)."""
    saved = gc.get_threshold()
    gc.set_threshold(*REBUILD_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


@contextmanager
def relaxed_sqlite() -> Iterator[None]:
    """Relax SQLite's fsync on every commit while read models are refolded from the log.

    A read model is derived data: a commit lost to a power cut is folded
    again from its checkpoint (rows and checkpoint still commit together), so
    paying synchronous=FULL's fsync on each batch buys nothing. Appends made
    meanwhile by this connection are the exception, hence the restore.
    """
    if tables.is_postgres() or tables.in_transaction():
        yield
        return
    saved = {name: tables.sqlite_pragma(name) for name in REBUILD_PRAGMAS}
    try:
        for name, value in REBUILD_PRAGMAS.items():
            tables.sqlite_pragma(name, value)
        yield
    finally:
        for name, value in saved.items():
            tables.sqlite_pragma(name, int(value))


def stable_id(namespace: uuid.UUID, key: str) -> str:
    """``str(uuid.uuid5(namespace, key))`` without the UUID object, for every change row a rebuild writes.

    Measured for 447,713 keys (the change rows of a rebuild at 1M events):
    0.80 s this way against 2.00 s through ``uuid.uuid5`` (best of three).
    A test holds it equal to ``uuid5``.
    """
    digest = bytearray(hashlib.sha1(namespace.bytes + key.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    x = digest.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"
