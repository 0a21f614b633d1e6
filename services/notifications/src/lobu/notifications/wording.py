"""How mails name an alliance: once, whatever its name already says (no I/O).

Most alliances are called "Lokales Bündnis für Familie <Ort>"; writing "das Lokale
Bündnis für Familie „Lokales Bündnis für Familie Goslar“ in Goslar" names it twice and
the town three times. A name that already says "Bündnis" stands alone in quotes; a
short one ("Familie Nordstadt") gets the network's name before it; the town follows
only when the name does not contain it.
"""

from __future__ import annotations


def alliance_named(name: str) -> str:
    """`„Lokales Bündnis für Familie Goslar“`, or `das Lokale Bündnis für Familie „X“`."""
    if "bündnis" in name.casefold() or "buendnis" in name.casefold():
        return f"„{name}“"
    return f"das Lokale Bündnis für Familie „{name}“"


def alliance_named_in(name: str, city: str) -> str:
    """`alliance_named(name)`, with `in <city>` unless the name already holds the town."""
    named = alliance_named(name)
    if not city or city.casefold() in name.casefold():
        return named
    return f"{named} in {city}"
