"""Query parameters several routes share: the slice of the results."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from lobu.shared.contracts.vocabulary import AWARDS, STATES, TOPICS
from lobu.surveys.errors import InvalidSurveyError
from lobu.surveys.schemas import ResultsFilter


def _choice(name: str, value: str | None, allowed: dict[str, str]) -> str | None:
    if value is not None and value not in allowed:
        raise InvalidSurveyError(f"{name}={value!r} is unknown; use one of {sorted(allowed)}.")
    return value


def results_filter(
    state: Annotated[str | None, Query(max_length=2, description="Land, e.g. NW")] = None,
    topic: Annotated[str | None, Query(max_length=60, description="Field of action")] = None,
    award: Annotated[str | None, Query(max_length=60, description="Award code")] = None,
) -> ResultsFilter:
    """The slice by Land, field of action and award (an empty parameter means all)."""
    return ResultsFilter(
        state=_choice("state", state or None, STATES),
        topic=_choice("topic", topic or None, TOPICS),
        award=_choice("award", award or None, AWARDS),
    )


def land_filter(
    state: Annotated[str | None, Query(max_length=2, description="Land, e.g. NW")] = None,
) -> str | None:
    """A Land only: the public summary has no finer slices."""
    return _choice("state", state or None, STATES)


Filters = Annotated[ResultsFilter, Depends(results_filter)]
Land = Annotated[str | None, Depends(land_filter)]
