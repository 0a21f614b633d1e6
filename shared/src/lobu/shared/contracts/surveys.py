"""Facts the surveys service publishes.

Public (`surveys.survey`, `surveys.response`): a survey opened, closed, its results were
published, an alliance submitted its response (alliance id and time, never answers).

Internal (`surveys.invitation`): an invitation, a reminder and a receipt for one
alliance, each with the personal answer link. The link is a credential: it travels only
here, for notifications to mail it to the alliance's contacts.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from lobu.shared.contracts.base import ContractModel, EventDefinition
from lobu.shared.topics import SURVEYS_INVITATION, SURVEYS_RESPONSE, SURVEYS_SURVEY

SURVEY_OPENED = "lobu.surveys.survey.opened.v1"
SURVEY_CLOSED = "lobu.surveys.survey.closed.v1"
SURVEY_RESULTS_PUBLISHED = "lobu.surveys.survey.results-published.v1"
RESPONSE_SUBMITTED = "lobu.surveys.response.submitted.v1"
INVITATION_ISSUED = "lobu.surveys.invitation.issued.v1"
INVITATION_REMINDED = "lobu.surveys.invitation.reminded.v1"
INVITATION_ANSWERED = "lobu.surveys.invitation.answered.v1"


class SurveyFact(ContractModel):
    """What every survey fact says about the survey."""

    survey_id: str
    year: int = Field(ge=2000, le=2100)
    title: str = Field(min_length=1, max_length=200)


class SurveyOpened(SurveyFact):
    """A survey opened for answers (by hand or because its `opens_at` came)."""

    opened_at: datetime
    closes_at: datetime
    invited: int = Field(ge=0, description="Alliances invited when it opened")


class SurveyClosed(SurveyFact):
    """A survey stopped taking answers."""

    closed_at: datetime
    invited: int = Field(ge=0)
    respondents: int = Field(ge=0)


class SurveyResultsPublished(SurveyFact):
    """The Servicebüro released a closed survey's results."""

    published_at: datetime
    respondents: int = Field(ge=0)


class ResponseSubmitted(ContractModel):
    """An alliance submitted (or replaced) its response; the answers stay in the service."""

    survey_id: str
    alliance_id: str
    submitted_at: datetime
    replaced: bool = Field(description="True when an earlier response was replaced")


class InvitationFact(SurveyFact):
    """A fact for one invited alliance, with its personal link (a credential)."""

    invitation_id: str
    alliance_id: str
    link: str = Field(description="The personal answer link; never log or republish it")
    closes_at: datetime


class InvitationIssued(InvitationFact):
    """An alliance was invited to answer a survey."""

    intro: str = ""


class InvitationReminded(InvitationFact):
    """An alliance that has not submitted yet is reminded, `days_before` closing."""

    days_before: int = Field(ge=0)


class InvitationAnswered(InvitationFact):
    """An alliance submitted its response: the receipt (the link lets it change it)."""

    submitted_at: datetime
    replaced: bool


SURVEYS_EVENTS = (
    EventDefinition(SURVEY_OPENED, SURVEYS_SURVEY, SurveyOpened, "A survey opened."),
    EventDefinition(SURVEY_CLOSED, SURVEYS_SURVEY, SurveyClosed, "A survey closed."),
    EventDefinition(
        SURVEY_RESULTS_PUBLISHED,
        SURVEYS_SURVEY,
        SurveyResultsPublished,
        "A closed survey's results were published.",
    ),
    EventDefinition(
        RESPONSE_SUBMITTED,
        SURVEYS_RESPONSE,
        ResponseSubmitted,
        "An alliance submitted its response (no answers).",
    ),
    EventDefinition(
        INVITATION_ISSUED,
        SURVEYS_INVITATION,
        InvitationIssued,
        "An alliance was invited (internal topic: carries the personal link).",
        personal_data=True,
    ),
    EventDefinition(
        INVITATION_REMINDED,
        SURVEYS_INVITATION,
        InvitationReminded,
        "A non-responding alliance is reminded (internal topic: carries the personal link).",
        personal_data=True,
    ),
    EventDefinition(
        INVITATION_ANSWERED,
        SURVEYS_INVITATION,
        InvitationAnswered,
        "Receipt of a submitted response (internal topic: carries the personal link).",
        personal_data=True,
    ),
)
