"""Every template of the routing table rendered: subject, text and HTML parts, footer,
umlauts, escaping and links; and the message as it goes on the wire.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest

from lobu.notifications.mailer import OutgoingMail, compose, message_id
from lobu.notifications.messages import MessageRenderer
from lobu.notifications.routing import ROUTES, RecipientKind, Route, reason_for

pytestmark = pytest.mark.unit

NAME = "Bündnis „Kinder & Jugend <Nord>“ Großröhrsdorf"
CITY = "Großröhrsdorf"
URL = "http://directory.test/buendnisse/buendnis-kinder-jugend-nord"
SERVICEBUERO = "servicebuero@lokale-buendnisse-fuer-familie.de"  # the signature's default
UNSUBSCRIBE = "http://notifications.test/unsubscribe/key.directory_changes.sig"
VALUES = {
    "alliance_name": NAME,
    "city": CITY,
    "alliance_url": URL,
    "contact_name": "Jörg Weiß",
    "contact_role": "Sprecherin",
    # survey mails
    "title": "Jahresumfrage 2026 „Familie & Beruf <Süd>“",
    "link": "http://surveys.test/antworten/tok3n",
    "closes_on": "30.06.2026",
    "intro": "Wie geht es Familien in Ihrer Stadt?",
    "days_before": 7,
    "submitted_on": "02.06.2026 um 00:30 Uhr",
    "replaced": True,
    # registration mails
    "name": "Jürgen Weiß",
    "action_title": "Fest „Kinder & Jugend <Nord>“ am Mühlbach",
    "starts_on": "15.05.2027",
    "starts_time": "10:00",
    "place_line": "Mühlweg 3, 97070 Würzburg",
    "online_url": None,
    "seats": 3,
    "seats_ahead": 5,
    "cancel_url": "http://events.test/anmeldungen/c4nc3l",
    "cancel_reason": "participant",
    # the day before: the coordinators' list of who is coming
    "participants": [{"name": "Jürgen Weiß", "email": "juergen@example.de", "seats": 3}],
    "seats_confirmed": 3,
    "capacity": 20,
    "seats_waiting": 2,
    # a citizen's message
    "sender_name": "Max Bürger",
    "sender_email": "max@example.de",
    "message": "Wann trifft sich „Kinder & Jugend <Nord>“?",
    "fallback": False,
    # a sign-in link
    "sign_in_url": "http://directory.test/anmelden/s1gn-1n",
    "valid_until": "14:35",
    "staff": False,
    "alliance_names": [NAME],
}
SURVEY_LINK = str(VALUES["link"])
CANCEL_URL = str(VALUES["cancel_url"])
# What each template names (escaped in HTML) and the one link it must carry, if any.
EXPECTED: dict[str, tuple[str, str | None]] = {
    "welcome": (NAME, URL),
    "alliance_entered": (NAME, URL),
    "alliance_removed": (NAME, None),  # a removed alliance has no page any more
    "survey_invitation": (NAME, SURVEY_LINK),
    "survey_reminder": (NAME, SURVEY_LINK),
    "survey_receipt": (NAME, SURVEY_LINK),
    "registration_confirmed": (str(VALUES["action_title"]), CANCEL_URL),
    "registration_waitlisted": (str(VALUES["action_title"]), CANCEL_URL),
    "registration_promoted": (str(VALUES["action_title"]), None),
    "registration_cancelled": (str(VALUES["action_title"]), None),
    "contact_message": (NAME, None),
    "registration_reminder": (str(VALUES["action_title"]), None),
    "registration_roster": (str(VALUES["action_title"]), None),
    "sign_in_link": (NAME, str(VALUES["sign_in_url"])),
}
REASON_VALUES = {"role": " (Sprecherin)", "alliance_name": NAME}


class Links(HTMLParser):
    """The hrefs of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [value or "" for name, value in attrs if name == "href"]


