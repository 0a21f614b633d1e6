"""The one routing table: which event type becomes which mail, to whom, in which category.

Every fact of the platform that turns into messages for people has a row here. The
handlers in service.py find the rows for an event and resolve the recipients; the
templates live in `templates/mail/<template>.{subject.txt,txt,html}`.

Recipients come in three kinds. Alliance contacts come from the replica of the
directory's contacts topic (the welcome, and the survey mails of `surveys.invitation`).
The Servicebüro is one configured address (`LOBU_NOTIFICATIONS_SERVICEBUERO_ADDRESS`).
Event participants are named by the registration fact itself (`events.registration`:
its `email` and `name`); whoever asks for a sign-in link by the request
(`directory.sign-in-link`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lobu.notifications.wording import alliance_named
from lobu.shared.contracts.directory import (
    ALLIANCE_CREATED,
    ALLIANCE_DELETED,
    CONTACT_MESSAGE_SUBMITTED,
    SIGN_IN_LINK_REQUESTED,
)
from lobu.shared.contracts.events import (
    REGISTRATION_CANCELLED,
    REGISTRATION_CONFIRMED,
    REGISTRATION_PROMOTED,
    REGISTRATION_REMINDED,
    REGISTRATION_WAITLISTED,
    REGISTRATIONS_LISTED,
)
from lobu.shared.contracts.surveys import (
    INVITATION_ANSWERED,
    INVITATION_ISSUED,
    INVITATION_REMINDED,
)


class RecipientKind(StrEnum):
    """Where a route's recipients come from."""

    ALLIANCE_CONTACTS = "alliance_contacts"
    EVENT_PARTICIPANTS = "event_participants"  # named by the registration fact
    SERVICEBUERO = "servicebuero"
    SIGN_IN_REQUESTERS = "sign_in_requesters"  # named by the sign-in request itself


class Category(StrEnum):
    """What recipients opt out of (or bundle into a daily digest), one category at a time."""

    TRANSACTIONAL = "transactional"  # always sent: welcome, confirmations, receipts, sign-in
    DIRECTORY_CHANGES = "directory_changes"
    EVENT_REMINDERS = "event_reminders"
    SURVEY_INVITATIONS = "survey_invitations"
    SURVEY_REMINDERS = "survey_reminders"


# What the preferences page and the digest call each category.
CATEGORY_TITLES: dict[Category, str] = {
    Category.TRANSACTIONAL: "Bestätigungen und Willkommensnachrichten",
    Category.DIRECTORY_CHANGES: "Änderungen in der Adressdatenbank",
    Category.EVENT_REMINDERS: "Erinnerungen an Veranstaltungen",
    Category.SURVEY_INVITATIONS: "Einladungen zu Umfragen",
    Category.SURVEY_REMINDERS: "Erinnerungen an Umfragen",
}

# Why a recipient of each kind gets mail: the footer of every message says so.
REASONS: dict[RecipientKind, str] = {
    RecipientKind.ALLIANCE_CONTACTS: (
        "Sie erhalten diese Nachricht, weil Sie als Ansprechperson{role} für {alliance} "
        "eingetragen wurden."
    ),
    RecipientKind.EVENT_PARTICIPANTS: (
        "Sie erhalten diese Nachricht, weil Sie sich zu einer Veranstaltung angemeldet haben."
    ),
    RecipientKind.SERVICEBUERO: (
        "Sie erhalten diese Nachricht als Postfach des Servicebüros Lokale Bündnisse für "
        "Familie, das über Änderungen in der Adressdatenbank informiert wird."
    ),
    RecipientKind.SIGN_IN_REQUESTERS: (
        "Sie erhalten diese Nachricht, weil für Ihre E-Mail-Adresse ein Anmeldelink "
        "angefordert wurde."
    ),
}


def reason_for(recipients: RecipientKind, values: Mapping[str, Any]) -> str:
    """The footer's sentence for a kind of recipient; `alliance` named as wording.py says."""
    alliance = alliance_named(str(values.get("alliance_name", "")))
    return REASONS[recipients].format(**{"alliance": alliance, **values})


@dataclass(frozen=True)
class Route:
    """One row of the table: an event type, its template, its recipients, its category."""

    event_type: str
    template: str
    recipients: RecipientKind
    category: Category
    # Whether a daily digest may bundle it (and what one line of the digest says).
    digest_summary: str | None = None

    @property
    def transactional(self) -> bool:
        """Transactional mail is always sent: no preference suppresses or bundles it."""
        return self.category is Category.TRANSACTIONAL


