"""Text no database can store, refused where it enters: path, query, headers and JSON bodies.

Two classes of string reach a service through HTTP and break the database driver with
a 500 further in: NUL characters (PostgreSQL's text type refuses U+0000) and lone
surrogates (U+D800 to U+DFFF: not Unicode scalar values, so no driver can encode them
as UTF-8; JSON's `"\\ud800"` escape and cursors made by hand produce them). They are
refused at the edge with 422, for every route at once: the middleware here checks the
path, the query string and the headers before routing; `GuardedRoute` checks parsed
JSON bodies; `decode_cursor` the values inside a cursor.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from lobu.shared.errors import LobuError, problem_response

_SURROGATE = re.compile("[\ud800-\udfff]")
NUL_MESSAGE = "contains a NUL character (U+0000), which cannot be stored"
SURROGATE_MESSAGE = "contains a lone surrogate (U+D800 to U+DFFF), which is not valid Unicode"
_GERMAN = {
    NUL_MESSAGE: "enthält ein Nullzeichen (U+0000)",
    SURROGATE_MESSAGE: "enthält ein ungültiges Unicode-Zeichen (einzelnes Surrogat)",
}


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored, or None when it can."""
    if "\x00" in value:
        return NUL_MESSAGE
    if _SURROGATE.search(value):
        return SURROGATE_MESSAGE
    return None


def _strings(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield path, str(key)
            yield from _strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, str(index)))


def json_text_problem(document: Any) -> tuple[str, str] | None:
    """(field path, message) of the first string in a parsed JSON document that cannot be stored."""
    for path, text in _strings(document, ()):
        message = text_problem(text)
        if message is not None:
            return ".".join(path) or "body", message
    return None


class UnstorableTextError(LobuError):
    """Input holds a NUL character or a lone surrogate (422, like any invalid input)."""

    code = "validation_error"
    status = 422
    title = "Invalid input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(
            f"The request is not valid: {field}: {message}",
            errors=[{"field": field, "message": message}],
        )


def _request_text_problem(scope: Scope) -> tuple[str, str] | None:
    """(where, message) for the first path, query or header text that cannot be stored."""
    message = text_problem(scope.get("path", ""))
    if message is not None:
        return "path", message
    # Decoded as Starlette decodes it for the routes, so both see the same values.
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        for text in (name, value):
            if (message := text_problem(text)) is not None:
                return name if text_problem(name) is None else "query", message
    for name, value in scope.get("headers", ()):
        if b"\x00" in name or b"\x00" in value:
            return f"header {name.decode('latin-1', 'replace')!r}", NUL_MESSAGE
    return None


def _german_page(field: str, message: str) -> HTMLResponse:
    reason = _GERMAN.get(message, "enthält ein Zeichen, das wir nicht verarbeiten können")
    body = (
        '<!doctype html>\n<html lang="de"><head><meta charset="utf-8">'
        "<title>Ungültige Eingabe</title></head><body><main>"
        "<h1>Ungültige Eingabe</h1>"
        f"<p>Die Angabe „{html.escape(field)}“ {reason}. "
        "Bitte prüfen Sie Ihre Eingabe und versuchen Sie es noch einmal.</p>"
        '<p><a href="/">Zur Suche</a></p></main></body></html>\n'
    )
    return HTMLResponse(body, status_code=422)


class RefuseUnstorableText:
    """ASGI middleware: 422 for a NUL or lone surrogate in the path, query or headers.

    Programs get problem+json; browsers (Accept: text/html) a short page in German.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = _request_text_problem(scope) if scope["type"] == "http" else None
        if problem is None:
            await self.app(scope, receive, send)
            return
        field, message = problem
        if "text/html" in Headers(scope=scope).get("accept", ""):
            response: Any = _german_page(field, message)
        else:
            error = UnstorableTextError(field, message)
            response = problem_response(
                status=error.status,
                title=error.title,
                detail=error.detail,
                code=error.code,
                **error.extensions,
            )
        await response(scope, receive, send)
