"""The OpenAPI document as lobu answers: every error is application/problem+json.

FastAPI documents its own error shape (HTTPValidationError, as application/json) and
leaves 401, 403 and 404 out. This rewrites the generated document once, so that
clients and schemathesis see what the services really send.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from lobu.shared.errors import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


class ProblemFieldError(BaseModel):
    """One invalid input, named by its path."""

    field: str = Field(examples=["postal_code"])
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details; some problems carry more members (e.g. `errors`)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str = Field(description="What went wrong, for people")
    code: str = Field(description="A stable code, for programs")
    errors: list[ProblemFieldError] | None = None


_DESCRIPTIONS = {
    "401": "No bearer token, or an invalid one",
    "403": "The token's role may not do this",
    "404": "Not found",
    "422": "Invalid input; `errors` names each field",
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}}


def _rewrite(schema: dict[str, Any]) -> dict[str, Any]:
    definitions = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions.update(problem_schema.pop("$defs", {}))
    definitions["Problem"] = problem_schema
    for path, path_item in schema.get("paths", {}).items():
        for operation in path_item.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for code, response in list(responses.items()):
                if code.isdigit() and int(code) >= 400:
                    description = response.get("description") or _DESCRIPTIONS.get(code, "Error")
                    responses[code] = _problem(description)
            if operation.get("security"):
                responses.setdefault("401", _problem(_DESCRIPTIONS["401"]))
                responses.setdefault("403", _problem(_DESCRIPTIONS["403"]))
            if "{" in path:
                responses.setdefault("404", _problem(_DESCRIPTIONS["404"]))
            if "422" in responses:
                responses["422"]["description"] = _DESCRIPTIONS["422"]
    for unused in ("HTTPValidationError", "ValidationError"):
        definitions.pop(unused, None)
    return schema


def document_problem_responses(app: FastAPI) -> None:
    """Make `app.openapi()` describe errors as the services send them."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _rewrite(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
