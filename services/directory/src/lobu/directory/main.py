"""The directory's composition root: `uvicorn lobu.directory.main:create_app --factory`."""

from __future__ import annotations

from fastapi import FastAPI

from lobu.directory.api import admin_router, places_router
from lobu.directory.api import router as alliances_router
from lobu.directory.contact import ContactLimits, ContactMessages
from lobu.directory.contact_pages import router as contact_router
from lobu.directory.demo import load_demo_data_if_empty
from lobu.directory.geo import register_sqlite_functions
from lobu.directory.my_alliance_pages import router as my_alliance_router
from lobu.directory.pages import router as pages_router
from lobu.directory.places import Gazetteer
from lobu.directory.privacy_api import privacy_router
from lobu.directory.privacy_wiring import attach_privacy, set_up_privacy
from lobu.directory.search import AllianceSearch
from lobu.directory.service import AllianceDirectory
from lobu.directory.settings import DirectorySettings
from lobu.directory.sign_in_pages import router as sign_in_router
from lobu.directory.sign_in_wiring import set_up_sign_in
from lobu.directory.staff_pages import router as staff_router
from lobu.shared import ServiceRuntime, create_service_app
from lobu.shared.contracts.directory import DIRECTORY_EVENTS
from lobu.shared.database import is_postgresql


def create_app(settings: DirectorySettings | None = None) -> FastAPI:
    """Build the directory's app from `settings` (the environment when omitted)."""
    settings = settings or DirectorySettings()
    runtime = ServiceRuntime.create(
        settings, service="directory", migrations="lobu.directory:migrations"
    )
    register_sqlite_functions(runtime.engine)
    runtime.declare_publications(DIRECTORY_EVENTS)
    directory = AllianceDirectory(runtime.sessions, source=runtime.source)
    privacy_requests = set_up_privacy(runtime, settings, directory)

    async def load_demo_data() -> None:
        if settings.demo_data:
            await load_demo_data_if_empty(directory)

    app = create_service_app(
        runtime,
        title="lobu directory",
        description="The address database of the Lokale Bündnisse für Familie.",
        routers=[
            alliances_router,
            admin_router,
            places_router,
            pages_router,
            contact_router,
            privacy_router,
            sign_in_router,
            my_alliance_router,
            staff_router,
        ],
        on_start=[load_demo_data],
    )
    app.state.directory = directory
    set_up_sign_in(app, runtime, settings)
    attach_privacy(app, privacy_requests)
    app.state.contact_messages = ContactMessages(
        runtime.sessions,
        source=runtime.source,
        limits=ContactLimits(
            per_client=settings.contact_limit_per_client,
            per_alliance=settings.contact_limit_per_alliance,
            window_seconds=settings.contact_window_seconds,
        ),
    )
    app.state.search = AllianceSearch(runtime.sessions, postgresql=is_postgresql(runtime.engine))
    app.state.gazetteer = Gazetteer.shipped()
    app.state.site_links = {"imprint": settings.imprint_url, "privacy": settings.privacy_url}
    return app
