"""Failed sign-ins, counted in the database so every worker of every host sees the same counts.

Counted per (name, client address) and per client address, never per name
alone: names are public on event pages, so a count per name would let anyone
lock an editor out. After a few free failures each key waits a delay that
doubles with every further failure (capped), instead of a hard lock; a
correct password clears the pair's and the address's counts, and a key with
no failure for a day starts again from nothing.

An attempt is counted as a failure *before* its password is checked, in one
transaction holding the keys' rows: simultaneous attempts are counted one
after the other, so a burst checks no more passwords than the free failures.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from peewee import CharField, IntegerField

from events import tables
from events.tables import BaseModel, UTCTimeField

#: Failures a key may have before it waits: a (name, address) pair, and an address whatever the names.
FREE = {"pair": 5, "addr": 20}
#: The longest wait, however many failures.
MAX_DELAY = 15 * 60
#: A key with no failure for this long starts again from nothing.
FORGET = timedelta(days=1)
#: Forgotten rows deleted by each attempt, so the table holds about a day of failures.
PRUNE_BATCH = 100

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SignInFailures(BaseModel):
    """Failures of one key (``pair:NAME|ADDRESS`` or ``addr:ADDRESS``) and until when it must wait."""

    key = CharField(max_length=200, primary_key=True)
    failures = IntegerField()
    last_failure = UTCTimeField(index=True)
    blocked_until = UTCTimeField()

    class Meta:
        table_name = "sign_in_failure"


class Throttled(Exception):
    """Too many recent failures for this name from this address, or from this address."""

    def __init__(self, wait: int) -> None:
        self.wait = wait
        super().__init__(f"Too many failed sign-ins from this address; try again in {describe_wait(wait)}.")


@dataclass(frozen=True)
class Attempt:
    """A sign-in counted as failed until ``succeeded`` says otherwise."""

    keys: tuple[str, ...]


def create_tables() -> None:
    tables.create_tables([SignInFailures])


def now() -> datetime:
    return datetime.now(UTC)


def describe_wait(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def address_key(address: str) -> str:
    """The unit an address is counted as: an IPv4 address, or an IPv6 /64 (what one host is usually given)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]  # not an IP address (a UNIX socket): as it is, bounded
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def keys(name: str, address: str) -> tuple[str, str]:
    where = address_key(address)
    return f"addr:{where}", f"pair:{name}|{where}"


def delay(failures: int, free: int) -> float:
    """Seconds a key waits after ``failures``: none for the free ones, then 1, 2, 4, ... up to MAX_DELAY."""
    if failures < free:
        return 0
    return min(MAX_DELAY, 2 ** min(failures - free, 20))


def attempt(name: str, address: str) -> Attempt:
    """Count a sign-in as failed before its password is checked; raise Throttled while any of its keys waits."""
    moment = now()
    counted = keys(name, address)
    with _locked(counted) as rows:
        waits = [(row.blocked_until - moment).total_seconds() for row in rows if row.blocked_until > moment]
        if waits:
            raise Throttled(max(1, math.ceil(max(waits))))  # nothing written: the transaction rolls back
        for row in rows:
            forgotten = moment - row.last_failure > FORGET
            failures = 1 if forgotten else row.failures + 1
            free = FREE[row.key.split(":", 1)[0]]
            (SignInFailures
             .update(failures=failures, last_failure=moment,
                     blocked_until=moment + timedelta(seconds=delay(failures, free)))
             .where(SignInFailures.key == row.key)
             .execute())
        _prune(moment - FORGET)
    return Attempt(counted)


def succeeded(attempt: Attempt) -> None:
    """The password was right: the pair and the address start again from nothing."""
    with _transaction():
        for key in sorted(attempt.keys):  # the order every attempt locks them in
            SignInFailures.delete().where(SignInFailures.key == key).execute()


@contextmanager
def _locked(counted: tuple[str, ...]) -> Iterator[list[SignInFailures]]:
    """A transaction holding the rows of ``counted`` (created empty if missing), in key order.

    PostgreSQL: each row is created or locked by one upsert, which waits for
    any other transaction holding it. SQLite: the transaction took the
    database's write lock before reading.
    """
    ordered = sorted(counted)
    with _transaction():
        for key in ordered:
            insert = SignInFailures.insert(key=key, failures=0, last_failure=_EPOCH, blocked_until=_EPOCH)
            if tables.is_postgres():
                insert = insert.on_conflict(conflict_target=[SignInFailures.key],
                                            update={SignInFailures.failures: SignInFailures.failures})
            else:
                insert = insert.on_conflict_ignore()
            insert.execute()
        yield list(SignInFailures.select().where(SignInFailures.key.in_(ordered)).order_by(SignInFailures.key))


@contextmanager
def _transaction() -> Iterator[None]:
    """A transaction in which two attempts never both read before either writes.

    PostgreSQL: the rows are locked one by one (``_locked``). SQLite: BEGIN
    IMMEDIATE; a write lock held past the busy timeout (a long import) is a
    StoreBusy, answered 503, rather than an error.
    """
    if tables.is_postgres():
        with tables.atomic():
            yield
    else:
        with tables.writing():
            yield


def _prune(before: datetime) -> None:
    """Delete a batch of keys forgotten since ``before``; on PostgreSQL, skip any another attempt holds."""
    stale = (SignInFailures.select(SignInFailures.key)
             .where(SignInFailures.last_failure < before)
             .limit(PRUNE_BATCH))
    if tables.is_postgres():
        stale = stale.for_update(skip_locked=True)
    SignInFailures.delete().where(SignInFailures.key.in_(stale)).execute()
