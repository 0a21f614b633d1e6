"""Keyset cursors: opaque, URL-safe, and refused when not handed out by us."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from lobu.shared.pagination import CursorError, decode_cursor, encode_cursor

pytestmark = pytest.mark.unit

NAME_AND_ID = (str, str)


@pytest.mark.parametrize(
    ("sort_key", "types"),
    [
        (["Bündnis für Familie Görlitz", "a-17"], (str, str)),
        (["2024-05-17T09:30:00+00:00", 42], (str, int)),
        ([None, 0.5], (type(None), float)),
        (["", "ß" * 50], (str, str)),
        ([2**63 - 1], (int,)),
    ],
)
def test_a_cursor_decodes_to_the_sort_key_it_was_made_from(
    sort_key: list[Any], types: tuple[type, ...]
) -> None:
    cursor = encode_cursor(sort_key)

    assert decode_cursor(cursor, types=types) == sort_key


def test_a_cursor_is_url_safe_without_padding() -> None:
    cursor = encode_cursor(["Öl & Wasser?/+", "a-1"])

    assert "=" not in cursor
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "a",
        "not a cursor",
        "ä",
        _b64(b"not json"),
        _b64(b"\xff\xfe"),
        _b64(json.dumps({"name": "x", "id": "y"}).encode()),
        _b64(b'"a string"'),
        _b64(b"42"),
        encode_cursor(["only one"]),
        encode_cursor(["one", "two", "three"]),
    ],
)
def test_a_garbage_cursor_raises_cursor_error(cursor: str) -> None:
    with pytest.raises(CursorError):
        decode_cursor(cursor, types=NAME_AND_ID)


@pytest.mark.parametrize(
    ("sort_key", "types"),
    [
        (["name", 17], (str, str)),
        ([17, "a-1"], (str, str)),
        ([True], (int,)),
        ([1.0], (int,)),
        ([1], (float,)),
        ([None], (str,)),
        ([["nested"]], (str,)),
        ([2**63], (int,)),
        ([-(2**64)], (int,)),
    ],
)
def test_a_cursor_with_values_of_the_wrong_type_raises_cursor_error(
    sort_key: list[Any], types: tuple[type, ...]
) -> None:
    with pytest.raises(CursorError):
        decode_cursor(encode_cursor(sort_key), types=types)


def test_a_deeply_nested_cursor_raises_cursor_error() -> None:
    with pytest.raises(CursorError):
        decode_cursor(_b64(b"[" * 100_000), types=NAME_AND_ID)


def test_cursor_error_is_a_value_error() -> None:
    assert issubclass(CursorError, ValueError)
