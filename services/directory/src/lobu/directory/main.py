"""The directory's composition root: `uvicorn lobu.directory.main:create_app --factory`."""

from __future__ import annotations

from fastapi import FastAPI

from lobu.directory.api import router as alliances_router
from lobu.directory.service import AllianceDirectory
from lobu.directory.settings import DirectorySettings
from lobu.shared import ServiceRuntime, create_service_app
from lobu.shared.contracts.directory import DIRECTORY_EVENTS


def create_app(settings: DirectorySettings | None = None) -> FastAPI:
    """Build the directory's app from `settings` (the environment when omitted)."""
    settings = settings or DirectorySettings()
    runtime = ServiceRuntime.create(
        settings, service="directory", migrations="lobu.directory:migrations"
    )
    runtime.declare_publications(DIRECTORY_EVENTS)
    app = create_service_app(
        runtime,
        title="lobu directory",
        description="The address database of the Lokale Bündnisse für Familie.",
        routers=[alliances_router],
    )
    app.state.directory = AllianceDirectory(runtime.sessions, source=runtime.source)
    return app
