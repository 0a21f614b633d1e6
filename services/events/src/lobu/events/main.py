"""The events service's composition root: `uvicorn lobu.events.main:create_app --factory`."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import FastAPI

from lobu.events.api import actions_router, editions_router, registrations_router
from lobu.events.consumers import subscribe_to_alliances
from lobu.events.coordinator_pages import router as coordinator_pages
from lobu.events.demo import load_demo_data_when_ready
from lobu.events.moderation_pages import router as moderation_pages
from lobu.events.page_support import page_templates
from lobu.events.programme import Programme
from lobu.events.programme_pages import router as programme_pages
from lobu.events.registration_pages import router as registration_pages
from lobu.events.service import Actions, AllianceReplicas, Editions, Registrations
from lobu.events.service.privacy import EventsPersonalData
from lobu.events.service.reminders import Reminders, ReminderScheduler
from lobu.events.service.retention import declare_participant_retention
from lobu.events.settings import EventsSettings
from lobu.events.statistics import Statistics
from lobu.events.statistics_api import router as statistics_routes
from lobu.shared import ServiceRuntime, create_service_app
from lobu.shared.contracts.events import EVENTS_EVENTS
from lobu.shared.places import Gazetteer
from lobu.shared.privacy import subscribe_to_privacy_requests


def create_app(settings: EventsSettings | None = None) -> FastAPI:
    """Build the events service's app from `settings` (the environment when omitted)."""
    settings = settings or EventsSettings()
    runtime = ServiceRuntime.create(settings, service="events", migrations="lobu.events:migrations")
    runtime.declare_publications(EVENTS_EVENTS)
    subscribe_to_alliances(runtime, AllianceReplicas(source=runtime.source))
    subscribe_to_privacy_requests(runtime, EventsPersonalData(source=runtime.source))
    declare_participant_retention(runtime.retention, period=settings.participant_retention)
    editions = Editions(runtime.sessions)
    actions = Actions(runtime.sessions, source=runtime.source)
    demo_tasks: list[asyncio.Task[int]] = []
    reminders = Reminders(runtime.sessions, source=runtime.source, hour=settings.reminder_hour)
    scheduler = ReminderScheduler(reminders, interval=settings.reminder_interval_seconds)

    async def start_reminders() -> None:
        if settings.reminder_interval_seconds > 0:
            await scheduler.start()

    async def start_demo() -> None:
        if settings.demo_data:
            demo_tasks.append(
                asyncio.create_task(
                    load_demo_data_when_ready(
                        runtime.sessions, editions, actions, wait_seconds=settings.demo_wait_seconds
                    )
                )
            )

    async def stop_demo() -> None:
        for task in demo_tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    app = create_service_app(
        runtime,
        title="lobu events",
        description="The Aktionstag of the Lokale Bündnisse für Familie: editions, actions, "
        "registration and the public programme.",
        routers=[
            editions_router,
            actions_router,
            registrations_router,
            statistics_routes,  # before the programme pages: /aktionstag/{year}/statistik
            programme_pages,
            registration_pages,
            coordinator_pages,
            moderation_pages,
        ],
        on_start=[start_demo, start_reminders],
        on_stop=[stop_demo, scheduler.stop],
    )
    app.state.settings = settings
    app.state.page_templates = page_templates(settings)
    app.state.editions = editions
    app.state.actions = actions
    app.state.registrations = Registrations(
        runtime.sessions,
        source=runtime.source,
        public_url=settings.public_url,
        max_seats=settings.max_seats_per_registration,
    )
    app.state.programme = Programme(runtime.sessions)
    app.state.gazetteer = Gazetteer.shipped()
    app.state.reminders = reminders
    app.state.statistics = Statistics(runtime.sessions)
    return app
