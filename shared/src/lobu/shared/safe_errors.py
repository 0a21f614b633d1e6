"""Errors told without personal data, for logs and dead-letter headers.

An exception's text often holds the values it failed on: SQLAlchemy appends the
statement's parameters, PostgreSQL's DETAIL says `Key (email)=(jane@example.org)
already exists`, pydantic repeats the input, SMTP errors name the recipient. So lobu
never writes `str(error)` or `repr(error)` of an arbitrary exception. It writes
`describe_error(error)`: the exception classes, the SQLSTATE, the constraint, table
and column names, pydantic's error locations and types; the text only of the few
kinds whose text is lobu's own words or the network's (see `_TEXT_IS_SAFE`).

`redacted_exc_info(error)` gives logging a traceback with the same frames (file,
line, function, source line) whose exception line is that description, and no
chained exceptions: `logger.error(..., exc_info=redacted_exc_info(error))`.
"""

from __future__ import annotations

import socket
from types import TracebackType

from pydantic import ValidationError

from lobu.shared.database_errors import error_chain, sqlite_error_name, sqlstate_of
from lobu.shared.envelope import EnvelopeError

MAX_LENGTH = 1000
# Their text is written by lobu for operators, or is the network's (addresses, errno).
_TEXT_IS_SAFE: tuple[type[BaseException], ...] = (
    EnvelopeError,
    ConnectionError,
    TimeoutError,
    socket.gaierror,
)
# PoisonMessageError (lobu.shared.consumer) carries a handler's verdict in its own words.
_SAFE_TEXT_MODULES = ("aiokafka.", "kafka.", "lobu.shared.consumer", "lobu.shared.kafka")
# asyncpg's exceptions name the object that failed, never the value.
_NAME_ATTRIBUTES = ("schema_name", "table_name", "column_name", "constraint_name")


class RedactedError(Exception):
    """Stands in for an exception in a log record: its description, without values."""


def _class_name(error: BaseException) -> str:
    return type(error).__name__


def _text_is_safe(error: BaseException) -> bool:
    if type(error).__module__.startswith(_SAFE_TEXT_MODULES):
        return True
    # smtplib's errors are OSErrors too, and name the recipient: only the builtin kinds.
    return isinstance(error, _TEXT_IS_SAFE) and type(error).__module__ in (
        "builtins",
        "socket",
        "lobu.shared.envelope",
    )


def _validation_details(error: ValidationError) -> str:
    places = [
        f"{'.'.join(str(part) for part in item['loc']) or '(root)'} ({item['type']})"
        for item in error.errors(include_url=False, include_input=False, include_context=False)
    ]
    return f"{error.error_count()} invalid: {', '.join(places)}"


def _database_details(error: BaseException) -> list[str]:
    details = []
    if state := sqlstate_of(error):
        details.append(f"SQLSTATE {state}")
    if name := sqlite_error_name(error):
        details.append(name)
    for link in error_chain(error):
        for attribute in _NAME_ATTRIBUTES:
            value = getattr(link, attribute, None)
            if isinstance(value, str) and value:
                details.append(f"{attribute.removesuffix('_name')} {value}")
    return list(dict.fromkeys(details))


def describe_error(error: BaseException) -> str:
    """A one-line description of `error` that holds no values it failed on."""
    chain = list(error_chain(error))
    names = " <- ".join(dict.fromkeys(_class_name(link) for link in chain))
    details: list[str] = []
    if isinstance(error, ValidationError):
        details.append(_validation_details(error))
    elif _text_is_safe(error) and str(error):
        details.append(str(error))
    details.extend(_database_details(error))
    text = f"{names}: {'; '.join(details)}" if details else names
    return text[:MAX_LENGTH]


def redacted_exc_info(
    error: BaseException,
) -> tuple[type[RedactedError], RedactedError, TracebackType | None]:
    """`exc_info` for logging: `error`'s frames with its description instead of its text."""
    return RedactedError, RedactedError(describe_error(error)), error.__traceback__
