"""The version an `If-Match` header names, read the same way by every service.

Clients copy the ETag back as they got it (`"3"`, `W/"3"` or a bare `3`); `*` means
any version. Only ASCII digits count: `str.isdigit()` passes "²" (which `int()` then
refuses: a 500) and "١" (which `int()` reads as 1), and 18 digits bound the number.
"""

from __future__ import annotations

import re

_VERSION = re.compile(r"[0-9]{1,18}", re.ASCII)


class NoVersionNamedError(ValueError):
    """The header is not `*` and names no version; the service says so in its words."""


def version_named_by(if_match: str) -> int | None:
    """The version `if_match` names, None for `*`; NoVersionNamedError otherwise."""
    value = if_match.strip()
    if value == "*":
        return None
    value = value.removeprefix("W/").strip('"')
    if not _VERSION.fullmatch(value):
        raise NoVersionNamedError(if_match)
    return int(value)
