"""The directory's domain errors, each with a stable code and HTTP status."""

from __future__ import annotations

from lobu.shared import LobuError


class DirectoryError(LobuError):
    """Root of the directory's errors."""


class AllianceNotFoundError(DirectoryError):
    """No alliance has that id."""

    code = "alliance_not_found"
    status = 404
    title = "Alliance not found"


class StaleVersionError(DirectoryError):
    """The client edited an older version than the current one."""

    code = "stale_version"
    status = 412
    title = "Precondition failed"


class VersionRequiredError(DirectoryError):
    """An edit came without If-Match."""

    code = "if_match_required"
    status = 428
    title = "Precondition required"


class InvalidCursorError(DirectoryError):
    """A list cursor that this service did not hand out."""

    code = "invalid_cursor"
    status = 422
    title = "Invalid cursor"
