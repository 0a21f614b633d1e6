"""Response models of part 2: year over year, the public summary, response rates."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from lobu.surveys.schemas import ResultsFilter


class ComparedQuestion(BaseModel):
    """One question the years share: each option's share of respondents, year by year."""

    text: str
    type: str
    options: dict[str, dict[str, float | None]] = Field(
        description="code → year → share of respondents; null where the year lacks the option "
        "or its slice is suppressed"
    )
    labels: dict[str, str] = Field(description="code → label (of the latest year)")
    missing: dict[str, list[str]] = Field(
        description="code → the years that did not offer the option (only such codes)"
    )


class ComparedYear(BaseModel):
    """Which survey stands for a year, and how many answered it."""

    survey_id: str
    title: str
    respondents: int | None
    suppressed: bool


class Comparison(BaseModel):
    """Shares of respondents side by side for the questions (keys) the years share."""

    years: list[str]
    filters: ResultsFilter
    surveys: dict[str, ComparedYear]
    questions: dict[str, ComparedQuestion]


class PublicOption(BaseModel):
    """An option's count and share of respondents."""

    label: str
    count: int
    share: float


class PublicQuestion(BaseModel):
    """A question's results as published: no free text, no single alliance's number."""

    text: str
    type: str
    answered: int
    share_answered: float
    options: dict[str, PublicOption] | None = None
    mean: float | None = None
    median: float | None = None
    q1: float | None = None
    q3: float | None = None


class PublicResults(BaseModel):
    """The published summary of a closed survey, of Germany or of one Land."""

    survey_id: str
    year: int
    title: str
    published_at: datetime
    state: str | None = Field(description="The Land of the slice; null for all of Germany")
    threshold: int
    suppressed: bool
    invited: int
    respondents: int | None = None
    response_rate: float | None = None
    questions: dict[str, PublicQuestion] | None = None


class StateRate(BaseModel):
    """Invited alliances of a Land and how many of them have submitted."""

    state: str
    name: str
    invited: int
    respondents: int
    response_rate: float | None


class ResponseRates(BaseModel):
    """The response rate of a survey, in all and by Land (admins, while it runs)."""

    survey_id: str
    survey_state: str
    invited: int
    respondents: int
    response_rate: float | None
    by_state: list[StateRate]
