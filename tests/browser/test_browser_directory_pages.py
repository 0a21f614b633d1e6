"""The public pages as people use them: search form, results, an alliance's page.

Each test creates its own alliances (names with a random word) through the API and
looks at the pages in headless Chromium, the way a visitor would: by labels, buttons
and links, with and without JavaScript.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.browser.conftest import Directory, chromium_path, unique

if chromium_path() is None:
    pytest.skip(
        "no Chromium at /usr/bin/chromium or on PATH; run scripts/ensure-chromium.sh "
        "(apt-get install -y chromium) to run the browser tests",
        allow_module_level=True,
    )
pytest.importorskip("playwright.async_api", reason="the Python package playwright is missing")

from playwright.async_api import Browser, Locator, Page, Route, expect

pytestmark = pytest.mark.browser

# Real coordinates (latitude, longitude) of city centres.
HANNOVER = (52.3759, 9.7320)
CELLE = (52.6226, 10.0806)
HILDESHEIM = (52.1523, 9.9510)
MUENCHEN = (48.1374, 11.5755)
LUENEBURG = (53.2464, 10.4115)

# Every field of the search form: its visible label and its GET parameter.
FORM_FIELDS = {
    "Suchbegriff": "q",
    "Land": "land",
    "Handlungsfeld": "handlungsfeld",
    "Partner": "partnertyp",
    "Status": "status",
    "Auszeichnung": "auszeichnung",
    "Umkreissuche: Ort": "ort",
    "Umkreis": "umkreis",
}


def gazetteer_knows_hannover() -> bool:
    """True when the shipped gazetteer (data/places.csv) is there to resolve "Hannover"."""
    resource = files("lobu.shared") / "data" / "places.csv"
    return resource.is_file() and "Hannover" in resource.read_text(encoding="utf-8-sig")


async def press_suchen(page: Page, *, then_at: str) -> None:
    """Press Suchen and wait until the browser shows the page whose URL contains `then_at`."""
    await page.get_by_role("button", name="Suchen").click()
    await page.wait_for_url(re.compile(re.escape(then_at)))
    await page.wait_for_load_state()


async def follow(page: Page, link: Locator) -> None:
    """Click `link` and wait until its page has loaded."""
    target = await link.get_attribute("href")
    assert target is not None
    await link.click()
    await page.wait_for_url(re.compile(re.escape(target) + "$"))
    await page.wait_for_load_state()


async def search_for(page: Page, text: str) -> None:
    """Open the search page, type `text` as the Suchbegriff and press Suchen."""
    await page.goto("/")
    await page.get_by_label("Suchbegriff", exact=True).fill(text)
    await press_suchen(page, then_at=urlencode({"q": text}))


def result_links(page: Page) -> Locator:
    """The links to the alliances in the result list (not the facets)."""
    return page.locator("ul.results h3 a")


@pytest.mark.asyncio(loop_scope="session")
async def test_a_search_without_umlauts_finds_the_alliance_spelt_with_umlauts(
    page: Page, directory: Directory
) -> None:
    await directory.add_alliance(
        "Lokales Bündnis für Familie Lüneburg",
        state="NI",
        postal_code="21335",
        city="Lüneburg",
        coordinates=LUENEBURG,
        topics=["kinderbetreuung"],
    )

    await search_for(page, "Lueneburg")

    assert "q=Lueneburg" in page.url
    results = page.locator("ul.results")
    await expect(
        results.get_by_role("link", name="Lokales Bündnis für Familie Lüneburg", exact=True)
    ).to_be_visible()
    await expect(results).to_contain_text("21335 Lüneburg, Niedersachsen")
    await expect(page.get_by_role("heading", level=2)).to_have_text(re.compile(r"^\d+ Bündnis"))
    # The form keeps what the person typed.
    await expect(page.get_by_label("Suchbegriff", exact=True)).to_have_value("Lueneburg")


@pytest.mark.asyncio(loop_scope="session")
async def test_choosing_a_land_narrows_the_results_to_that_land(
    page: Page, directory: Directory
) -> None:
    word = unique("Landwahl")
    await directory.add_alliance(
        f"Bündnis {word} Kiel", state="SH", postal_code="24103", city="Kiel"
    )
    await directory.add_alliance(
        f"Bündnis {word} Erfurt", state="TH", postal_code="99084", city="Erfurt"
    )

    await search_for(page, word)
    await expect(page.get_by_role("heading", name="2 Bündnisse", exact=True)).to_be_visible()
    await expect(result_links(page)).to_have_count(2)
    # Both Länder are offered as facets, with their counts.
    facets = page.locator("ul.facets")
    await expect(facets).to_contain_text("Schleswig-Holstein (1)")
    await expect(facets).to_contain_text("Thüringen (1)")

    await page.get_by_label("Land", exact=True).select_option(label="Schleswig-Holstein")
    await press_suchen(page, then_at="land=SH")

    await expect(page.get_by_role("heading", name="1 Bündnis", exact=True)).to_be_visible()
    await expect(result_links(page)).to_have_text([f"Bündnis {word} Kiel"])
    await expect(page.get_by_label("Land", exact=True)).to_have_value("SH")


@pytest.mark.asyncio(loop_scope="session")
async def test_the_umkreissuche_lists_nearby_alliances_by_distance_and_leaves_out_far_ones(
    page: Page, directory: Directory
) -> None:
    if not gazetteer_knows_hannover():
        pytest.skip(
            "shared/src/lobu/shared/data/places.csv is not there (or lacks "
            "Hannover): the Umkreissuche cannot resolve a place name yet"
        )
    word = unique("Umkreis")
    # Created out of order, so that the page has to sort them.
    for city, postal_code, state, coordinates in [
        ("Celle", "29221", "NI", CELLE),
        ("München", "80331", "BY", MUENCHEN),
        ("Hannover", "30159", "NI", HANNOVER),
        ("Hildesheim", "31134", "NI", HILDESHEIM),
    ]:
        await directory.add_alliance(
            f"Bündnis {word} {city}",
            state=state,
            postal_code=postal_code,
            city=city,
            coordinates=coordinates,
        )

    await page.goto("/")
    await page.get_by_label("Umkreissuche: Ort", exact=True).fill("Hannover")
    await page.get_by_label("Umkreis", exact=True).select_option(label="50 km")
    await press_suchen(page, then_at="umkreis=50")

    await expect(page.get_by_role("heading", level=2)).to_contain_text(
        "im Umkreis von 50 km um Hannover"
    )
    items = page.locator("ul.results > li").filter(has_text=word)
    await expect(items).to_have_count(3)
    names = await items.locator("h3").all_inner_texts()
    assert names == [f"Bündnis {word} {city}" for city in ("Hannover", "Hildesheim", "Celle")]
    distances = [
        float(match.group(1).replace(",", "."))
        for text in await items.locator("p.meta").all_inner_texts()
        if (match := re.search(r"(\d+,\d) km entfernt", text))
    ]
    assert len(distances) == 3, await items.all_inner_texts()
    assert distances == sorted(distances)
    assert distances[0] < 2  # Hannover itself
    assert 20 < distances[1] < 35  # Hildesheim, about 29 km
    assert 30 < distances[2] < 45  # Celle, about 36 km
    await expect(page.locator("ul.results")).not_to_contain_text(f"Bündnis {word} München")


@pytest.mark.asyncio(loop_scope="session")
async def test_a_result_link_opens_the_alliance_page_with_partners_and_without_contacts(
    page: Page, directory: Directory
) -> None:
    word = unique("Seite")
    name = f"Lokales Bündnis für Familie {word} Goslar"
    email = f"koordination-{word.lower()}@example.org"
    created = await directory.add_alliance(
        name,
        state="NI",
        postal_code="38640",
        city="Goslar",
        street="Markt 1",
        topics=["kinderarmut", "vereinbarkeit"],
        partners=[
            {"name": f"Stadt Goslar {word}", "type": "kommune"},
            {"name": f"Familienzentrum {word}", "type": "verein"},
        ],
        contacts=[{"name": f"Erika Mustermann {word}", "email": email}],
    )
    assert [contact["email"] for contact in created["contacts"]] == [email]  # stored, not shown

    await search_for(page, word)
    await follow(page, page.locator("ul.results").get_by_role("link", name=name, exact=True))

    assert re.search(r"/buendnisse/[a-z0-9-]+$", page.url), page.url
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)
    await expect(page).to_have_title(re.compile(re.escape(name)))
    await expect(page.locator("dl.record")).to_contain_text("Markt 1")
    await expect(page.locator("dl.record")).to_contain_text("38640 Goslar")
    await expect(page.get_by_role("heading", name="Handlungsfelder")).to_be_visible()
    await expect(page.get_by_text("Kinderarmut", exact=True)).to_be_visible()
    await expect(page.get_by_role("heading", name="Partner", exact=True)).to_be_visible()
    await expect(page.get_by_text(f"Stadt Goslar {word}")).to_be_visible()
    await expect(page.get_by_text(f"Familienzentrum {word}")).to_be_visible()
    await expect(page.get_by_text("(Kommune/Verwaltung)")).to_be_visible()

    html = await page.content()
    assert email not in html
    assert "@" not in html, "the public page shows something like an email address"
    assert "Mustermann" not in html


@pytest.mark.asyncio(loop_scope="session")
async def test_an_unknown_alliance_shows_the_german_not_found_page_with_status_404(
    page: Page,
) -> None:
    slug = unique("gibt-es-nicht-")

    response = await page.goto(f"/buendnisse/{slug}")

    assert response is not None
    assert response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Dieses Bündnis gibt es hier nicht"
    )
    await expect(page.locator("main")).to_contain_text(f"Unter „{slug}“ ist kein Bündnis")
    await expect(page).to_have_title(re.compile("^Nicht gefunden"))
    await follow(page, page.locator("main").get_by_role("link", name="Suche"))
    await expect(page.get_by_role("button", name="Suchen")).to_be_visible()


@pytest.mark.asyncio(loop_scope="session")
async def test_the_whole_search_works_with_javascript_disabled(
    browser: Browser, directory: Directory
) -> None:
    word = unique("OhneJS")
    name = f"Bündnis {word} Erfurt"
    await directory.add_alliance(name, state="TH", postal_code="99084", city="Erfurt")
    await directory.add_alliance(
        f"Bündnis {word} Jena", state="TH", postal_code="07743", city="Jena"
    )
    await directory.add_alliance(
        f"Bündnis {word} Potsdam", state="BB", postal_code="14467", city="Potsdam"
    )
    context = await browser.new_context(
        base_url=directory.url, java_script_enabled=False, locale="de-DE"
    )
    try:
        page = await context.new_page()
        await page.goto("/")
        await page.get_by_label("Suchbegriff", exact=True).fill(word)
        await page.get_by_label("Land", exact=True).select_option("TH")
        await press_suchen(page, then_at="land=TH")

        await expect(page.get_by_role("heading", name="2 Bündnisse", exact=True)).to_be_visible()
        await expect(result_links(page)).to_have_count(2)
        await follow(page, page.get_by_role("link", name=name, exact=True))
        await expect(page.get_by_role("heading", level=1)).to_have_text(name)
        await follow(page, page.get_by_role("link", name="← Zur Suche"))
        await expect(page.get_by_label("Suchbegriff", exact=True)).to_have_value("")
    finally:
        await context.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_every_field_of_the_search_form_has_a_label(page: Page) -> None:
    await page.goto("/")
    form = page.get_by_role("search", name="Bündnisse suchen")
    await expect(form).to_be_visible()

    for label, parameter in FORM_FIELDS.items():
        field = form.get_by_label(label, exact=True)
        await expect(field, f"no field labelled {label!r}").to_have_count(1)
        await expect(field).to_have_attribute("name", parameter)
    # No field without a label: the form has exactly these.
    names = await form.locator("input, select, textarea").evaluate_all(
        "fields => fields.map(field => field.name)"
    )
    assert sorted(names) == sorted(FORM_FIELDS.values())
    unlabelled = await form.locator("input, select, textarea").evaluate_all(
        "fields => fields.filter(field => field.labels.length === 0).map(field => field.name)"
    )
    assert unlabelled == []
    await expect(form.get_by_role("button", name="Suchen")).to_be_visible()


@pytest.mark.asyncio(loop_scope="session")
async def test_a_screenshot_of_the_results_page_shows_a_rendered_page(
    page: Page, directory: Directory, tmp_path: Path
) -> None:
    word = unique("Bild")
    for city, postal_code in [("Bremen", "28195"), ("Bremerhaven", "27568")]:
        await directory.add_alliance(
            f"Lokales Bündnis für Familie {word} {city}",
            state="HB",
            postal_code=postal_code,
            city=city,
            topics=["vereinbarkeit", "kinderbetreuung"],
        )
    await page.set_viewport_size({"width": 1280, "height": 900})
    await search_for(page, word)
    await expect(result_links(page)).to_have_count(2)

    screenshot = tmp_path / "ergebnisse.png"
    await page.screenshot(path=str(screenshot), full_page=True)

    data = screenshot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 10_000, f"{screenshot} has only {len(data)} bytes"


@pytest.mark.asyncio(loop_scope="session")
async def test_a_land_facet_narrows_the_current_search_and_keeps_its_filters(
    page: Page, directory: Directory
) -> None:
    word = unique("Facette")
    await directory.add_alliance(
        f"Bündnis {word} Kiel", state="SH", postal_code="24103", city="Kiel",
        topics=["kinderarmut"],
    )  # fmt: skip
    await directory.add_alliance(
        f"Bündnis {word} Lübeck", state="SH", postal_code="23552", city="Lübeck"
    )
    await directory.add_alliance(
        f"Bündnis {word} Erfurt", state="TH", postal_code="99084", city="Erfurt",
        topics=["kinderarmut"],
    )  # fmt: skip

    await page.goto(f"{directory.url}/?" + urlencode({"q": word, "handlungsfeld": "kinderarmut"}))
    await expect(page.get_by_role("heading", name="2 Bündnisse", exact=True)).to_be_visible()
    await follow(page, page.locator("ul.facets").get_by_role("link", name="Schleswig-Holstein"))

    await expect(page.get_by_role("heading", name="1 Bündnis", exact=True)).to_be_visible()
    await expect(result_links(page)).to_have_text([f"Bündnis {word} Kiel"])
    await expect(page.get_by_label("Handlungsfeld", exact=True)).to_have_value("kinderarmut")


@pytest.mark.asyncio(loop_scope="session")
async def test_an_unknown_place_says_so_and_lists_nothing_unfiltered(
    page: Page, directory: Directory
) -> None:
    await directory.add_alliance(f"Bündnis {unique('Fern')} München", state="BY",
                                 postal_code="80331", city="München")  # fmt: skip

    await page.goto(f"{directory.url}/?" + urlencode({"ort": "Hanover", "umkreis": 25}))

    await expect(page.get_by_role("status")).to_contain_text("Den Ort „Hanover“ kennen wir nicht")
    await expect(result_links(page)).to_have_count(0)


@pytest.mark.asyncio(loop_scope="session")
async def test_bad_input_shows_the_page_with_a_german_message_at_the_field(page: Page) -> None:
    await page.goto("/")
    await page.get_by_label("Suchbegriff", exact=True).fill("x" * 250)
    assert len(await page.get_by_label("Suchbegriff", exact=True).input_value()) == 200

    response = await page.goto("/?" + urlencode({"q": "x" * 201, "umkreis": "abc"}))

    assert response is not None
    assert response.status == 422
    field = page.get_by_label("Suchbegriff", exact=True)
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(field).to_have_accessible_description("Bitte höchstens 200 Zeichen eingeben.")
    await expect(page.get_by_label("Umkreis", exact=True)).to_have_accessible_description(
        re.compile("Umkreis in Kilometern")
    )
    await expect(page.get_by_role("alert")).to_contain_text("markierten Angaben")


@pytest.mark.asyncio(loop_scope="session")
async def test_the_api_docs_render_with_no_network_beyond_the_service(
    page: Page, directory: Directory
) -> None:
    refused: list[str] = []

    async def local_only(route: Route) -> None:
        if route.request.url.startswith(directory.url):
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort()

    await page.context.route("**/*", local_only)
    await page.goto("/docs")

    # Swagger UI parses 1.5 MB of script and the whole OpenAPI document: a generous wait.
    title = page.locator(".swagger-ui .info .title")
    await expect(title).to_contain_text("directory", timeout=60_000)
    await expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert refused == []
