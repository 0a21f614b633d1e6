"""CSV import (dry run, atomic, idempotent) and the CSV and GeoJSON exports, parsed back."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from lobu.shared.auth import Role
from lobu.shared.contracts.directory import ALLIANCE_CREATED
from lobu.shared.outbox import OutboxMessage
from tests.directory.conftest import ADMIN, bearer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

HEADER = (
    "slug;name;land;landkreis;gemeinde;plz;ort;strasse;breitengrad;laengengrad;gegruendet;"
    "status;personal;website;social_media;handlungsfelder;partner;auszeichnungen;koordination;"
    "kontakte"
)
ROWS = [
    "lb-goslar;Lokales Bündnis für Familie Goslar;Niedersachsen;Landkreis Goslar;Goslar;38640;"
    "Goslar;Markt 1;51,9059;10,4289;01.03.2005;aktiv;ehrenamtlich;https://example.org/goslar;"
    "instagram=https://www.instagram.com/demo_goslar;Kinderbetreuung|kinderarmut;"
    "Stadt Goslar [kommune]|Harz GmbH [Unternehmen];ausgezeichnet-in-die-zukunft:2019;"
    "Stadt Goslar, Familienbüro;Eva Roth <eva.roth@example.org> (Koordination) [+49 5321 704]",
    ";Familienbündnis Weißwasser;SN;;;02943;Weißwasser;;;;;ruhend;;;;;;;;",
]


def csv_file(*rows: str, header: str = HEADER, bom: bool = True) -> bytes:
    text = "\r\n".join([header, *rows]) + "\r\n"
    return (("\ufeff" if bom else "") + text).encode()


async def upload(
    client: httpx.AsyncClient, content: bytes, *, dry_run: bool, headers: dict[str, str] = ADMIN
) -> httpx.Response:
    return await client.post(
        "/alliances/import",
        params={"dry_run": str(dry_run).lower()},
        content=content,
        headers={**headers, "Content-Type": "text/csv"},
    )


async def outbox_count(app: FastAPI) -> int:
    async with app.state.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_a_dry_run_reports_and_changes_nothing(
    client: httpx.AsyncClient, directory_app: FastAPI
) -> None:
    response = await upload(client, csv_file(*ROWS), dry_run=True)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "dry_run": True, "created": 2, "updated": 0, "unchanged": 0, "errors": [], "repairs": [],
    }  # fmt: skip
    assert (await client.get("/alliances")).json()["total"] == 0
    assert await outbox_count(directory_app) == 0


async def test_the_real_run_creates_and_a_second_run_changes_nothing(
    client: httpx.AsyncClient, directory_app: FastAPI
) -> None:
    first = await upload(client, csv_file(*ROWS), dry_run=False)
    events_after_first = await outbox_count(directory_app)
    second = await upload(client, csv_file(*ROWS), dry_run=False)

    assert first.json()["created"] == 2
    assert second.json() == {
        "dry_run": False, "created": 0, "updated": 0, "unchanged": 2, "errors": [], "repairs": [],
    }  # fmt: skip
    assert events_after_first == 4  # created + contacts, for each
    assert await outbox_count(directory_app) == events_after_first
    goslar = (await client.get("/alliances", params={"q": "Goslar"})).json()["items"][0]
    assert goslar["slug"] == "lb-goslar"
    assert goslar["latitude"] == 51.9059
    assert goslar["founded_on"] == "2005-03-01"
    assert goslar["topics"] == ["kinderbetreuung", "kinderarmut"]
    assert goslar["partners"][1] == {"name": "Harz GmbH", "type": "unternehmen"}
    assert goslar["awards"] == [{"award": "ausgezeichnet-in-die-zukunft", "year": 2019}]
    assert "contacts" not in goslar
    private = await client.get(f"/alliances/{goslar['id']}/private", headers=ADMIN)
    assert private.json()["contacts"] == [
        {"name": "Eva Roth", "email": "eva.roth@example.org", "role": "Koordination",
         "phone": "+49 5321 704"},
    ]  # fmt: skip


async def test_a_changed_row_updates_only_that_alliance(
    client: httpx.AsyncClient, directory_app: FastAPI
) -> None:
    await upload(client, csv_file(*ROWS), dry_run=False)
    changed = ROWS[1].replace(";ruhend;", ";aktiv;")

    report = (await upload(client, csv_file(ROWS[0], changed), dry_run=False)).json()

    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 1)
    audit_ids = (await client.get("/alliances", params={"q": "Weisswasser"})).json()["items"]
    audit = await client.get(f"/alliances/{audit_ids[0]['id']}/audit", headers=ADMIN)
    assert [entry["changed_fields"] for entry in audit.json()][-1] == ["status"]


async def test_invalid_rows_are_reported_by_line_and_column_and_nothing_is_imported(
    client: httpx.AsyncClient, directory_app: FastAPI
) -> None:
    bad = [
        ROWS[0],
        ";Bündnis ohne PLZ;NI;;;;Celle;;;;;;;;;;;;;",
        ";Bündnis Fantasialand;XX;;;12345;Irgendwo;;;;;;;;;;;;;",
        ";Bündnis Koordinaten;NI;;;12345;Celle;;52,6;;;;;;;;;;;",
        ";Bündnis Partner;NI;;;12345;Celle;;;;;;;;;;Stadt Celle;;;",
        ";Bündnis Website;NI;;;12345;Celle;;;;;;;ftp://example.org;;;;;;",
    ]

    dry = (await upload(client, csv_file(*bad), dry_run=True)).json()
    real = await upload(client, csv_file(*bad), dry_run=False)

    errors = {(error["line"], error["field"]) for error in dry["errors"]}
    assert {(3, "plz"), (4, "land"), (5, "breitengrad"), (6, "partner"), (7, "website")} <= errors
    assert dry["created"] == 1  # the valid first row would be created
    assert real.status_code == 422
    assert real.headers["content-type"] == "application/problem+json"
    assert real.json()["code"] == "import_rejected"
    assert len(real.json()["errors"]) == len(dry["errors"])
    assert (await client.get("/alliances")).json()["total"] == 0
    assert await outbox_count(directory_app) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (csv_file(ROWS[1], header=HEADER.replace("plz", "postleitzahl")), "postleitzahl"),
        (csv_file(ROWS[1], header="name;land;ort"), "plz"),
    ],
)
async def test_a_file_that_is_not_an_alliance_csv_is_refused_with_a_reason(
    client: httpx.AsyncClient, content: bytes, message: str
) -> None:
    response = await upload(client, content, dry_run=True)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_import_file"
    assert message in response.json()["detail"]


async def test_only_admins_may_import(client: httpx.AsyncClient) -> None:
    anonymous = await upload(client, csv_file(*ROWS), dry_run=True, headers={})
    coordinator = await upload(
        client, csv_file(*ROWS), dry_run=True, headers=bearer(Role.ALLIANCE, "x")
    )
    assert anonymous.status_code == 401
    assert coordinator.status_code == 403


def parse_csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.content.startswith("\ufeff".encode())
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


async def test_the_csv_export_opens_in_german_excel_and_imports_again_unchanged(
    client: httpx.AsyncClient,
) -> None:
    await upload(client, csv_file(*ROWS), dry_run=False)

    public = await client.get("/alliances/export.csv")
    admin = await client.get("/alliances/export.csv", headers=ADMIN)

    assert public.headers["content-type"].startswith("text/csv")
    assert "attachment" in public.headers["content-disposition"]
    public_rows = parse_csv(public)
    assert [row["name"] for row in public_rows] == [
        "Familienbündnis Weißwasser", "Lokales Bündnis für Familie Goslar",
    ]  # fmt: skip
    assert "kontakte" not in public_rows[0]
    assert "@" not in public.text
    assert "eva.roth@example.org" in parse_csv(admin)[1]["kontakte"]
    again = (await upload(client, admin.content, dry_run=False)).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)


async def test_the_export_takes_the_search_filters(client: httpx.AsyncClient) -> None:
    await upload(client, csv_file(*ROWS), dry_run=False)
    saxony = parse_csv(await client.get("/alliances/export.csv", params={"state": "SN"}))
    assert [row["slug"] for row in saxony] == ["familienbuendnis-weisswasser"]


async def test_the_geojson_export_is_a_feature_collection_of_placed_alliances(
    client: httpx.AsyncClient,
) -> None:
    await upload(client, csv_file(*ROWS), dry_run=False)

    public = await client.get("/alliances/export.geojson")
    admin = await client.get("/alliances/export.geojson", headers=ADMIN)

    assert public.headers["content-type"] == "application/geo+json"
    collection: dict[str, Any] = json.loads(public.text)
    assert collection["type"] == "FeatureCollection"
    # Weißwasser's row has no coordinates: it gets the town's, marked approximate.
    weisswasser, feature = collection["features"]
    assert weisswasser["properties"]["coordinates_approximate"] is True
    assert collection["unlocated"] == []
    assert feature["geometry"] == {"type": "Point", "coordinates": [10.4289, 51.9059]}
    assert feature["properties"]["name"] == "Lokales Bündnis für Familie Goslar"
    assert feature["properties"]["url"].endswith("/buendnisse/lb-goslar")
    assert "@" not in public.text
    assert json.loads(admin.text)["features"][1]["properties"]["contacts"][0]["name"] == "Eva Roth"


async def test_old_mac_line_ends_are_read_like_any_other(client: httpx.AsyncClient) -> None:
    content = "name;land;plz;ort\rBündnis Goslar;NI;38640;Goslar\rBündnis Celle;NI;29221;Celle\r"

    response = await upload(client, content.encode(), dry_run=True)

    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2


async def created_entries(app: FastAPI) -> list[str]:
    """The `entry` of every `created` event in the outbox."""
    async with app.state.runtime.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.event_type == ALLIANCE_CREATED)
        )
        return [str(row.data["entry"]) for row in rows.all()]


@pytest.mark.parametrize(("existing", "entry"), [(None, "new"), ("true", "existing")])
async def test_an_import_of_existing_members_says_so_on_their_created_events(
    client: httpx.AsyncClient, directory_app: FastAPI, existing: str | None, entry: str
) -> None:
    """Moving the network's alliances in from an earlier database must not welcome them."""
    params = {"dry_run": "false"} | ({"existing": existing} if existing else {})
    response = await client.post(
        "/alliances/import",
        params=params,
        content=csv_file(*ROWS),
        headers={**ADMIN, "Content-Type": "text/csv"},
    )

    assert response.status_code == 200, response.text
    assert await created_entries(directory_app) == [entry, entry]
