"""The head cache: appends in this process are seen at once, other writers within the TTL."""

from __future__ import annotations

import events
from service.feeds.heads import HeadCache
from tests.conftest import make_event


def test_an_append_in_this_process_is_seen_at_once(sqlite_log):
    cache = HeadCache()
    events.store.on_append(cache.clear)
    try:
        assert cache.get(sqlite_log, ttl=3600) is None
        (first,) = events.append([make_event()], author="test")
        assert cache.get(sqlite_log, ttl=3600).position == first.position
    finally:
        events.store._listeners.remove(cache.clear)


def test_another_writer_is_seen_once_the_ttl_has_passed(sqlite_log):
    cache = HeadCache()  # not registered as a listener: it stands for another process's cache
    assert cache.get(sqlite_log, ttl=3600) is None
    events.append([make_event()], author="test")
    assert cache.get(sqlite_log, ttl=3600) is None  # still within its TTL: the old head
    assert cache.get(sqlite_log, ttl=0).position == 1  # TTL passed: read again


def test_heads_of_different_databases_are_kept_apart(sqlite_log, tmp_path):
    cache = HeadCache()
    events.append([make_event()], author="test")
    assert cache.get(sqlite_log, ttl=3600).position == 1
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    events.connect(other)
    events.create_schema()
    try:
        assert cache.get(other, ttl=3600) is None
    finally:
        events.db.database.close()


def test_what_is_worked_out_at_a_head_is_kept_until_the_head_moves(sqlite_log):
    cache = HeadCache()
    events.store.on_append(cache.clear)
    calls: list[int] = []

    def work() -> int:
        calls.append(1)
        return len(calls)

    try:
        events.append([make_event()], author="test")
        reading = cache.lookup(sqlite_log, ttl=3600)
        key = ("newest", reading.head.position, reading.head.hash)
        assert cache.remember(key, reading, work) == 1
        assert cache.remember(key, cache.lookup(sqlite_log, ttl=3600), work) == 1  # no second computation
        events.append([make_event(stream="agreement/raa")], author="test")
        moved = cache.lookup(sqlite_log, ttl=3600)
        assert moved.head.position == 2 and moved.read_at >= reading.read_at
        assert cache.remember(("newest", moved.head.position, moved.head.hash), moved, work) == 2
        assert cache.remember(key, reading, work) == 3  # read before the append: never kept past it
        assert cache.remember(key, reading, work) == 4
    finally:
        events.store._listeners.remove(cache.clear)
