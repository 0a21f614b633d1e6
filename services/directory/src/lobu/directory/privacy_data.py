"""What the directory holds of an address, and its erasure (lobu.shared.privacy).

Personal data here: alliance contacts. Erasing a contact is an edit of its alliance
like any other (a new version, `alliance.updated` and the contacts' new list on the
compacted contacts topic, so replicas follow and compaction drops the old list); the
alliance stays. Earlier access exports of the same address go too, and so do the
address's sign-in links and its entries in the sign-in audit (found by keyed hash).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from lobu.directory.contact_lookup import alliances_with_contact, is_contact
from lobu.directory.privacy_models import PrivacyAnswer, PrivacyRequest
from lobu.directory.service import AllianceDirectory
from lobu.directory.sign_in_models import SignInAuditEntry, SignInLink
from lobu.shared import Caller, Role
from lobu.shared.privacy import AddressHasher, ErasedCounts, FoundRecords

# Who the alliances' audit names for an erasure's edits.
PRIVACY_ACTOR = Caller(subject="datenschutz-loeschung", role=Role.ADMIN)


class DirectoryPersonalData:
    """The directory's `PersonalDataHandler`: contacts of alliances."""

    def __init__(self, directory: AllianceDirectory, hasher: AddressHasher) -> None:
        self._directory = directory
        self._hasher = hasher

    async def find(self, session: AsyncSession, email: str) -> FoundRecords:
        """Every contact entry with the address, with its alliance."""
        records: list[dict[str, Any]] = []
        for alliance in await alliances_with_contact(session, email, for_update=True):
            for contact in alliance.contacts:
                if is_contact(contact, email):
                    records.append(
                        {"alliance_id": alliance.id, "alliance_name": alliance.name, **contact}
                    )
        sign_ins = await _sign_ins_of(session, self._hasher.hash(email))
        return {"contacts": records, "sign_ins": sign_ins}

    async def erase(self, session: AsyncSession, email: str) -> ErasedCounts:
        """Remove the address from every alliance's contacts; forget earlier exports."""
        removed = 0
        for alliance in await alliances_with_contact(session, email, for_update=True):
            kept = [contact for contact in alliance.contacts if not is_contact(contact, email)]
            if len(kept) == len(alliance.contacts):
                continue
            removed += len(alliance.contacts) - len(kept)
            await self._directory.update_in(
                session, alliance, {"contacts": kept}, actor=PRIVACY_ACTOR
            )
        exports = await session.execute(
            update(PrivacyAnswer)
            .where(
                col(PrivacyAnswer.export).is_not(None),
                col(PrivacyAnswer.request_id).in_(
                    select(col(PrivacyRequest.id)).where(
                        col(PrivacyRequest.address_hash) == self._hasher.hash(email)
                    )
                ),
            )
            .values(export=null())
            .execution_options(synchronize_session=False)
        )
        links = await session.execute(
            delete(SignInLink)
            .where(col(SignInLink.email) == email)
            .execution_options(synchronize_session=False)
        )
        audit = await session.execute(
            delete(SignInAuditEntry)
            .where(col(SignInAuditEntry.address_hash) == self._hasher.hash(email))
            .execution_options(synchronize_session=False)
        )
        return {
            "contacts": removed,
            "access_exports": int(getattr(exports, "rowcount", 0) or 0),
            "sign_in_links": int(getattr(links, "rowcount", 0) or 0),
            "sign_in_audit": int(getattr(audit, "rowcount", 0) or 0),
        }


async def _sign_ins_of(session: AsyncSession, address_hash: str) -> list[dict[str, Any]]:
    """When the address signed in, asked for links or signed out (the audit's entries)."""
    entries = await session.scalars(
        select(SignInAuditEntry)
        .where(col(SignInAuditEntry.address_hash) == address_hash)
        .order_by(col(SignInAuditEntry.id))
    )
    return [
        {"at": entry.at.isoformat(), "action": entry.action, "role": entry.role,
         "alliance_id": entry.alliance_id}
        for entry in entries
    ]  # fmt: skip
