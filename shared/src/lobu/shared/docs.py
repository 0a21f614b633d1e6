"""API documentation pages that work offline: Swagger UI and ReDoc from a package.

FastAPI's /docs loads Swagger UI from a CDN, so it is blank without a network (a
laptop on a train, a locked-down office). fastapi-offline ships the Swagger UI 5 and
ReDoc assets inside its wheel; every service is built through `docs_app`, which serves
them under `DOCS_ASSETS` and points /docs and /redoc at them, with no external URL.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

DOCS_ASSETS = "/docs-assets"


def docs_app(**options: Any) -> FastAPI:
    """A FastAPI app (the options are FastAPI's) whose /docs and /redoc need no network."""
    return FastAPIOffline(static_url=DOCS_ASSETS, **options)
