"""Errors as RFC 9457 problem details (application/problem+json), never a stack trace."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class LobuError(Exception):
    """Root of every service's domain errors: a stable `code`, an HTTP status, a message."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class RequestTooLargeError(LobuError):
    """The body is larger than the route accepts (413)."""

    code = "request_too_large"
    status = 413
    title = "Content too large"

    @classmethod
    def for_limit(cls, limit: int) -> RequestTooLargeError:
        """The error for a route that accepts at most `limit` bytes."""
        return cls(
            f"The request body is larger than the {limit} bytes ({limit / 2**20:g} MiB) "
            "this endpoint accepts.",
            max_bytes=limit,
        )


def problem_response(
    *,
    status: int,
    title: str,
    detail: str,
    code: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem+json response."""
    body = {
        "type": f"https://lobu.lokale-buendnisse-fuer-familie.de/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extensions,
    }
    return JSONResponse(
        jsonable_encoder(body), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def _field_path(location: tuple[Any, ...] | list[Any]) -> str:
    # FastAPI puts where the value came from first ("body", "query", ...); only that
    # part is dropped, so a field that happens to be called "path" keeps its name.
    parts = [str(part) for part in location]
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _on_lobu_error(_request: Request, error: LobuError) -> JSONResponse:
    return problem_response(
        status=error.status,
        title=error.title,
        detail=error.detail,
        code=error.code,
        **error.extensions,
    )


async def _on_validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    errors = [
        {"field": _field_path(item.get("loc", ())), "message": item.get("msg", "invalid")}
        for item in error.errors()
    ]
    summary = "; ".join(f"{item['field']}: {item['message']}" for item in errors[:5])
    return problem_response(
        status=422,
        title="Invalid input",
        detail=f"The request is not valid: {summary}",
        code="validation_error",
        errors=errors,
    )


async def _on_http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    limit = request.scope.get(MAX_BODY_SIZE_SCOPE_KEY)
    if error.status_code == 413 and isinstance(limit, int):
        # FastAPI's max_body_size stopped the body while it streamed in.
        return await _on_lobu_error(request, RequestTooLargeError.for_limit(limit))
    titles = {401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed"}
    return problem_response(
        status=error.status_code,
        title=titles.get(error.status_code, "HTTP error"),
        detail=str(error.detail),
        code=f"http_{error.status_code}",
        headers=dict(error.headers) if error.headers else None,
    )


async def _on_unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        status=500,
        title="Internal error",
        detail="Something went wrong on our side; it has been logged.",
        code="internal_error",
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error of `app` as problem+json."""
    app.add_exception_handler(LobuError, _on_lobu_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _on_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _on_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _on_unexpected_error)
