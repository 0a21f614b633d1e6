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


class FieldNotEditableError(DirectoryError):
    """A coordinator tried to change what only the Servicebüro may change."""

    code = "field_not_editable"
    status = 403
    title = "Forbidden"


class SlugTakenError(DirectoryError):
    """Another alliance already has that slug."""

    code = "slug_taken"
    status = 409
    title = "Conflict"


class InvalidImportFileError(DirectoryError):
    """The uploaded file is not an alliance CSV at all (encoding, header)."""

    code = "invalid_import_file"
    status = 422
    title = "Invalid import file"


class ImportRejectedError(DirectoryError):
    """Rows of the file are invalid; nothing was imported."""

    code = "import_rejected"
    status = 422
    title = "Import rejected"


class InvalidSearchError(DirectoryError):
    """A search parameter that cannot be understood."""

    code = "invalid_search"
    status = 422
    title = "Invalid search"


class ContactRateLimitedError(DirectoryError):
    """Too many contact messages from one client or to one alliance in the window."""

    code = "contact_rate_limited"
    status = 429

    def __init__(self, limited: str) -> None:
        super().__init__(f"too many contact messages for this {limited}")
        self.limited = limited  # "client" or "alliance"
