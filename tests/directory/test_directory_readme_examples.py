"""The README's "Trying it by hand" runs as written; the API takes codes and German labels."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from lobu.shared.auth import Role
from tests.directory.conftest import ADMIN, bearer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def _curl(method: str, path: str) -> str:
    """The README's curl command for `method` on a path like /alliances or /alliances/ID."""
    pattern = rf"curl -si? -X {method} http://127\.0\.0\.1:8001{re.escape(path)} .*?(?=\n\n|\n#)"
    match = re.search(pattern, README, flags=re.DOTALL)
    assert match, f"the README has no curl -X {method} {path}"
    return match.group(0)


def _body(command: str) -> Any:
    match = re.search(r"-d '(.*?)'", command, flags=re.DOTALL)
    assert match
    return json.loads(match.group(1))


async def test_the_readme_examples_run_as_written(client: httpx.AsyncClient) -> None:
    create = _curl("POST", "/alliances")
    patch = _curl("PATCH", "/alliances/ID")
    if_match = re.search(r"-H 'If-Match: (.*?)'", patch)
    assert if_match

    created = await client.post("/alliances", json=_body(create), headers=ADMIN)
    assert created.status_code == 201, created.text
    alliance_id = created.json()["id"]
    public = await client.get(f"/alliances/{alliance_id}")
    private = await client.get(f"/alliances/{alliance_id}/private", headers=ADMIN)
    coordinator = bearer(Role.ALLIANCE, alliance_id)
    edited = await client.patch(
        f"/alliances/{alliance_id}",
        json=_body(patch),
        headers={**coordinator, "If-Match": if_match.group(1)},
    )

    assert created.json()["topics"] == ["kinderbetreuung"]  # the label came back as its code
    assert "contacts" not in public.json()
    assert private.json()["contacts"][0]["email"] == "eva.roth@example.org"
    assert edited.status_code == 200, edited.text
    assert edited.json()["city"] == "Bad Harzburg"


async def test_vocabulary_fields_take_codes_or_german_labels_and_answer_with_codes(
    client: httpx.AsyncClient,
) -> None:
    body = {
        "name": "Familienbündnis Erfurt", "state": "Thüringen", "postal_code": "99084",
        "city": "Erfurt", "status": "ruhend", "staffing": "haupt- und ehrenamtlich",
        "topics": ["Vereinbarkeit von Beruf und Familie", "kinderarmut"],
        "partners": [{"name": "Stadt Erfurt", "type": "Kommune/Verwaltung"}],
        "awards": [{"award": "Ausgezeichnet in die Zukunft", "year": 2021}],
        "social_media": [{"platform": "Instagram", "url": "https://instagram.com/demo_erfurt"}],
    }  # fmt: skip

    created = await client.post("/alliances", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    edited = await client.patch(
        f"/alliances/{created.json()['id']}",
        json={"state": "thueringen", "status": "aufgelöst"},
        headers={**ADMIN, "If-Match": created.headers["ETag"]},
    )
    unknown = await client.post("/alliances", json={**body, "state": "Atlantis"}, headers=ADMIN)

    alliance = created.json()
    assert (alliance["state"], alliance["status"], alliance["staffing"]) == (
        "TH",
        "dormant",
        "mixed",
    )
    assert alliance["topics"] == ["vereinbarkeit", "kinderarmut"]
    assert alliance["partners"][0]["type"] == "kommune"
    assert alliance["awards"][0]["award"] == "ausgezeichnet-in-die-zukunft"
    assert alliance["social_media"][0]["platform"] == "instagram"
    assert edited.json()["status"] == "dissolved"
    assert unknown.status_code == 422
    assert [error["field"] for error in unknown.json()["errors"]] == ["state"]


async def test_the_openapi_document_names_both_codes_and_labels(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    create = next(schema for name, schema in schemas.items() if name.startswith("AllianceCreate"))
    assert {"NI", "Niedersachsen"} <= set(create["properties"]["state"]["enum"])
