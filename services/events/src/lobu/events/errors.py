"""The events service's domain errors, each with a stable code and HTTP status."""

from __future__ import annotations

from lobu.shared import LobuError


class EventsError(LobuError):
    """Root of the events service's errors."""


class EditionNotFoundError(EventsError):
    """No edition for that year."""

    code = "edition_not_found"
    status = 404
    title = "Edition not found"


class EditionExistsError(EventsError):
    """There is already an edition for that year."""

    code = "edition_exists"
    status = 409
    title = "Conflict"


class ActionNotFoundError(EventsError):
    """No action has that id (or the caller may not see it)."""

    code = "action_not_found"
    status = 404
    title = "Action not found"


class AllianceUnknownError(EventsError):
    """The alliance is not (or no longer) in the directory's replica."""

    code = "alliance_unknown"
    status = 422
    title = "Unknown alliance"


class NotAllowedError(EventsError):
    """The caller may not do this to this action."""

    code = "not_allowed"
    status = 403
    title = "Forbidden"


class EntryClosedError(EventsError):
    """Outside the edition's entry window coordinators cannot enter or change actions."""

    code = "entry_closed"
    status = 409
    title = "Entry window closed"


class InvalidTransitionError(EventsError):
    """The action's state does not allow this step (e.g. publishing a draft)."""

    code = "invalid_transition"
    status = 409
    title = "Conflict"


class StaleVersionError(EventsError):
    """The client edited an older version of the action than the current one."""

    code = "stale_version"
    status = 412
    title = "Precondition failed"


class CapacityConflictError(EventsError):
    """The capacity would fall below the seats already given."""

    code = "capacity_below_confirmed"
    status = 409
    title = "Conflict"


class RegistrationClosedError(EventsError):
    """The action takes no registrations (not published, needs none, or is over)."""

    code = "registration_closed"
    status = 409
    title = "Registration closed"


class TooManySeatsError(EventsError):
    """A request for more seats than one registration may take."""

    code = "too_many_seats"
    status = 422
    title = "Too many seats"


class RegistrationNotFoundError(EventsError):
    """No registration with that id and token."""

    code = "registration_not_found"
    status = 404
    title = "Registration not found"


class InvalidQueryError(EventsError):
    """A programme filter that cannot be understood."""

    code = "invalid_query"
    status = 422
    title = "Invalid query"


class InvalidActionError(EventsError):
    """The action's values, once merged with a change, do not fit together."""

    code = "invalid_action"
    status = 422
    title = "Invalid action"
