"""Results pages: admin results with charts, year over year, and the public summary.

German, server-rendered (inline SVG, no JavaScript), each chart with a text
alternative and a data table; the filters are GET parameters, as in the JSON routes.
Admin pages take the session cookie of Servicebüro staff (`AdminPage`) or a bearer
token, as the JSON routes do; `/umfragen` also manages the surveys (management_pages.py).
The print stylesheet of `results/layout.html` makes every page printable.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse

from lobu.shared import ServiceRouter
from lobu.shared.contracts.vocabulary import AWARDS, STATES, TOPICS
from lobu.shared.web_sessions import AdminPage
from lobu.surveys.charts import percent
from lobu.surveys.compare import parse_years
from lobu.surveys.management_views import STATE_NAMES, management_context
from lobu.surveys.page_templates import render
from lobu.surveys.public import PublicSummary
from lobu.surveys.query_params import Filters, Land
from lobu.surveys.rates import ResponseRateView
from lobu.surveys.results import SurveyResults
from lobu.surveys.results_views import compared_views, question_views
from lobu.surveys.schemas import ResultsFilter, SurveySummary
from lobu.surveys.service import SurveyCatalogue

router = ServiceRouter(include_in_schema=False)
VOCABULARY = {"states": STATES, "topics": TOPICS, "awards": AWARDS}
HEADERS = {"Cache-Control": "no-store"}  # admin pages hold results nobody else may see


def _page(request: Request, name: str, context: dict[str, Any], *, private: bool) -> HTMLResponse:
    context = {"vocabulary": VOCABULARY, **context}
    return render(request, name, context, headers=HEADERS if private else None)


def slice_name(filters: ResultsFilter) -> str:
    """The slice in words: "alle Bündnisse", or its Land, field of action and award."""
    parts = [
        STATES[filters.state] if filters.state else "",
        f"Handlungsfeld {TOPICS[filters.topic]}" if filters.topic else "",
        f"Auszeichnung {AWARDS[filters.award]}" if filters.award else "",
    ]
    chosen = [part for part in parts if part]
    return ", ".join(chosen) if chosen else "alle Bündnisse"


def _query(request: Request) -> str:
    return f"?{request.url.query}" if request.url.query else ""


def _app(request: Request, name: str) -> Any:
    return getattr(request.app.state, name)


@router.get("/umfragen", response_class=HTMLResponse)
async def surveys_page(request: Request, _caller: AdminPage) -> HTMLResponse:
    """Every survey with its results and what can be done with it next (admin)."""
    catalogue: SurveyCatalogue = _app(request, "catalogue")
    surveys = (await catalogue.page(cursor=None, limit=200)).items
    years = sorted({s.year for s in surveys if s.state != "draft"})[-2:]
    context = {
        "heading": "Umfragen", "caption": "Alle Umfragen, neuestes Jahr zuerst",
        "surveys": surveys, "state_names": STATE_NAMES,
        "link": lambda s: f"/umfragen/{s.id}/ergebnisse",
        "compare_years": ",".join(map(str, years)) if len(years) == 2 else "",
        **await management_context(request, catalogue, surveys),
    }  # fmt: skip
    return _page(request, "results/list.html", context, private=True)


@router.get("/umfragen/vergleich", response_class=HTMLResponse)
async def compare_page(
    request: Request,
    _caller: AdminPage,
    filters: Filters,
    years: Annotated[str, Query(max_length=200)] = "2023,2024",
) -> HTMLResponse:
    """Year over year: a chart with a bar per year and the table beside it (admin)."""
    comparison = await _app(request, "comparison").of(parse_years(years), filters)
    context = {
        "comparison": comparison, "questions": compared_views(comparison),
        "slice_name": slice_name(filters), "threshold": _app(request, "results").threshold,
    }  # fmt: skip
    return _page(request, "results/compare.html", context, private=True)


@router.get("/umfragen/{survey_id}/ergebnisse", response_class=HTMLResponse)
async def results_page(
    request: Request, survey_id: str, _caller: AdminPage, filters: Filters
) -> HTMLResponse:
    """A survey's results as charts and tables, of a slice; suppressed slices say so."""
    catalogue: SurveyCatalogue = _app(request, "catalogue")
    results_of: SurveyResults = _app(request, "results")
    rates: ResponseRateView = _app(request, "response_rates")
    survey = await catalogue.get(survey_id)
    results = await results_of.of(survey_id, filters)
    others = (await catalogue.page(cursor=None, limit=200)).items
    earlier = [s.year for s in others if s.year < survey.year and s.state != "draft"]
    questions = (
        question_views(survey.questions, results.questions, respondents=results.respondents or 0)
        if results.questions is not None
        else []
    )
    context = {
        "survey": survey, "results": results, "questions": questions,
        "rates": await rates.of(survey_id), "rate": percent(results.response_rate),
        "slice_name": slice_name(filters), "state_name": STATE_NAMES[survey.state],
        "query": _query(request), "previous_year": max(earlier, default=None),
    }  # fmt: skip
    return _page(request, "results/results.html", context, private=True)


@router.get("/ergebnisse", response_class=HTMLResponse)
async def published_page(request: Request) -> HTMLResponse:
    """The surveys whose results are published (public)."""
    catalogue: SurveyCatalogue = _app(request, "catalogue")
    surveys = (await catalogue.page(cursor=None, limit=200)).items
    published: list[SurveySummary] = []
    for item in surveys:
        view = await catalogue.get(item.id)
        if view.results_published_at is not None and view.state == "closed":
            published.append(item)
    context = {
        "heading": "Ergebnisse der Bündnisumfragen", "caption": "Veröffentlichte Umfragen",
        "surveys": published, "state_names": STATE_NAMES, "compare_years": "",
        "link": lambda s: f"/ergebnisse/{s.id}",
    }  # fmt: skip
    return _page(request, "results/list.html", context, private=False)


@router.get("/ergebnisse/{survey_id}", response_class=HTMLResponse)
async def public_page(request: Request, survey_id: str, state: Land) -> HTMLResponse:
    """The published summary, of Germany or one Land (public; 404 until published)."""
    summary_of: PublicSummary = _app(request, "public_summary")
    summary = await summary_of.of(survey_id, state=state)
    entries = (
        {key: q.model_dump() for key, q in summary.questions.items()} if summary.questions else {}
    )
    catalogue: SurveyCatalogue = _app(request, "catalogue")
    questions = [q for q in (await catalogue.get(survey_id)).questions if q.key in entries]
    views = question_views(
        questions, entries, respondents=summary.respondents or 0, with_extremes=False
    )
    filters = ResultsFilter(state=state)
    context = {
        "summary": summary, "questions": views, "filters": filters,
        "slice_name": slice_name(filters), "rate": percent(summary.response_rate),
        "query": _query(request),
    }  # fmt: skip
    return _page(request, "results/public.html", context, private=False)
