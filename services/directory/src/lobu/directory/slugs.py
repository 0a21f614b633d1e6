"""URL names of alliances: `lokales-buendnis-fuer-familie-goslar`."""

from __future__ import annotations

from collections.abc import Container

from lobu.shared.text_search import normalise


def slug_of(name: str) -> str:
    """The slug a name suggests (at most 100 characters, words kept whole)."""
    words = normalise(name).split()
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > 100:
            break
        slug = candidate
    return slug or "buendnis"


def unique_slug(name: str, taken: Container[str]) -> str:
    """`slug_of(name)`, with `-2`, `-3`, ... appended while that is taken."""
    base = slug_of(name)
    slug, number = base, 1
    while slug in taken:
        number += 1
        slug = f"{base}-{number}"
    return slug
