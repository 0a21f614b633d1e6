"""The surveys service's domain errors, each with a stable code and HTTP status."""

from __future__ import annotations

from lobu.shared import LobuError


class SurveyError(LobuError):
    """Root of the surveys service's errors."""


class SurveyNotFoundError(SurveyError):
    """No survey has that id."""

    code = "survey_not_found"
    status = 404
    title = "Survey not found"


class InvitationNotFoundError(SurveyError):
    """The token names no invitation (wrong, mistyped or made up)."""

    code = "invitation_not_found"
    status = 404
    title = "Invitation not found"


class SurveyStateError(SurveyError):
    """The survey is not in a state that allows this (e.g. editing questions once open)."""

    code = "survey_state_conflict"
    status = 409
    title = "Conflict"


class InvalidSurveyError(SurveyError):
    """The questionnaire breaks a rule the schema cannot express (keys, skip logic)."""

    code = "invalid_survey"
    status = 422
    title = "Invalid survey"


class InvalidAnswersError(SurveyError):
    """Answers that do not fit their questions; `errors` names each field."""

    code = "invalid_answers"
    status = 422
    title = "Invalid answers"


class SurveyClosedError(SurveyError):
    """The survey takes no more answers."""

    code = "survey_closed"
    status = 410
    title = "Survey closed"


class NotYourInvitationError(SurveyError):
    """An alliance's token came with another alliance's personal link."""

    code = "not_your_invitation"
    status = 403
    title = "Forbidden"


class StaleVersionError(SurveyError):
    """The client edited an older version of the survey than the current one."""

    code = "stale_version"
    status = 412
    title = "Precondition failed"


class VersionRequiredError(SurveyError):
    """An edit came without If-Match."""

    code = "if_match_required"
    status = 428
    title = "Precondition required"
