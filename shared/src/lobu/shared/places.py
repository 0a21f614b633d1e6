"""An offline gazetteer of German places (GeoNames), for "near a place" and for coordinates.

Shared by the directory (Umkreissuche, approximate coordinates) and the events service
(the programme near a place); the data is `data/places.csv` beside this module.

Names are matched as people write them: umlauts or not (`Goettingen`, `Gottingen`),
"St." or "Sankt", "a. d." for "an der", brackets or slashes (`Frankfurt/Oder`). A
name several places share ("Neustadt") is not decided silently: `resolve` returns the
candidates with their Land, and "Name, Land" (or "Name (Land)") chooses one.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

from lobu.shared.contracts.vocabulary import STATES
from lobu.shared.geo import distance_km
from lobu.shared.text_search import normalise

# Abbreviations in place names, as words after `normalise` ("St. Ingbert" -> "st ingbert").
_WORDS = {"sankt": "st", "skt": "st", "i": "in", "b": "bei", "a": "am", "v": "vor", "d": "der"}
_PHRASES = (("am der", "an der"), ("am d ", "an der "))
# One place clearly bigger than every namesake (ten times) is what people mean by the name.
DOMINANCE = 10
SAME_TOWN_KM = 20.0


def place_key(text: str) -> str:
    """The matching key of a place name: normalised, abbreviations and umlauts unified."""
    words = [_WORDS.get(word, word) for word in normalise(text).split()]
    key = " ".join(words)
    for short, long in _PHRASES:
        key = key.replace(short, long)
    # GeoNames writes some names without umlauts ("Rubenberge"): compare without them.
    return re.sub(r"([aou])e", r"\1", key).replace("ss", "s")


@dataclass(frozen=True)
class Place:
    """A German place with its coordinates; population None where GeoNames gives none here."""

    name: str
    state: str
    latitude: float
    longitude: float
    population: int | None = None

    @property
    def label(self) -> str:
        """The name with its Land, as offered in a choice: "Neustadt in Sachsen, Sachsen"."""
        return f"{self.name}, {STATES[self.state]}"


@dataclass(frozen=True)
class PlaceMatch:
    """What a name means: one place (or None) and the namesakes to choose from."""

    place: Place | None
    alternatives: list[Place] = field(default_factory=list)

    @property
    def ambiguous(self) -> bool:
        """True when the name must be chosen among `alternatives` first."""
        return self.place is None and bool(self.alternatives)


def place_notice(text: str, match: PlaceMatch) -> str | None:
    """What the Umkreissuche tells a person about what they typed, in German; None if found.

    There is no offline source of German postcodes with a licence that allows shipping
    it, so a postcode is not looked up: the person is told to type the town instead.
    """
    typed = text.strip()
    if not typed or match.place is not None:
        return None
    if match.ambiguous:
        return f"Mehrere Orte heißen „{typed}“. Bitte wählen Sie einen aus:"
    if re.fullmatch(r"\d{4,5}", typed):
        return (
            f"„{typed}“ sieht aus wie eine Postleitzahl. Die Umkreissuche kennt keine "
            "Postleitzahlen: Bitte geben Sie den Namen des Ortes ein, z. B. „Goslar“."
        )
    return f"Den Ort „{typed}“ kennen wir nicht. Bitte prüfen Sie die Schreibweise."


def _state_of(qualifier: str) -> str | None:
    wanted = normalise(qualifier)
    for code, label in STATES.items():
        if wanted in (code.lower(), normalise(label)):
            return code
    return None


class Gazetteer:
    """Finds German places by name."""

    def __init__(self, places: list[Place]) -> None:
        self._by_key: dict[str, list[Place]] = {}
        for place in places:
            self._by_key.setdefault(place_key(place.name), []).append(place)

    @classmethod
    @cache
    def shipped(cls) -> Gazetteer:
        """The places in data/places.csv (GeoNames cities1000 and cities15000, CC BY 4.0)."""
        resource = files("lobu.shared") / "data" / "places.csv"
        if not resource.is_file():
            return cls([])
        reader = csv.DictReader(
            io.StringIO(resource.read_text(encoding="utf-8-sig")), delimiter=";"
        )
        return cls(
            [
                Place(
                    name=row["name"], state=row["land"], latitude=float(row["latitude"]),
                    longitude=float(row["longitude"]),
                    population=int(row["population"]) if row["population"] else None,
                )
                for row in reader
            ]
        )  # fmt: skip

    def candidates(self, name: str, *, state: str | None = None) -> list[Place]:
        """Places called `name` or whose name begins so ("Halle": "Halle (Saale)", ...)."""
        wanted = place_key(name)
        if not wanted:
            return []
        found = list(self._by_key.get(wanted, [])) + [
            place
            for key, places in self._by_key.items()
            if key.startswith(wanted + " ")
            for place in places
        ]
        if state:
            found = [place for place in found if place.state == state]
        return sorted(found, key=lambda place: (-(place.population or 0), place.name))

    def resolve(self, text: str) -> PlaceMatch:
        """What a person typed means: "Neustadt" (a choice), "Neustadt, Sachsen", "Goslar"."""
        name, state = text, None
        qualified = re.fullmatch(r"\s*(.+?)\s*(?:,\s*([^,]+)|\(([^()]+)\))\s*", text)
        if qualified:
            state = _state_of(qualified.group(2) or qualified.group(3))
            if state:
                name = qualified.group(1)
        found = self.candidates(name, state=state)
        if state is None and qualified and not found:
            found = self.candidates(text)
        if len(found) <= 1:
            return PlaceMatch(found[0] if found else None)
        exact = [place for place in found if place_key(place.name) == place_key(name)]
        first = found[0]
        if exact and (exact[0].population or 0) >= (first.population or 0):
            first = exact[0]  # "Hamburg" is Hamburg, not Hamburg-Nord
        # Districts of the same town ("Halle-Neustadt") are no rivals of the town.
        rivals = [
            place
            for place in found
            if distance_km(first.latitude, first.longitude, place.latitude, place.longitude)
            > SAME_TOWN_KM
        ]
        biggest_rival = max((place.population or 0 for place in rivals), default=0)
        if (first.population or 0) >= DOMINANCE * max(biggest_rival, 1000):
            return PlaceMatch(first, rivals)
        return PlaceMatch(None, found)

    def find(self, name: str) -> Place | None:
        """The place a name means when that is clear; None when unknown or ambiguous."""
        return self.resolve(name).place

    def locate(self, *names: str | None, state: str) -> Place | None:
        """Where an alliance lies: the one place in `state` called like its city or municipality.

        Used to fill in approximate coordinates: several namesakes in the Land give None
        (no guessing), so do unknown names.
        """
        for name in names:
            if not name:
                continue
            found = self.candidates(name, state=state)
            exact = [place for place in found if place_key(place.name) == place_key(name)]
            if len(exact or found) == 1:
                return (exact or found)[0]
        return None

    def __len__(self) -> int:
        return sum(len(places) for places in self._by_key.values())
