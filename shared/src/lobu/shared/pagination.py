"""Opaque cursors for keyset pagination: the sort key of the last item, base64url-encoded.

Keyset cursors stay correct while rows are added or removed between pages: no
duplicates and no gaps, unlike offsets.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any


class CursorError(ValueError):
    """The cursor was not handed out by this service, or was altered."""


def encode_cursor(sort_key: list[Any]) -> str:
    """An opaque cursor for the item with `sort_key`."""
    raw = json.dumps(sort_key, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, length: int) -> list[Any]:
    """The sort key inside `cursor`; CursorError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_key = json.loads(raw)
    except (binascii.Error, ValueError) as error:
        raise CursorError("the cursor is not valid; use next_cursor from the last page") from error
    if not isinstance(sort_key, list) or len(sort_key) != length:
        raise CursorError("the cursor is not valid; use next_cursor from the last page")
    return sort_key
