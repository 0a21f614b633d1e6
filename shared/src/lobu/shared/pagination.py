"""Opaque cursors for keyset pagination: the sort key of the last item, base64url-encoded.

Keyset cursors stay correct while rows are added or removed between pages: no
duplicates and no gaps, unlike offsets.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

from lobu.shared.errors import LobuError
from lobu.shared.input_text import text_problem


class CursorError(LobuError, ValueError):
    """The cursor was not handed out by this service, or was altered (422 for clients)."""

    code = "invalid_cursor"
    status = 422
    title = "Invalid cursor"


def encode_cursor(sort_key: list[Any]) -> str:
    """An opaque cursor for the item with `sort_key`."""
    raw = json.dumps(sort_key, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_INVALID = "the cursor is not valid; use next_cursor from the last page"
_LARGEST_ID = 2**63 - 1  # a BIGINT


def decode_cursor(cursor: str, *, types: tuple[type, ...]) -> list[Any]:
    """The sort key inside `cursor`, one value of each of `types`; CursorError otherwise.

    Checking the types here keeps a hand-made cursor from reaching the database as a
    comparison of, say, a name with a number (which PostgreSQL refuses with a 500), and
    so do the checks of the values: a NUL or a lone surrogate (JSON's "\ud800") in a
    string, which no driver can send, and numbers that are not finite.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_key = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError) as error:
        raise CursorError(_INVALID) from error
    if not isinstance(sort_key, list) or len(sort_key) != len(types):
        raise CursorError(_INVALID)
    for value, expected in zip(sort_key, types, strict=True):
        if type(value) is not expected:  # exact: True is an int to isinstance
            raise CursorError(_INVALID)
        if isinstance(value, int) and not -_LARGEST_ID <= value <= _LARGEST_ID:
            raise CursorError(_INVALID)
        if isinstance(value, float) and not math.isfinite(value):
            raise CursorError(_INVALID)
        if isinstance(value, str) and text_problem(value) is not None:
            raise CursorError(_INVALID)
    return sort_key
