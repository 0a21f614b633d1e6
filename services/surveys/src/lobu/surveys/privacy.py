"""What the surveys service holds of an address, and its erasure (lobu.shared.privacy).

Surveys address alliances, not people: invitations name an alliance and their links
are stored only hashed. A person's address appears here only where someone wrote it
into a free-text answer (a draft or a submitted response). Access lists those answers;
erasure replaces the address in them, leaving the rest of the answer (the alliance's,
not the person's) in place.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from lobu.shared.privacy import ErasedCounts, FoundRecords
from lobu.surveys.models import Response

ERASED_TEXT = "[gelöscht]"


class SurveysPersonalData:
    """The surveys service's `PersonalDataHandler`: free-text answers naming the address."""

    async def find(self, session: AsyncSession, email: str) -> FoundRecords:
        """The answers (per question) that contain the address."""
        records = []
        for response in await _responses_with(session, email):
            for part, values in (("draft", response.draft), ("answers", response.answers)):
                mentions = {
                    question: value
                    for question, value in (values or {}).items()
                    if email in str(value).lower()
                }
                if mentions:
                    records.append(
                        {
                            "survey_id": response.survey_id,
                            "alliance_id": response.alliance_id,
                            "part": part,
                            "answers": mentions,
                        }
                    )
        return {"survey_answers": records}

    async def erase(self, session: AsyncSession, email: str) -> ErasedCounts:
        """Replace the address in every answer that contains it."""
        changed = 0
        for response in await _responses_with(session, email):
            response.draft = _scrubbed(response.draft, email)
            if response.answers is not None:
                response.answers = _scrubbed(response.answers, email)
            changed += 1
        await session.flush()
        return {"survey_answers": changed}


async def _responses_with(session: AsyncSession, email: str) -> list[Response]:
    rows = await session.scalars(
        select(Response)
        .where(
            or_(
                func.lower(cast(col(Response.draft), Text)).contains(email, autoescape=True),
                func.lower(cast(col(Response.answers), Text)).contains(email, autoescape=True),
            )
        )
        .with_for_update()
    )
    return list(rows)


def _scrubbed(value: Any, email: str) -> Any:
    """`value` (JSON) with the address replaced in every string, in any case."""
    if isinstance(value, str):
        lowered, parts, start = value.lower(), [], 0
        while (found := lowered.find(email, start)) >= 0:
            parts += [value[start:found], ERASED_TEXT]
            start = found + len(email)
        return "".join([*parts, value[start:]])
    if isinstance(value, list):
        return [_scrubbed(item, email) for item in value]
    if isinstance(value, dict):
        return {key: _scrubbed(item, email) for key, item in value.items()}
    return value
