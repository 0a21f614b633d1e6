"""German-aware text for search: the same spelling on both sides of a match.

"Lüneburg", "Lueneburg" and "LÜNEBURG" all become "lueneburg"; "Straße" becomes
"strasse". A service stores the normalised text of what is searchable and normalises
every query the same way, so a match works alike on PostgreSQL and SQLite.
"""

from __future__ import annotations

import re
import unicodedata

_SPELLED_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """Lower case, umlauts spelt out, other accents dropped, words separated by one space."""
    spelled = text.casefold().translate(_SPELLED_OUT)
    without_accents = "".join(
        char for char in unicodedata.normalize("NFKD", spelled) if not unicodedata.combining(char)
    )
    return _NOT_WORD.sub(" ", without_accents).strip()


def query_tokens(query: str, *, limit: int = 8) -> list[str]:
    """The words of a search query, normalised; at most `limit` of them."""
    return normalise(query).split()[:limit]


def search_text_of(*parts: str | None) -> str:
    """The stored search text of a record's searchable fields."""
    return normalise(" ".join(part for part in parts if part))
