"""Errors told without personal data; database outages told apart from bad statements."""

from __future__ import annotations

import io
import json
import logging
import socket
import sqlite3
from pathlib import Path

import asyncpg
import pytest
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError

from lobu.shared.contracts.directory import ContactPerson
from lobu.shared.database_errors import is_outage
from lobu.shared.logs import QUIET_LOGGERS, configure_logging, log_handler
from lobu.shared.safe_errors import describe_error

pytestmark = pytest.mark.unit

EMAIL = "jane.doe@example.org"


def test_a_validation_error_names_the_field_and_the_kind_but_not_the_input() -> None:
    with pytest.raises(ValidationError) as caught:
        ContactPerson.model_validate({"name": "Jane Doe", "email": f"{EMAIL} (no)"})

    text = describe_error(caught.value)

    assert text.startswith("ValidationError: 1 invalid: email (value_error)")
    assert EMAIL not in text
    assert "Jane" not in text


def test_an_exception_of_unknown_kind_is_told_by_its_class_alone() -> None:
    assert describe_error(RuntimeError(f"cannot mail {EMAIL}")) == "RuntimeError"


def test_an_sqlalchemy_error_is_told_by_its_chain_and_sqlite_code(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "x.db")
    connection.execute("CREATE TABLE people (email TEXT UNIQUE)")
    connection.execute("INSERT INTO people VALUES (?)", (EMAIL,))
    try:
        connection.execute("INSERT INTO people VALUES (?)", (EMAIL,))
    except sqlite3.IntegrityError as error:
        wrapped = IntegrityError("INSERT INTO people VALUES (?)", (EMAIL,), error)
    finally:
        connection.close()

    text = describe_error(wrapped)

    assert text == "IntegrityError: SQLITE_CONSTRAINT_UNIQUE"
    assert EMAIL in str(wrapped)  # what hide_parameters=True and describe_error prevent


def test_logs_carry_exceptions_without_their_text_and_keep_the_frames() -> None:
    output = io.StringIO()
    logger = logging.getLogger("tests.safe-errors")
    logger.addHandler(log_handler(service="test", stream=output))
    logger.propagate = False
    try:
        try:
            raise ValueError(f"bad address {EMAIL}")
        except ValueError as error:
            logger.exception("failed for %s", error)
    finally:
        logger.handlers.clear()
        logger.propagate = True

    line = json.loads(output.getvalue())
    assert EMAIL not in output.getvalue()
    assert line["message"] == "failed for ValueError"
    assert "test_shared_safe_errors.py" in line["exc_info"]
    assert "RedactedError: ValueError" in line["exc_info"]


def test_configured_logging_keeps_aiosqlite_statements_out_even_at_debug() -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging(service="test", level="DEBUG")
        assert not logging.getLogger("aiosqlite").isEnabledFor(logging.DEBUG)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.NOTSET)


def sqlite_error(folder: Path, *, locked: bool) -> sqlite3.OperationalError:
    path = folder / "db.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE IF NOT EXISTS t (x)")
    if locked:
        holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0)
    try:
        other.execute("SELECT * FROM t" if locked else "SELECT * FROM missing_table")
    except sqlite3.OperationalError as error:
        return error
    finally:
        other.close()
        holder.close()
    raise AssertionError("SQLite raised nothing")


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), True),
        (ConnectionRefusedError(111, "Connect call failed"), True),
        (OSError("Multiple exceptions: [Errno 111] ..., [Errno 99] ..."), True),
        (TimeoutError(), True),
        (asyncpg.exceptions.CannotConnectNowError("the database system is starting up"), True),
        (asyncpg.exceptions.AdminShutdownError("terminating connection"), True),
        (asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients"), True),
        (asyncpg.exceptions.ConnectionFailureError("connection failure"), True),
        (asyncpg.exceptions.UniqueViolationError("duplicate key"), False),
        (asyncpg.exceptions.UndefinedTableError("relation does not exist"), False),
        (RuntimeError("a bug"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_outages_are_told_by_what_the_drivers_raise(error: BaseException, outage: bool) -> None:
    wrapped = OperationalError("SELECT 1", {}, error) if isinstance(error, Exception) else error
    wrapped.__cause__ = error

    assert is_outage(error) is outage
    assert is_outage(wrapped) is outage


@pytest.mark.parametrize(("locked", "outage"), [(True, True), (False, False)])
def test_sqlite_busy_is_an_outage_and_a_missing_table_is_not(
    tmp_path: Path, locked: bool, outage: bool
) -> None:
    error = sqlite_error(tmp_path, locked=locked)

    assert is_outage(OperationalError("SELECT", {}, error)) is outage
