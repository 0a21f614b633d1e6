"""The search page's map and an alliance's contact form, in headless Chromium."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Directory, chromium_path, unique

if chromium_path() is None:
    pytest.skip(
        "no Chromium at /usr/bin/chromium or on PATH; run scripts/ensure-chromium.sh",
        allow_module_level=True,
    )
pytest.importorskip("playwright.async_api", reason="the Python package playwright is missing")

from playwright.async_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def test_the_search_page_shows_its_results_as_linked_points_on_a_map(
    page: Page, directory: Directory
) -> None:
    word = unique("Karte")
    for city, coordinates in [("Kiel", (54.32, 10.14)), ("Passau", (48.57, 13.43))]:
        await directory.add_alliance(
            f"Bündnis {word} {city}", state="NI", postal_code="30159", city=city,
            coordinates=coordinates,
        )  # fmt: skip
    await directory.add_alliance(
        f"Bündnis {word} ohne Ort", state="NI", postal_code="30159", city="Nirgendwohausen"
    )

    await page.goto(f"/?q={word}")

    karte = page.get_by_role("group", name="Karte der Bündnisse auf dieser Seite")
    await expect(karte).to_be_visible()
    dots = karte.get_by_role("link")
    await expect(dots).to_have_count(2)
    kiel = karte.get_by_role("link", name=f"Bündnis {word} Kiel (Kiel)")
    passau = karte.get_by_role("link", name=f"Bündnis {word} Passau (Passau)")
    kiel_box, passau_box = await kiel.bounding_box(), await passau.bounding_box()
    assert kiel_box
    assert passau_box
    assert kiel_box["y"] < passau_box["y"]
    await expect(page.locator("figure.karte figcaption")).to_contain_text("1 Bündnis dieser Seite")
    await kiel.click()
    await page.wait_for_url("**/buendnisse/*kiel")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Bündnis {word} Kiel")
