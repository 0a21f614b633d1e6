"""No public event carries personal data: every event type, read off the real topic.

Alliances get contacts with names, emails and phone numbers nobody else uses; then
they are created, changed (contacts alone, and name with contacts), republished
(POST /admin/republish) and deleted. Every record of `directory.alliance` about them
(created, updated, snapshot, deleted) is searched, value, key and headers, for those
strings and for anything shaped like an email or a phone number. The same strings are
found on the internal topic, so the search itself can find them.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lobu.shared.topics import DIRECTORY_ALLIANCE, DIRECTORY_ALLIANCE_CONTACTS
from tests.e2e.conftest import Platform
from tests.support.kafka_probe import SeenRecord, read_topic

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

EMAIL_SHAPE = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE_SHAPE = re.compile(r"\+?[0-9][0-9 ()/-]{4,28}[0-9]")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def person(first: str, last: str, area_code: str) -> dict[str, str]:
    """A contact nobody else has: a random word in the name, address and number."""
    word = uuid.uuid4().hex[:6]
    number = f"{random.randrange(100000, 999999)}"
    return {
        "name": f"{first} {last}-{word}",
        "email": f"{first.lower()}.{word}@familie-{word}.example.org",
        "phone": f"+49 {area_code} {number}",
        "role": "Koordination",
    }


def needles(contacts: list[dict[str, str]]) -> list[str]:
    """The strings that must not appear: names, their parts, emails, phones (also digits only)."""
    found = []
    for contact in contacts:
        last = contact["name"].split()[-1]
        digits = re.sub(r"[^0-9]", "", contact["phone"])
        found += [contact["name"], last, contact["email"], contact["email"].split("@")[0]]
        found += [contact["phone"], digits, "0" + digits[2:]]  # +49 5141… and 05141…
    return found


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def text_of(value: bytes | None) -> str:
    """A record value as text: raw, and for JSON its strings unescaped (ü, not \\u00fc)."""
    raw = (value or b"").decode(errors="replace")
    try:
        return raw + "\n" + "\n".join(strings_in(json.loads(raw)))
    except ValueError:
        return raw


def personal_data_in(record: SeenRecord, forbidden: list[str]) -> list[str]:
    """What in `record` (value, key, headers) is one of `forbidden`, or email- or phone-shaped."""
    texts = {"key": (record.key or b"").decode(errors="replace")}
    texts |= {
        f"header {name}": value.decode(errors="replace") for name, value in record.headers.items()
    }
    texts["value"] = text_of(record.value)
    problems = [
        f"{where} holds {needle!r}"
        for where, text in texts.items()
        for needle in forbidden
        if needle.lower() in text.lower()
    ]
    problems += [f"{where} holds an email {m.group()!r}" for where, text in texts.items()
                 for m in EMAIL_SHAPE.finditer(text)]  # fmt: skip
    candidates = [text for where, text in texts.items() if where != "value"]
    try:
        candidates += list(strings_in(json.loads(record.value or b"null")))
    except ValueError:
        candidates.append(texts["value"])
    for text in candidates:
        digits = sum(character.isdigit() for character in text)
        if PHONE_SHAPE.fullmatch(text) and digits >= 7 and not ISO_DATE.fullmatch(text):
            problems.append(f"a phone-shaped value {text!r}")
    return problems


async def test_no_public_event_of_any_type_carries_a_contacts_name_email_or_phone(
    platform: Platform,
) -> None:
    first = [person("Hildegard", "Pfeffermühl", "5141")]
    second = [person("Ottokar", "Wunderlich", "511"), person("Schorsch", "Quetschenpaua", "89")]
    third = [person("Walburga", "Zwiebelgrün", "30")]
    async with httpx.AsyncClient(
        base_url=platform.directory.url, headers=platform.admin_headers, timeout=30
    ) as client:

        async def call(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
            response = await client.request(method, path, **kwargs)
            assert response.status_code < 300, response.text
            return dict(response.json()) if response.content else {}

        kept = await call("POST", "/alliances", json={
            "name": f"Bündnis Datenschutz {uuid.uuid4().hex[:6]}", "state": "NI",
            "postal_code": "29221", "city": "Celle", "contacts": first,
        })  # fmt: skip
        removed = await call("POST", "/alliances", json={
            "name": f"Bündnis Datensparsam {uuid.uuid4().hex[:6]}", "state": "HB",
            "postal_code": "28195", "city": "Bremen", "contacts": third,
        })  # fmt: skip
        # name and contacts together; then contacts alone (updated with changed_fields [])
        await call("PATCH", f"/alliances/{kept['id']}", headers={"If-Match": '"1"'},
                   json={"name": f"{kept['name']} neu", "contacts": second})  # fmt: skip
        await call("PATCH", f"/alliances/{removed['id']}", headers={"If-Match": '"1"'},
                   json={"contacts": third + first})  # fmt: skip
        await call("POST", "/admin/republish")
        await call("DELETE", f"/alliances/{removed['id']}")

    keys = {str(kept["id"]).encode(), str(removed["id"]).encode()}
    expected = {
        (str(kept["id"]).encode(), "created"), (str(kept["id"]).encode(), "updated"),
        (str(kept["id"]).encode(), "snapshot"), (str(removed["id"]).encode(), "created"),
        (str(removed["id"]).encode(), "updated"), (str(removed["id"]).encode(), "snapshot"),
        (str(removed["id"]).encode(), "deleted"),
    }  # fmt: skip

    def kind(record: SeenRecord) -> str:
        return record.headers.get("ce_type", b"").decode().split(".")[-2]

    records = await read_topic(
        platform.kafka.bootstrap_servers, DIRECTORY_ALLIANCE, timeout=90,
        until=lambda seen: expected <= {(r.key, kind(r)) for r in seen if r.key in keys},
    )  # fmt: skip
    ours = [record for record in records if record.key in keys]
    forbidden = needles(first + second + third)

    found = [(kind(r), r.offset, personal_data_in(r, forbidden)) for r in ours]
    assert [entry for entry in found if entry[2]] == []
    assert {kind(record) for record in ours} == {"created", "updated", "snapshot", "deleted"}
    leaks = [(r.key, r.offset) for r in records
             if any(n.lower() in text_of(r.value).lower() for n in forbidden)]  # fmt: skip
    assert leaks == [], "another record on the public topic holds these contacts' data"

    # The search can find them: the same names, emails and phones are on the internal topic.
    internal = await read_topic(
        platform.kafka.bootstrap_servers, DIRECTORY_ALLIANCE_CONTACTS, timeout=90,
        until=lambda seen: sum(r.key in keys for r in seen) >= 4,
    )  # fmt: skip
    internal_text = " ".join(text_of(r.value) for r in internal if r.key in keys)
    for contact in first + second + third:
        for field in ("name", "email", "phone"):
            assert contact[field] in internal_text
