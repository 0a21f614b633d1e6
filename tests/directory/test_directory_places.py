"""The gazetteer: towns down to 1,000 inhabitants, usual spellings, a choice between namesakes."""

from __future__ import annotations

import httpx
import pytest

from lobu.directory.places import Gazetteer
from tests.directory.conftest import ADMIN

ON_THE_APP_LOOP = pytest.mark.asyncio(loop_scope="session")


@pytest.mark.unit
def test_the_gazetteer_knows_towns_of_every_land_down_to_a_thousand_inhabitants() -> None:
    gazetteer = Gazetteer.shipped()
    assert len(gazetteer) > 10_000
    assert {gazetteer.find(name).state for name in ("Sankt Ingbert", "Goslar", "Kyritz")} == {
        "SL", "NI", "BB",
    }  # fmt: skip


@pytest.mark.unit
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("St. Ingbert", "Sankt Ingbert"),
        ("St Ingbert", "Sankt Ingbert"),
        ("sankt ingbert", "Sankt Ingbert"),
        ("Goettingen", "Göttingen"),
        ("Frankfurt/Oder", "Frankfurt (Oder)"),
        ("Frankfurt (Oder)", "Frankfurt (Oder)"),
        ("Neustadt a. d. Aisch", "Neustadt an der Aisch"),
        ("Neustadt am Rubenberge", "Neustadt am Rübenberge"),
        ("Halle", "Halle (Saale)"),  # ten times bigger than any namesake elsewhere
        ("Hamburg", "Hamburg"),  # not one of its districts
        ("Neustadt (Rheinland-Pfalz)", "Neustadt an der Weinstraße"),
        ("Neustadt in Sachsen, Sachsen", "Neustadt in Sachsen"),
        ("Neustadt, SH", "Neustadt in Holstein"),
    ],
)
def test_places_are_found_as_people_write_them(typed: str, expected: str) -> None:
    place = Gazetteer.shipped().find(typed)
    assert place is not None, typed
    assert place.name == expected


@pytest.mark.unit
def test_a_name_several_towns_share_is_a_choice_with_the_land() -> None:
    match = Gazetteer.shipped().resolve("Neustadt")

    labels = [place.label for place in match.alternatives]
    assert match.place is None
    assert match.ambiguous
    assert "Neustadt an der Weinstraße, Rheinland-Pfalz" in labels
    assert "Neustadt in Sachsen, Sachsen" in labels
    # Each offered label names exactly that town again.
    assert all(Gazetteer.shipped().find(label) == place for label, place in
               zip(labels, match.alternatives, strict=True))  # fmt: skip


@pytest.mark.integration
@ON_THE_APP_LOOP
async def test_the_api_offers_the_namesakes_and_a_label_chooses_one(
    client: httpx.AsyncClient,
) -> None:
    ambiguous = (await client.get("/places", params={"name": "Neustadt"})).json()
    chosen_label = ambiguous["alternatives"][0]["label"]
    chosen = (await client.get("/places", params={"name": chosen_label})).json()

    assert (ambiguous["ambiguous"], ambiguous["place"]) == (True, None)
    assert {"name", "state", "label", "latitude", "longitude"} <= set(ambiguous["alternatives"][0])
    assert chosen["place"]["label"] == chosen_label
    assert chosen["ambiguous"] is False


@pytest.mark.integration
@ON_THE_APP_LOOP
async def test_the_page_lets_people_choose_between_namesakes(client: httpx.AsyncClient) -> None:
    await client.post(
        "/alliances", headers=ADMIN,
        json={"name": "Bündnis Neustadt", "state": "RP", "postal_code": "67433",
              "city": "Neustadt an der Weinstraße"},
    )  # fmt: skip

    choice = await client.get("/", params={"ort": "Neustadt"})
    chosen = await client.get("/", params={"ort": "Neustadt an der Weinstraße, Rheinland-Pfalz"})

    assert "Mehrere Orte heißen „Neustadt“" in choice.text
    assert "ort=Neustadt+an+der+Weinstra%C3%9Fe%2C+Rheinland-Pfalz" in choice.text
    assert "Neustadt in Sachsen, Sachsen" in choice.text
    assert "1 Bündnis im Umkreis von 25 km um Neustadt an der Weinstraße" in chosen.text


@pytest.mark.integration
@ON_THE_APP_LOOP
async def test_the_page_says_what_has_no_place(client: httpx.AsyncClient) -> None:
    for city in ("Goslar", "Atlantis"):
        response = await client.post(
            "/alliances", headers=ADMIN,
            json={"name": f"Bündnis {city}", "state": "NI", "postal_code": "38640", "city": city},
        )  # fmt: skip
        assert response.status_code == 201
    unplaced = (await client.get("/alliances", params={"q": "Atlantis"})).json()["items"][0]

    near = await client.get("/", params={"ort": "Goslar"})
    page = await client.get(f"/buendnisse/{unplaced['slug']}")

    assert "1 Bündnis im Umkreis von 25 km um Goslar" in near.text
    assert "1 passendes Bündnis hat keine Ortsangabe" in near.text
    assert "kein Ort mit Koordinaten hinterlegt" in page.text


@pytest.mark.integration
@ON_THE_APP_LOOP
async def test_a_postcode_is_told_apart_from_an_unknown_town(client: httpx.AsyncClient) -> None:
    """Postcodes are not looked up (no offline source): the page and the API say so."""
    page = await client.get("/", params={"ort": "38640"})
    unknown = await client.get("/", params={"ort": "Atlantis"})
    looked_up = (await client.get("/places", params={"name": "38640"})).json()

    assert "„38640“ sieht aus wie eine Postleitzahl" in page.text
    assert "Namen des Ortes" in page.text
    assert "kennen wir nicht" not in page.text
    assert "Den Ort „Atlantis“ kennen wir nicht" in unknown.text
    assert looked_up["place"] is None
    assert "keine Postleitzahlen" in looked_up["message"]
