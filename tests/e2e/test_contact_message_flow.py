"""A citizen writes to an alliance on its page; its contacts get the message by mail.

The directory and notifications run as `make run` runs them; the message travels through
the outbox, Kafka's internal topic and notifications' dispatcher to the SMTP sink. The
page never shows a contact's address; the mails answer to the sender.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import httpx
import pytest

from lobu.shared.topics import DIRECTORY_CONTACT_MESSAGE
from tests.e2e.conftest import Platform
from tests.support.kafka_probe import read_topic
from tests.support.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_a_message_from_the_alliance_page_reaches_each_contact_with_reply_to_the_sender(
    platform: Platform,
) -> None:
    word = uuid.uuid4().hex[:8]
    contacts = [f"anna-{word}@example.org", f"ben-{word}@example.org"]
    sender = f"buergerin-{word}@example.de"
    body = {
        "name": f"Lokales Bündnis für Familie Kontakt {word}", "state": "NI",
        "postal_code": "38640", "city": "Goslar",
        "contacts": [{"name": f"Anna {word}", "email": contacts[0]},
                     {"name": f"Ben {word}", "email": contacts[1]}],
    }  # fmt: skip
    async with httpx.AsyncClient(base_url=platform.directory.url, timeout=30) as client:
        created = await client.post("/alliances", json=body, headers=platform.admin_headers)
        assert created.status_code == 201, created.text
        slug = created.json()["slug"]
        page = (await client.get(f"/buendnisse/{slug}")).text
        sent = await client.post(
            f"/buendnisse/{slug}/kontakt",
            content=urlencode({"name": "Clara Bürgerin", "email": sender,
                               "nachricht": f"Wann ist das nächste Treffen? {word}"}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
    assert "@example.org" not in page
    assert word not in page.replace(f"kontakt-{word}", "").replace(f"Kontakt {word}", "")
    assert sent.status_code == 303

    for address in contacts:
        mails = await eventually(
            lambda address=address: [
                mail for mail in platform.mails_to(address)
                if "Kontakt" in str(mail["Subject"])
            ],
            timeout=60, what=f"the message to {address}",
        )  # fmt: skip
        assert len(mails) == 1
        assert mails[0]["Reply-To"] == sender
        plain = mails[0].get_body(preferencelist=("plain",))
        assert plain is not None
        assert f"Wann ist das nächste Treffen? {word}" in plain.get_content()
        other = contacts[1] if address == contacts[0] else contacts[0]
        assert other not in mails[0].as_string()
    assert platform.mails_to(sender) == []
    # It travelled on the internal topic, keyed by the alliance.
    records = await read_topic(platform.kafka.bootstrap_servers, DIRECTORY_CONTACT_MESSAGE)
    assert [r.key for r in records if sender.encode() in (r.value or b"")] == [
        created.json()["id"].encode()
    ]