ROUTES: tuple[Route, ...] = (
    # The welcome to the contacts of a newly entered alliance; joined with the contacts.
    Route(ALLIANCE_CREATED, "welcome", RecipientKind.ALLIANCE_CONTACTS, Category.TRANSACTIONAL),
    Route(
        ALLIANCE_CREATED,
        "alliance_entered",
        RecipientKind.SERVICEBUERO,
        Category.DIRECTORY_CHANGES,
        digest_summary="Neu eingetragen: {alliance_name} ({city})",
    ),
    Route(
        ALLIANCE_DELETED,
        "alliance_removed",
        RecipientKind.SERVICEBUERO,
        Category.DIRECTORY_CHANGES,
        digest_summary="Ausgetragen: {alliance_name} ({city})",
    ),
    # Survey mails to the invited alliance's contacts, each with its personal link;
    # held until the alliance and its contacts are known (service.SurveyReactions).
    Route(
        INVITATION_ISSUED,
        "survey_invitation",
        RecipientKind.ALLIANCE_CONTACTS,
        Category.SURVEY_INVITATIONS,
    ),
    Route(
        INVITATION_REMINDED,
        "survey_reminder",
        RecipientKind.ALLIANCE_CONTACTS,
        Category.SURVEY_REMINDERS,
    ),
    Route(
        INVITATION_ANSWERED,
        "survey_receipt",
        RecipientKind.ALLIANCE_CONTACTS,
        Category.TRANSACTIONAL,
    ),
    # A citizen's message from the alliance's page, Reply-To the sender (contact_mails.py).
    Route(
        CONTACT_MESSAGE_SUBMITTED,
        "contact_message",
        RecipientKind.ALLIANCE_CONTACTS,
        Category.TRANSACTIONAL,
    ),
    # A one-time sign-in link, to the address that asked for it (sign_in_mails.py).
    Route(
        SIGN_IN_LINK_REQUESTED,
        "sign_in_link",
        RecipientKind.SIGN_IN_REQUESTERS,
        Category.TRANSACTIONAL,
    ),
    # Aktionstag registrations: to the participant, always (they asked for them).
    Route(
        REGISTRATION_CONFIRMED,
        "registration_confirmed",
        RecipientKind.EVENT_PARTICIPANTS,
        Category.TRANSACTIONAL,
    ),
    Route(
        REGISTRATION_WAITLISTED,
        "registration_waitlisted",
        RecipientKind.EVENT_PARTICIPANTS,
        Category.TRANSACTIONAL,
    ),
    Route(
        REGISTRATION_PROMOTED,
        "registration_promoted",
        RecipientKind.EVENT_PARTICIPANTS,
        Category.TRANSACTIONAL,
    ),
    Route(
        REGISTRATION_CANCELLED,
        "registration_cancelled",
        RecipientKind.EVENT_PARTICIPANTS,
        Category.TRANSACTIONAL,
    ),
    # The day before the action: a reminder to each confirmed participant, and the list
    # of who is coming to the alliance's contacts (both may be switched off).
    Route(
        REGISTRATION_REMINDED,
        "registration_reminder",
        RecipientKind.EVENT_PARTICIPANTS,
        Category.EVENT_REMINDERS,
    ),
    Route(
        REGISTRATIONS_LISTED,
        "registration_roster",
        RecipientKind.ALLIANCE_CONTACTS,
        Category.EVENT_REMINDERS,
    ),
)


def digest_categories() -> frozenset[Category]:
    """The categories a daily digest can bundle: those with a route that says how.

    Only these offer the digest on the preference page; a category without one (a
    survey invitation with its personal link, a reminder that must come on its day)
    is sent at once.
    """
    return frozenset(route.category for route in ROUTES if route.digest_summary)


def routes_for(event_type: str, recipients: RecipientKind | None = None) -> list[Route]:
    """The table's rows for `event_type` (and, if given, for one kind of recipient)."""
    return [
        route
        for route in ROUTES
        if route.event_type == event_type and (recipients is None or route.recipients is recipients)
    ]


def _check_table() -> None:
    # Two routes for the same (event type, recipient kind) would send a recipient the
    # same fact twice; the unique (event, recipient, channel) would then drop one.
    seen: set[tuple[str, RecipientKind]] = set()
    for route in ROUTES:
        pair = (route.event_type, route.recipients)
        if pair in seen:
            raise ValueError(f"two routes for {pair}: one mail per event and recipient")
        if route.transactional and route.digest_summary:
            raise ValueError(f"{route.template}: transactional mail is never bundled")
        seen.add(pair)


_check_table()
