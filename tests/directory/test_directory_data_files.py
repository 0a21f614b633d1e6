"""The committed data files: the gazetteer (places.csv) and the demo alliances.

They are made by scripts/generate_directory_data.py; these checks read only the files,
so they hold whoever edits them, by hand or by generator.
"""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from lobu.shared.contracts.vocabulary import (
    AWARDS,
    PARTNER_TYPES,
    SOCIAL_PLATFORMS,
    STAFFING,
    STATES,
    STATUSES,
    TOPICS,
)

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "services" / "directory" / "src" / "lobu" / "directory" / "data"
PLACES = REPO / "shared" / "src" / "lobu" / "shared" / "data" / "places.csv"
FORMAT_DOC = REPO / "docs" / "alliance-csv.md"

# Germany's bounding box, as in the alliance contract.
LATITUDES = (47.2, 55.1)
LONGITUDES = (5.8, 15.1)
NEAR_KM = 30.0
AWARDED = 56
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
PARTNER = re.compile(r"^(?P<name>.+?) \[(?P<type>[^\]]+)\]$")


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, a)))


def number(cell: str) -> float:
    """A coordinate, with `.` or `,` as decimal mark (both are allowed in the import)."""
    return float(cell.replace(",", "."))


def inside_germany(latitude: float, longitude: float) -> bool:
    return LATITUDES[0] <= latitude <= LATITUDES[1] and LONGITUDES[0] <= longitude <= LONGITUDES[1]


def items(cell: str) -> list[str]:
    return [item.strip() for item in cell.split("|") if item.strip()]


@cache
def places() -> list[dict[str, str]]:
    text = PLACES.read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


@cache
def demo_bytes() -> bytes:
    return (DATA / "demo_alliances.csv").read_bytes()


@cache
def demo_header() -> list[str]:
    text = demo_bytes().decode("utf-8-sig")
    return next(csv.reader(io.StringIO(text), delimiter=";"))


@cache
def demo_rows() -> list[dict[str, str]]:
    text = demo_bytes().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


@cache
def documented_columns() -> list[str]:
    """The column names in the table of docs/alliance-csv.md."""
    table_row = re.compile(r"^\|\s*`([a-z_]+)`\s*\|")
    return [
        match[1]
        for line in FORMAT_DOC.read_text(encoding="utf-8").splitlines()
        if (match := table_row.match(line))
    ]


# --- places.csv ---------------------------------------------------------------------


def test_places_have_the_documented_columns() -> None:
    header = PLACES.read_text(encoding="utf-8").splitlines()[0]
    assert header == "name;land;latitude;longitude;population"


def test_places_cover_every_land_with_more_than_ten_thousand_places() -> None:
    rows = places()
    assert len(rows) > 10_000
    assert {row["land"] for row in rows} == set(STATES)
    assert all(row["name"].strip() == row["name"] and row["name"] for row in rows)
    # Empty for the places of cities1000, which gives no population.
    assert all(row["population"] == "" or int(row["population"]) > 0 for row in rows)
    assert sum(row["population"] != "" for row in rows) > 1000


def test_places_lie_inside_germany() -> None:
    outside = [
        row["name"]
        for row in places()
        if not inside_germany(float(row["latitude"]), float(row["longitude"]))
    ]
    assert outside == []


def test_place_coordinates_have_four_decimals() -> None:
    four_decimals = re.compile(r"^-?\d+\.\d{4}$")
    assert all(
        four_decimals.match(row["latitude"]) and four_decimals.match(row["longitude"])
        for row in places()
    )


# --- demo_alliances.csv -------------------------------------------------------------


def test_demo_file_starts_with_a_byte_order_mark() -> None:
    assert demo_bytes().startswith(b"\xef\xbb\xbf")


def test_demo_file_has_exactly_the_documented_columns() -> None:
    documented = documented_columns()
    assert len(documented) == 20  # the table was found and read
    header = demo_header()
    assert len(header) == len(set(header))
    assert sorted(header) == sorted(documented)


