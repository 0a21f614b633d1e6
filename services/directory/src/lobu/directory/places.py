"""An offline gazetteer of German places (GeoNames), for searching near a named place."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib.resources import files

from lobu.directory.search_text import normalise


@dataclass(frozen=True)
class Place:
    """A German city with its coordinates."""

    name: str
    state: str
    latitude: float
    longitude: float
    population: int


class Gazetteer:
    """Finds places by name, umlaut-insensitive (`Goettingen` finds Göttingen)."""

    def __init__(self, places: list[Place]) -> None:
        # The most populous place wins when two share a name (Frankfurt am Main...).
        self._by_name: dict[str, Place] = {}
        for place in sorted(places, key=lambda place: place.population):
            self._by_name[normalise(place.name)] = place

    @classmethod
    def shipped(cls) -> Gazetteer:
        """The places in data/places.csv (GeoNames, CC BY 4.0)."""
        resource = files("lobu.directory") / "data" / "places.csv"
        if not resource.is_file():
            return cls([])
        reader = csv.DictReader(
            io.StringIO(resource.read_text(encoding="utf-8-sig")), delimiter=";"
        )
        return cls(
            [
                Place(
                    name=row["name"], state=row["land"], latitude=float(row["latitude"]),
                    longitude=float(row["longitude"]), population=int(row["population"] or 0),
                )
                for row in reader
            ]
        )  # fmt: skip

    def find(self, name: str) -> Place | None:
        """The place called `name`; else the most populous one whose name begins so.

        "Frankfurt" finds Frankfurt am Main, "Halle" Halle (Saale).
        """
        wanted = normalise(name)
        if not wanted:
            return None
        if wanted in self._by_name:
            return self._by_name[wanted]
        candidates = [place for key, place in self._by_name.items() if key.startswith(wanted + " ")]
        return max(candidates, key=lambda place: place.population, default=None)

    def __len__(self) -> int:
        return len(self._by_name)
