"""JSON and CSV routes of part 2: year over year, response rates, public summary, exports.

Registered before the survey routes, so that `/surveys/compare` is not read as a
survey id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request
from fastapi.responses import Response

from lobu.shared import AdminCaller, ServiceRouter
from lobu.surveys.compare import YearOverYear, parse_years
from lobu.surveys.exports import ResponseExport, result_lines
from lobu.surveys.public import PublicSummary
from lobu.surveys.query_params import Filters, Land
from lobu.surveys.rates import ResponseRateView
from lobu.surveys.results import SurveyResults
from lobu.surveys.results_schemas import Comparison, PublicResults, ResponseRates
from lobu.surveys.service import SurveyCatalogue

router = ServiceRouter(prefix="/surveys", tags=["results"])

SurveyId = Annotated[str, Path(min_length=1, max_length=64, description="The survey's id")]
Years = Annotated[
    str,
    Query(max_length=200, description="Years to compare, e.g. 2023,2024", examples=["2023,2024"]),
]
CSV = "text/csv; charset=utf-8"


def csv_response(lines: list[str], filename: str) -> Response:
    """A CSV download (German Excel: BOM, `;`); not cached, it may hold answers."""
    return Response(
        "".join(lines),
        media_type=CSV,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/compare", response_model=Comparison, summary="Year over year (admin)")
async def compare_years(
    request: Request, years: Years, _caller: AdminCaller, filters: Filters
) -> Comparison:
    comparison: YearOverYear = request.app.state.comparison
    return await comparison.of(parse_years(years), filters)


@router.get(
    "/{survey_id}/response-rates",
    response_model=ResponseRates,
    summary="Response rate in all and by Land, e.g. while the survey runs (admin)",
)
async def response_rates(
    request: Request, survey_id: SurveyId, _caller: AdminCaller
) -> ResponseRates:
    rates: ResponseRateView = request.app.state.response_rates
    return await rates.of(survey_id)


@router.get(
    "/{survey_id}/summary",
    response_model=PublicResults,
    summary="The published results (public): no free text, by Land at most, small slices hidden",
)
async def public_summary(request: Request, survey_id: SurveyId, state: Land) -> PublicResults:
    summary: PublicSummary = request.app.state.public_summary
    return await summary.of(survey_id, state=state)


@router.get(
    "/{survey_id}/responses.csv",
    response_class=Response,
    summary="The submitted responses as CSV for German Excel (admin)",
)
async def responses_csv(request: Request, survey_id: SurveyId, _caller: AdminCaller) -> Response:
    export: ResponseExport = request.app.state.response_export
    return csv_response(await export.lines(survey_id), f"antworten-{survey_id}.csv")


@router.get(
    "/{survey_id}/results.csv",
    response_class=Response,
    summary="The results of a slice as CSV for German Excel (admin)",
)
async def results_csv(
    request: Request, survey_id: SurveyId, _caller: AdminCaller, filters: Filters
) -> Response:
    results: SurveyResults = request.app.state.results
    catalogue: SurveyCatalogue = request.app.state.catalogue
    survey = await catalogue.get(survey_id)
    lines = result_lines(survey.questions, await results.of(survey_id, filters))
    return csv_response(lines, f"ergebnisse-{survey.year}-{survey_id}.csv")
