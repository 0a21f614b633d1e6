"""The search page's map and an alliance's contact form, in headless Chromium."""

from __future__ import annotations

import re

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


async def test_the_contact_form_shows_no_address_says_what_is_wrong_and_thanks(
    page: Page, directory: Directory
) -> None:
    word = unique("Kontakt")
    contact = f"geheim-{word.lower()}@example.org"
    created = await directory.add_alliance(
        f"Bündnis {word}", state="NI", postal_code="38640", city="Goslar",
        contacts=[{"name": f"Frau {word}", "email": contact, "phone": "+49 5321 4711"}],
    )  # fmt: skip
    await page.goto(f"/buendnisse/{created['slug']}")
    html = await page.content()
    assert contact not in html
    assert "4711" not in html
    assert f"Frau {word}" not in html
    # The honeypot is there for bots, not for people: not visible, not reachable by Tab.
    trap = page.locator("input[name=homepage]")
    await expect(trap).not_to_be_in_viewport()
    assert await trap.get_attribute("tabindex") == "-1"

    form = page.locator("form.contact")
    await page.get_by_label("Ihr Name").fill("Max Bürger")
    await page.get_by_label("Ihre E-Mail-Adresse").fill("max(at)example")
    await page.get_by_label("Ihre Nachricht").fill("kurz")
    # The browser's own checks would stop an invalid address; the server's must speak too.
    await form.evaluate("form => form.noValidate = true")
    await page.get_by_role("button", name="Nachricht senden").click()
    await page.wait_for_load_state()
    email_field = page.get_by_label("Ihre E-Mail-Adresse")
    await expect(email_field).to_have_attribute("aria-invalid", "true")
    await expect(email_field).to_have_accessible_description(re.compile("Bitte prüfen Sie"))
    await expect(page.locator("#nachricht-fehler")).to_have_text(
        "Bitte schreiben Sie mindestens 10 Zeichen."
    )
    await expect(page.get_by_label("Ihr Name")).to_have_value("Max Bürger")

    await email_field.fill("max@example.de")
    await page.get_by_label("Ihre Nachricht").fill("Wann trifft sich das Bündnis?")
    await page.get_by_role("button", name="Nachricht senden").click()
    await page.wait_for_url("**?gesendet=1#kontakt")
    await expect(page.get_by_role("status")).to_contain_text("Vielen Dank!")
