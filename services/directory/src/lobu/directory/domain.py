"""Rules about alliances that need no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lobu.directory.errors import StaleVersionError, VersionRequiredError
from lobu.shared.versions import NoVersionNamedError, version_named_by

# Personal data: changes to these never appear in public events or responses.
PRIVATE_FIELDS = frozenset({"contacts"})
# The versions our ETags name: ASCII digits of a BIGINT. str.isdigit() and int() also
# take "²" (which int() then refuses with a 500) and "١" (which int() reads as 1).


def without_duplicates(values: list[Any]) -> list[Any]:
    """`values` in their order, each once."""
    kept: list[Any] = []
    for value in values:
        if value not in kept:
            kept.append(value)
    return kept


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Names of the fields whose value differs, in a stable order."""
    return sorted(name for name in after if before.get(name) != after[name])


def parse_if_match(header: str | None) -> int | None:
    """The version an If-Match header names; None for `*` (any version).

    Accepts `"3"`, `W/"3"` and a bare `3`, since clients copy the ETag back as they got it.
    """
    if header is None or not header.strip():
        raise VersionRequiredError(
            "Send the alliance's ETag in If-Match, so that edits made meanwhile are not "
            "overwritten (GET the alliance first)."
        )
    try:
        return version_named_by(header)
    except NoVersionNamedError:
        shown = header if len(header) <= 40 else f"{header[:40]}…"
        raise StaleVersionError(
            f"If-Match {shown!r} names no version of this alliance: send back the ETag "
            'of the last GET, e.g. If-Match: "3".'
        ) from None


def check_version(*, expected: int | None, current: int) -> None:
    """Refuse an edit of a version that is no longer current."""
    if expected is not None and expected != current:
        raise StaleVersionError(
            f"The alliance has changed since you loaded it (you edited version {expected}, "
            f"the current version is {current}). Load it again and repeat your change.",
            current_version=current,
        )


def etag(version: int) -> str:
    """The strong ETag of a version."""
    return f'"{version}"'
