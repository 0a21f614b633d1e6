"""HTTP routes of the surveys service: thin, each calls one use case."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request, Response
from fastapi import status as http_status

from lobu.shared import AdminCaller, OptionalCaller, ServiceRouter
from lobu.surveys.answering import AnswerDesk
from lobu.surveys.domain import parse_if_match
from lobu.surveys.query_params import Filters
from lobu.surveys.results import SurveyResults
from lobu.surveys.schemas import (
    AnswersForm,
    AnswersSubmission,
    AnswersView,
    Results,
    SurveyCopy,
    SurveyCreate,
    SurveyPage,
    SurveyPublic,
    SurveyUpdate,
)
from lobu.surveys.service import SurveyCatalogue

router = ServiceRouter(prefix="/surveys", tags=["surveys"])
answers_router = ServiceRouter(prefix="/answers", tags=["answers"])

SurveyId = Annotated[str, Path(min_length=1, max_length=64, description="The survey's id")]
Token = Annotated[
    str, Path(min_length=1, max_length=100, description="The secret token of the personal link")
]


def get_catalogue(request: Request) -> SurveyCatalogue:
    """The questionnaire use cases, built once in main.py."""
    catalogue: SurveyCatalogue = request.app.state.catalogue
    return catalogue


def get_answer_desk(request: Request) -> AnswerDesk:
    """The answering use cases, built once in main.py."""
    desk: AnswerDesk = request.app.state.answer_desk
    return desk


def get_results(request: Request) -> SurveyResults:
    """The results, built once in main.py."""
    results: SurveyResults = request.app.state.results
    return results


Catalogue = Annotated[SurveyCatalogue, Depends(get_catalogue)]
Desk = Annotated[AnswerDesk, Depends(get_answer_desk)]
ResultsDep = Annotated[SurveyResults, Depends(get_results)]


def _with_etag(response: Response, survey: SurveyPublic) -> SurveyPublic:
    response.headers["ETag"] = f'"{survey.version}"'
    return survey


@router.post(
    "",
    status_code=http_status.HTTP_201_CREATED,
    response_model=SurveyPublic,
    summary="Create a survey as a draft (admin)",
)
async def create_survey(
    body: SurveyCreate, _caller: AdminCaller, catalogue: Catalogue, response: Response
) -> SurveyPublic:
    survey = await catalogue.create(body)
    response.headers["Location"] = f"/surveys/{survey.id}"
    return _with_etag(response, survey)


@router.get("", response_model=SurveyPage, summary="List surveys, newest year first (admin)")
async def list_surveys(
    _caller: AdminCaller,
    catalogue: Catalogue,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SurveyPage:
    return await catalogue.page(cursor=cursor, limit=limit)


@router.get("/{survey_id}", response_model=SurveyPublic, summary="One survey (admin)")
async def get_survey(
    survey_id: SurveyId, _caller: AdminCaller, catalogue: Catalogue, response: Response
) -> SurveyPublic:
    return _with_etag(response, await catalogue.get(survey_id))


@router.patch(
    "/{survey_id}",
    response_model=SurveyPublic,
    summary="Change a draft; an open survey may only move closes_at (admin, If-Match)",
)
async def update_survey(
    survey_id: SurveyId,
    body: SurveyUpdate,
    _caller: AdminCaller,
    catalogue: Catalogue,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=100)] = None,
) -> SurveyPublic:
    expected = parse_if_match(if_match)
    return _with_etag(response, await catalogue.update(survey_id, body, expected_version=expected))


@router.post(
    "/{survey_id}/copy",
    status_code=http_status.HTTP_201_CREATED,
    response_model=SurveyPublic,
    summary="Copy a survey's questions into a new draft (admin)",
)
async def copy_survey(
    survey_id: SurveyId, body: SurveyCopy, _caller: AdminCaller, catalogue: Catalogue,
    response: Response,
) -> SurveyPublic:  # fmt: skip
    survey = await catalogue.copy(survey_id, body)
    response.headers["Location"] = f"/surveys/{survey.id}"
    return _with_etag(response, survey)


@router.post(
    "/{survey_id}/open",
    response_model=SurveyPublic,
    summary="Open a draft and invite every active alliance (admin)",
)
async def open_survey(
    survey_id: SurveyId, _caller: AdminCaller, catalogue: Catalogue, response: Response
) -> SurveyPublic:
    return _with_etag(response, await catalogue.open(survey_id))


@router.post("/{survey_id}/close", response_model=SurveyPublic, summary="Close a survey (admin)")
async def close_survey(
    survey_id: SurveyId, _caller: AdminCaller, catalogue: Catalogue, response: Response
) -> SurveyPublic:
    return _with_etag(response, await catalogue.close(survey_id))


@router.post(
    "/{survey_id}/results/publish",
    response_model=SurveyPublic,
    summary="Announce a closed survey's results (admin)",
)
async def publish_results(
    survey_id: SurveyId, _caller: AdminCaller, catalogue: Catalogue, response: Response
) -> SurveyPublic:
    return _with_etag(response, await catalogue.publish_results(survey_id))


@router.get(
    "/{survey_id}/results",
    response_model=Results,
    summary="Results, optionally of a slice; small slices are suppressed (admin)",
)
async def survey_results(
    survey_id: SurveyId, _caller: AdminCaller, results: ResultsDep, filters: Filters
) -> Results:
    return await results.of(survey_id, filters)


@answers_router.get(
    "/{token}", response_model=AnswersForm, summary="The questionnaire behind a personal link"
)
async def get_answers(token: Token, caller: OptionalCaller, desk: Desk) -> AnswersForm:
    return await desk.form(token, caller)


@answers_router.put(
    "/{token}",
    response_model=AnswersView,
    summary="Save answers as a draft, or submit them (the personal link's token)",
)
async def put_answers(
    token: Token, body: AnswersSubmission, caller: OptionalCaller, desk: Desk
) -> AnswersView:
    return await desk.save(token, body, caller)