def test_demo_file_has_400_alliances_with_unique_slugs() -> None:
    rows = demo_rows()
    assert len(rows) == 400
    slugs = [row["slug"] for row in rows]
    assert len(set(slugs)) == len(slugs)
    assert all(SLUG.match(slug) and len(slug) <= 120 for slug in slugs)
    assert all(0 < len(row["name"]) <= 200 for row in rows)


def test_demo_alliances_are_in_every_land() -> None:
    per_land: dict[str, int] = {}
    for row in demo_rows():
        assert row["land"] in STATES
        per_land[row["land"]] = per_land.get(row["land"], 0) + 1
    assert set(per_land) == set(STATES)
    assert min(per_land.values()) >= 3


def test_demo_values_come_from_the_vocabularies() -> None:
    statuses = set(STATUSES) | set(STATUSES.values())
    staffing = set(STAFFING) | set(STAFFING.values())
    for row in demo_rows():
        assert row["status"] in statuses, row["slug"]
        assert row["personal"] == "" or row["personal"] in staffing, row["slug"]
        topics = items(row["handlungsfelder"])
        assert 2 <= len(topics) <= 5, row["slug"]
        assert set(topics) <= set(TOPICS), row["slug"]
        partners = items(row["partner"])
        assert 2 <= len(partners) <= 8, row["slug"]
        for partner in partners:
            match = PARTNER.match(partner)
            assert match, partner
            assert match["type"] in PARTNER_TYPES, partner
        for channel in items(row["social_media"]):
            platform, _, url = channel.partition("=")
            assert platform in SOCIAL_PLATFORMS, channel
            assert url.startswith("https://"), channel
        for award in items(row["auszeichnungen"]):
            code, _, year = award.rpartition(":")
            assert code in AWARDS, award
            assert 2016 <= int(year) <= 2023, award


def test_exactly_56_demo_alliances_hold_an_award() -> None:
    assert sum(1 for row in demo_rows() if row["auszeichnungen"].strip()) == AWARDED


def test_every_demo_alliance_has_invented_contacts_at_example_org() -> None:
    addresses = []
    for row in demo_rows():
        people = items(row["kontakte"])
        assert 1 <= len(people) <= 2, row["slug"]
        for person in people:
            match = re.fullmatch(r"[^<>]+ <([^<>@]+@example\.org)> \([^()]+\)", person)
            assert match, person
            addresses.append(match[1])
    assert len(set(addresses)) == len(addresses)  # one person, one alliance


def test_demo_web_addresses_are_obviously_made_up() -> None:
    for row in demo_rows():
        assert row["website"] == "" or row["website"].startswith("https://example.org/")
        for channel in items(row["social_media"]):
            assert "demo_" in channel or "example.org" in channel, channel


def test_demo_postal_codes_have_five_digits() -> None:
    assert all(re.fullmatch(r"\d{5}", row["plz"]) for row in demo_rows())


def test_demo_founding_dates_lie_within_the_initiative() -> None:
    for row in demo_rows():
        founded = date.fromisoformat(row["gegruendet"])
        assert date(2004, 1, 15) <= founded <= date(2024, 12, 31), row["slug"]


def test_demo_alliances_lie_at_a_real_place_of_their_name() -> None:
    by_name: dict[str, list[tuple[float, float]]] = {}
    for place in places():
        by_name.setdefault(place["name"], []).append(
            (float(place["latitude"]), float(place["longitude"]))
        )
    for row in demo_rows():
        latitude, longitude = number(row["breitengrad"]), number(row["laengengrad"])
        assert inside_germany(latitude, longitude), row["slug"]
        assert row["ort"] in by_name, f"{row['slug']}: {row['ort']} is not in places.csv"
        nearest = min(distance_km(latitude, longitude, *spot) for spot in by_name[row["ort"]])
        assert nearest <= NEAR_KM, f"{row['slug']} is {nearest:.0f} km from {row['ort']}"
