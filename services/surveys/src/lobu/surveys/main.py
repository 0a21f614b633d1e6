"""The surveys service's composition root: `uvicorn lobu.surveys.main:create_app --factory`."""

from __future__ import annotations

from fastapi import FastAPI

from lobu.shared import ServiceRuntime, create_service_app, utc_now
from lobu.shared.contracts.surveys import SURVEYS_EVENTS
from lobu.shared.privacy import subscribe_to_privacy_requests
from lobu.surveys.answering import AnswerDesk
from lobu.surveys.api import answers_router
from lobu.surveys.api import router as surveys_router
from lobu.surveys.audience import AllianceReplicaReactions
from lobu.surveys.compare import YearOverYear
from lobu.surveys.consumers import subscribe_to_alliances
from lobu.surveys.demo import DemoSurveys
from lobu.surveys.exports import ResponseExport
from lobu.surveys.management_pages import router as management_router
from lobu.surveys.page_templates import build_templates
from lobu.surveys.pages import router as pages_router
from lobu.surveys.privacy import SurveysPersonalData
from lobu.surveys.public import PublicSummary
from lobu.surveys.rates import ResponseRateView
from lobu.surveys.reminders import Reminders
from lobu.surveys.results import SurveyResults
from lobu.surveys.results_api import router as results_api_router
from lobu.surveys.results_pages import router as results_pages_router
from lobu.surveys.scheduler import SurveyScheduler
from lobu.surveys.service import Clock, SurveyCatalogue
from lobu.surveys.settings import SurveySettings


def create_app(settings: SurveySettings | None = None, *, clock: Clock = utc_now) -> FastAPI:
    """Build the surveys app from `settings` (the environment when omitted) and a clock."""
    settings = settings or SurveySettings()
    runtime = ServiceRuntime.create(
        settings, service="surveys", migrations="lobu.surveys:migrations"
    )
    runtime.declare_publications(SURVEYS_EVENTS)
    base_url, source = settings.public_base_url, runtime.source
    reactions = AllianceReplicaReactions(base_url=base_url, source=source, clock=clock)
    subscribe_to_alliances(runtime, reactions)
    subscribe_to_privacy_requests(runtime, SurveysPersonalData())
    catalogue = SurveyCatalogue(
        runtime.sessions, source=source, base_url=base_url,
        reminder_days=settings.reminder_days, clock=clock,
    )  # fmt: skip
    desk = AnswerDesk(runtime.sessions, source=source, base_url=base_url, clock=clock)
    reminders = Reminders(runtime.sessions, source=source, base_url=base_url, clock=clock)
    demo = DemoSurveys(runtime.sessions)
    scheduler = SurveyScheduler(
        catalogue, reminders, interval=settings.scheduler_seconds,
        extra_steps=[demo.load_when_ready] if settings.demo_data else [],
    )  # fmt: skip
    app = create_service_app(
        runtime,
        title="lobu surveys",
        description="The yearly survey of the Lokale Bündnisse für Familie.",
        # results_api first: its /surveys/compare must not be taken for a survey id
        routers=[
            results_api_router,
            surveys_router,
            answers_router,
            pages_router,
            management_router,
            results_pages_router,
        ],
        on_start=[scheduler.start],
        on_stop=[scheduler.stop],
    )
    app.state.catalogue = catalogue
    app.state.templates = build_templates(settings)
    app.state.answer_desk = desk
    results = SurveyResults(runtime.sessions, threshold=settings.suppression_threshold)
    app.state.results = results
    app.state.comparison = YearOverYear(runtime.sessions, results)
    app.state.public_summary = PublicSummary(results)
    app.state.response_rates = ResponseRateView(runtime.sessions)
    app.state.response_export = ResponseExport(runtime.sessions)
    app.state.reminders = reminders
    app.state.scheduler = scheduler
    app.state.demo = demo
    app.state.replica_reactions = reactions
    return app