def hrefs(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.hrefs


def render(route: Route) -> tuple[str, str, str]:
    unsubscribe = None if route.transactional else UNSUBSCRIBE
    mail = MessageRenderer().render(
        route.template,
        VALUES,
        reason=reason_for(route.recipients, REASON_VALUES),
        unsubscribe_url=unsubscribe,
    )
    return mail.subject, mail.text, mail.html


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.event_type}:{r.template}" for r in ROUTES])
def test_every_routed_template_renders_both_parts_with_footer_umlauts_and_links(
    route: Route,
) -> None:
    subject, text, html = render(route)

    assert "\n" not in subject
    assert subject.strip() == subject
    named, link = EXPECTED[route.template]
    # Text: the values as they are, the reason, the link written out on a line of its own.
    assert named in text
    if link is not None:
        assert f"\n{link}\n" in text
    else:
        assert "http://" not in text.split("\n-- \n")[0]
    reason = reason_for(route.recipients, REASON_VALUES)
    assert reason in " ".join(text.split())
    assert "ü" in text
    assert "Ã" not in text  # no double-encoded UTF-8
    # HTML: the same values escaped, the links as anchors, German, a title.
    assert '<html lang="de">' in html
    assert "&amp;" in html
    assert "&lt;" in html
    assert "<Nord>" not in html
    assert "<Süd>" not in html
    if link is not None:
        assert link in hrefs(html)
    assert "ü" in html
    if route.transactional:
        assert UNSUBSCRIBE not in text
        assert UNSUBSCRIBE not in html
    else:
        assert UNSUBSCRIBE in text
        assert UNSUBSCRIBE in hrefs(html)
        assert "Abbestellen" in html


def test_the_welcome_greets_the_contact_and_names_their_role() -> None:
    (welcome,) = [r for r in ROUTES if r.template == "welcome"]
    assert welcome.transactional
    assert welcome.recipients is RecipientKind.ALLIANCE_CONTACTS

    subject, text, html = render(welcome)

    assert subject == "Willkommen im Netzwerk der Lokalen Bündnisse für Familie"
    assert text.startswith("Guten Tag Jörg Weiß,\n")
    assert "<p>Guten Tag Jörg Weiß,</p>" in html
    assert f"als Ansprechperson (Sprecherin) für „{NAME}“" in " ".join(text.split())


def test_the_digest_lists_each_item_once_in_both_parts() -> None:
    items = [
        {"summary": "Neu eingetragen: Bündnis Lüneburg (Lüneburg)", "url": URL},
        {"summary": "Ausgetragen: Bündnis <Celle> (Celle)", "url": None},
    ]
    mail = MessageRenderer().render(
        "digest",
        {
            "category_title": "Änderungen in der Adressdatenbank",
            "day": "02.03.2026",
            "items": items,
        },
        reason="Sie erhalten diese Zusammenfassung, weil …",
        unsubscribe_url=UNSUBSCRIBE,
    )

    assert (
        mail.subject == "Tägliche Zusammenfassung: Änderungen in der Adressdatenbank vom 02.03.2026"
    )
    assert "(2 Meldungen)" in mail.text
    assert mail.text.count("Neu eingetragen: Bündnis Lüneburg") == 1
    assert mail.text.count("Ausgetragen: Bündnis <Celle>") == 1
    assert "Bündnis &lt;Celle&gt;" in mail.html
    assert hrefs(mail.html) == [URL, f"mailto:{SERVICEBUERO}", UNSUBSCRIBE]


def wire(mail: OutgoingMail) -> EmailMessage:
    """The message as the SMTP server receives it, parsed back."""
    raw = compose(mail, sender="Servicebüro <servicebuero@example.org>").as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_a_mail_is_multipart_alternative_with_text_then_html_and_list_unsubscribe() -> None:
    message = wire(
        OutgoingMail(
            recipient="servicebuero@example.org",
            subject="Neu eingetragen: Bündnis Lüneburg",
            text="Grüße\n",
            html="<p>Grüße</p>",
            idempotency_key="event-1:servicebuero@example.org",
            unsubscribe_url=UNSUBSCRIBE,
        )
    )

    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]  # the last is the preferred one
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content() == "Grüße\n"
    assert html.get_content().strip() == "<p>Grüße</p>"
    assert message["Subject"] == "Neu eingetragen: Bündnis Lüneburg"
    assert message["List-Unsubscribe"].strip() == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"].strip() == message_id("event-1:servicebuero@example.org")


def test_a_transactional_mail_has_no_list_unsubscribe() -> None:
    message = wire(
        OutgoingMail(
            recipient="grete@example.org",
            subject="Willkommen",
            text="Hallo\n",
            html="<p>Hallo</p>",
            idempotency_key="event-1:grete@example.org",
        )
    )

    assert message.get_content_type() == "multipart/alternative"
    assert message["List-Unsubscribe"] is None
    assert message["List-Unsubscribe-Post"] is None
