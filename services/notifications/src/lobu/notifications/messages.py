"""The mails notifications writes: German Jinja2 templates, a text and an HTML part each.

`templates/mail/<name>.subject.txt`, `<name>.txt` and `<name>.html`; every part ends
in a footer that says why the mail came (`reason`) and, for mail a recipient may opt
out of, the link to their preferences (`unsubscribe_url`). The text part's footer is
a signature: it starts with the "-- " line (RFC 3676) and says how to reach the
Servicebüro (`servicebuero`, from the settings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from lobu.notifications.wording import alliance_named, alliance_named_in


@dataclass(frozen=True)
class ServicebueroContact:
    """How every mail says the Servicebüro can be reached (its signature)."""

    email: str
    phone: str | None = None


DEFAULT_CONTACT = ServicebueroContact(email="servicebuero@lokale-buendnisse-fuer-familie.de")


@dataclass(frozen=True)
class RenderedMail:
    """Subject and both parts of one mail."""

    subject: str
    text: str
    html: str


class MessageRenderer:
    """Renders the templates in `lobu/notifications/templates/mail/`."""

    def __init__(self, servicebuero: ServicebueroContact = DEFAULT_CONTACT) -> None:
        loader = PackageLoader("lobu.notifications", "templates")
        # Text parts and subjects: nothing to escape. StrictUndefined: a missing value fails.
        self._text = Environment(
            loader=loader,
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,  # noqa: S701  # plain text, never HTML
        )
        # HTML parts: every value is escaped (a name like "Kinder & Jugend <Nord>").
        self._html = Environment(loader=loader, undefined=StrictUndefined, autoescape=True)
        for environment in (self._text, self._html):
            environment.globals["servicebuero"] = servicebuero
            environment.filters["alliance_named"] = alliance_named
            environment.filters["alliance_named_in"] = alliance_named_in

    def render(
        self,
        template: str,
        values: Mapping[str, Any],
        *,
        reason: str,
        unsubscribe_url: str | None,
        digest_offered: bool = True,
    ) -> RenderedMail:
        """Render `template` for one recipient; the footer offers the digest if it can be had."""
        context = {
            **values,
            "reason": reason,
            "unsubscribe_url": unsubscribe_url,
            "digest_offered": digest_offered,
        }
        subject = self._text.get_template(f"mail/{template}.subject.txt").render(context)
        context["subject"] = " ".join(subject.split())  # one line, whatever the values held
        return RenderedMail(
            subject=context["subject"],
            text=self._text.get_template(f"mail/{template}.txt").render(context),
            html=self._html.get_template(f"mail/{template}.html").render(context),
        )
