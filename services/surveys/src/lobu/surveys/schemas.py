"""HTTP request and response models of the surveys service."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from lobu.shared import as_utc

Key = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,59}$"),
    Field(description="Stable across years: links the same question in every year's survey"),
]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,59}$")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Year = Annotated[int, Field(ge=2000, le=2100)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Intro = Annotated[str, StringConstraints(max_length=5000)]
Moment = Annotated[AwareDatetime, AfterValidator(as_utc)]
ReminderDays = Annotated[list[Annotated[int, Field(ge=1, le=365)]], Field(max_length=10)]


class QuestionType(StrEnum):
    """The kinds of question a survey can ask."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    LIKERT = "likert"
    NUMBER = "number"
    TEXT = "text"


CHOICE_TYPES = frozenset({QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.LIKERT})


class Strict(BaseModel):
    """Request models refuse fields they do not know (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid")


class OptionSpec(Strict):
    """One answer option; Likert options are the scale's labels, best first."""

    code: Code
    label: Label


class ShowIf(Strict):
    """Skip logic: show the question only when an earlier answer is one of `any_of`."""

    question: Key
    any_of: Annotated[list[Code], Field(min_length=1, max_length=50)]


class QuestionSpec(Strict):
    """A question of a survey."""

    key: Key
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
    help: Annotated[str, StringConstraints(max_length=1000)] = ""
    type: QuestionType
    options: Annotated[list[OptionSpec], Field(max_length=100)] = Field(default_factory=list)
    required: bool = False
    max_choices: Annotated[int, Field(ge=1, le=100)] | None = Field(
        default=None, description="multiple: at most this many options, e.g. 3"
    )
    min: float | None = Field(default=None, description="number: the smallest allowed value")
    max: float | None = Field(default=None, description="number: the largest allowed value")
    integer: bool = Field(default=False, description="number: whole numbers only")
    max_length: Annotated[int, Field(ge=1, le=20000)] = Field(
        default=2000, description="text: at most this many characters"
    )
    show_if: ShowIf | None = None

    @model_validator(mode="after")
    def options_fit_the_type(self) -> Self:
        """Choice questions need options (with distinct codes); others take none."""
        codes = [option.code for option in self.options]
        if self.type in CHOICE_TYPES:
            if len(self.options) < 2:
                raise ValueError(f"a {self.type.value} question needs at least two options")
            if len(set(codes)) != len(codes):
                raise ValueError("option codes must be distinct")
        elif self.options:
            raise ValueError(f"a {self.type.value} question takes no options")
        if self.max_choices is not None and self.type is not QuestionType.MULTIPLE:
            raise ValueError("max_choices applies to multiple choice only")
        if self.max_choices is not None and self.max_choices > len(self.options):
            raise ValueError("max_choices exceeds the number of options")
        if (self.min is not None or self.max is not None) and self.type is not QuestionType.NUMBER:
            raise ValueError("min and max apply to number questions only")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


Questions = Annotated[list[QuestionSpec], Field(min_length=1, max_length=200)]


class SurveyCreate(Strict):
    """A new survey (a draft)."""

    year: Year
    title: Title
    intro: Intro = ""
    opens_at: Moment | None = Field(default=None, description="Opens by itself at this time")
    closes_at: Moment
    reminder_days: ReminderDays | None = Field(
        default=None, description="Days before closing to remind non-responders (e.g. [14, 3])"
    )
    questions: Questions


class SurveyUpdate(Strict):
    """A change to a survey: any field of a draft; once open only `closes_at`."""

    year: Year | None = None
    title: Title | None = None
    intro: Intro | None = None
    opens_at: Moment | None = None
    closes_at: Moment | None = None
    reminder_days: ReminderDays | None = None
    questions: Questions | None = None


class SurveyCopy(Strict):
    """A new draft with the questions of an existing survey."""

    year: Year
    title: Title | None = Field(
        default=None, description="When omitted, the old title with its year made the new one"
    )
    opens_at: Moment | None = None
    closes_at: Moment


class SurveySummary(BaseModel):
    """A survey in the list."""

    id: str
    year: int
    title: str
    state: str
    opens_at: datetime | None
    closes_at: datetime
    version: int


class SurveyPublic(SurveySummary):
    """A survey with its questions (admins)."""

    intro: str
    reminder_days: list[int]
    questions: list[QuestionSpec]
    opened_at: datetime | None
    closed_at: datetime | None
    results_published_at: datetime | None
    copied_from: str | None
    invited: int
    respondents: int


class SurveyPage(BaseModel):
    """A page of surveys, newest year first."""

    items: list[SurveySummary]
    next_cursor: str | None


class AnswersSubmission(Strict):
    """Answers by question key; `submit` makes them the final response."""

    answers: Annotated[dict[str, Any], Field(max_length=200)]
    submit: bool = False


class AnswerState(StrEnum):
    """Whether the alliance's answers are a draft or its submitted response."""

    DRAFT = "draft"
    SUBMITTED = "submitted"


class AnswersView(BaseModel):
    """What the alliance has saved, and whether it has submitted."""

    survey_id: str
    alliance_id: str
    title: str
    closes_at: datetime
    state: AnswerState
    draft: dict[str, Any]
    answers: dict[str, Any] | None
    submitted_at: datetime | None


class AnswersForm(AnswersView):
    """The questionnaire with what the alliance has saved (GET /answers/{token})."""

    intro: str
    questions: list[QuestionSpec]


class ResultsFilter(BaseModel):
    """The slice the results are for."""

    state: str | None = None
    topic: str | None = None
    award: str | None = None


class Results(BaseModel):
    """Aggregated results of a survey, or `suppressed` with no counts for a small slice."""

    model_config = ConfigDict(extra="allow")

    survey_id: str
    year: int
    filters: ResultsFilter
    threshold: int
    invited: int
    suppressed: bool
    respondents: int | None = None
    response_rate: float | None = None
    questions: dict[str, Any] | None = None
