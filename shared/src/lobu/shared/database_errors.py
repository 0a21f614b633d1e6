"""What a database error means, read off what the real drivers raise (asyncpg, aiosqlite).

SQLAlchemy wraps some driver errors (`DBAPIError` with `.orig`, whose `__cause__` is
asyncpg's own exception) and lets others through unwrapped: a connection attempt to
a host that does not resolve raises `socket.gaierror`, a stopped server
`ConnectionRefusedError`, a server that is starting up asyncpg's
`CannotConnectNowError` (SQLSTATE 57P03) inside a plain `DBAPIError`. So the
classification walks the whole chain and decides by exception family and SQLSTATE.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

# SQLSTATEs that say "the server cannot serve now", not "this statement is wrong".
# Class 08: connection exception; class 53: insufficient resources (53300 too many
# connections, 53100 disk full, 53200 out of memory); 57P01 admin shutdown,
# 57P02 crash shutdown, 57P03 cannot connect now (starting up, shutting down, standby).
_OUTAGE_SQLSTATE_CLASSES = ("08", "53")
_OUTAGE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
# SQLite result codes that mean "busy or unreachable", not "this statement is wrong"
# (e.g. "no such table" is SQLITE_ERROR and is not an outage).
_SQLITE_OUTAGE_PREFIXES = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR")
_SQLITE_OUTAGES = frozenset({"SQLITE_FULL", "SQLITE_PROTOCOL"})


def error_chain(error: BaseException) -> Iterator[BaseException]:
    """`error`, then what it wraps: SQLAlchemy's `.orig` and each `__cause__`.

    `__context__` is left out: an error raised while handling another is not that one.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        original = getattr(current, "orig", None)
        for wrapped in (original, current.__cause__):
            if isinstance(wrapped, BaseException):
                pending.append(wrapped)


def sqlstate_of(error: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE somewhere in `error`'s chain, if any."""
    for link in error_chain(error):
        code = getattr(link, "sqlstate", None) or getattr(link, "pgcode", None)
        if isinstance(code, str) and code:
            return code
    return None


def sqlite_error_name(error: BaseException) -> str | None:
    """SQLite's result code name (e.g. `SQLITE_BUSY`) somewhere in the chain, if any."""
    for link in error_chain(error):
        name = getattr(link, "sqlite_errorname", None)
        if isinstance(name, str) and name:
            return name
    return None


def is_outage(error: BaseException) -> bool:
    """True when `error` means "the database is away or cannot serve now", not "bad data"."""
    for link in error_chain(error):
        # Network failures: refused, reset, unreachable, a host that does not resolve
        # (socket.gaierror), timeouts; asyncio's "Multiple exceptions" is a bare OSError.
        if isinstance(link, OSError | TimeoutError | PoolTimeoutError | DisconnectionError):
            return True
        if isinstance(link, DBAPIError) and link.connection_invalidated:
            return True
    state = sqlstate_of(error)
    if state is not None:
        return state[:2] in _OUTAGE_SQLSTATE_CLASSES or state in _OUTAGE_SQLSTATES
    name = sqlite_error_name(error)
    if name is not None:
        return name.startswith(_SQLITE_OUTAGE_PREFIXES) or name in _SQLITE_OUTAGES
    return False
