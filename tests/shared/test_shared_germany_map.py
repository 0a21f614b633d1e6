"""The server-drawn map of Germany: one linked dot per point inside, hostile text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest
from jinja2 import Environment

from lobu.shared.germany_map import MapPoint, render_germany_map

pytestmark = pytest.mark.unit

SVG = "{http://www.w3.org/2000/svg}"
GOSLAR = MapPoint(51.906, 10.429, "Bündnis Goslar", "/buendnisse/goslar")
FLENSBURG = MapPoint(54.782, 9.437, "Bündnis Flensburg", "/buendnisse/flensburg")
PARIS = MapPoint(48.857, 2.352, "Paris", "/buendnisse/paris")


def parse(svg: str) -> ElementTree.Element:
    """The SVG as XML (it must be well-formed to be inline in HTML and in XHTML)."""
    return ElementTree.fromstring(svg)  # noqa: S314  # our own output


def test_each_point_in_germany_is_a_linked_dot_and_points_outside_are_skipped() -> None:
    karte = render_germany_map([GOSLAR, FLENSBURG, PARIS])
    root = parse(karte.svg)
    links = root.findall(f"{SVG}a")
    assert [link.get("href") for link in links] == [GOSLAR.href, FLENSBURG.href]
    assert [link.find(f"{SVG}circle/{SVG}title").text for link in links] == [  # type: ignore[union-attr]
        GOSLAR.label,
        FLENSBURG.label,
    ]
    assert karte.shown == 2
    assert karte.skipped == (PARIS,)
    # North is up: Flensburg is drawn above Goslar, and to its west.
    goslar, flensburg = (link.find(f"{SVG}circle") for link in links)
    assert float(flensburg.get("cy")) < float(goslar.get("cy"))  # type: ignore[arg-type,union-attr]
    assert float(flensburg.get("cx")) < float(goslar.get("cx"))  # type: ignore[arg-type,union-attr]


def test_the_map_has_a_text_alternative_and_renders_with_no_points() -> None:
    karte = render_germany_map([], title="Karte der Bündnisse")
    root = parse(karte.svg)
    labelled_by = root.get("aria-labelledby", "").split()
    texts = {element.get("id"): element.text for element in root.iter() if element.get("id")}
    assert [texts[name] for name in labelled_by] == [
        "Karte der Bündnisse",
        "Die Karte zeigt keine Orte.",
    ]
    assert root.find(f"{SVG}path") is not None
    assert root.findall(f"{SVG}a") == []


def test_hostile_labels_and_links_stay_text() -> None:
    name = '"><script>alert(1)</script><a href="https://evil'
    karte = render_germany_map([(51.9, 10.4, name, '/buendnisse/x"onmouseover="y')])
    root = parse(karte.svg)  # still well-formed: nothing broke out of an attribute
    link = root.find(f"{SVG}a")
    assert link is not None
    assert link.get("href") == '/buendnisse/x"onmouseover="y'
    assert link.get("aria-label") == name
    assert link.get("onmouseover") is None
    assert "<script>" not in karte.svg
    assert root.find(f".//{SVG}script") is None
    with pytest.raises(ValueError, match="map link"):
        render_germany_map([(51.9, 10.4, "x", "javascript:alert(1)")])


def test_jinja2_inserts_the_map_as_markup_not_as_escaped_text() -> None:
    page = Environment(autoescape=True).from_string("<div>{{ karte }}</div>")
    rendered = page.render(karte=render_germany_map([GOSLAR]))
    assert rendered.startswith("<div><svg ")
    assert "&lt;svg" not in rendered
