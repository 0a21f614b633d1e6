"""The emails notifications writes, rendered from Jinja2 templates (German, plain text)."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, StrictUndefined


@dataclass(frozen=True)
class MessageText:
    """Subject and body of one email."""

    subject: str
    body: str


class MessageRenderer:
    """Renders the templates in `lobu/notifications/templates/`."""

    def __init__(self) -> None:
        # Plain-text mail: nothing to escape; StrictUndefined makes a missing value an error.
        self._templates = Environment(
            loader=PackageLoader("lobu.notifications", "templates"),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,  # noqa: S701  # plain-text mail, not HTML
        )

    def welcome(
        self, *, contact_name: str, contact_role: str | None, alliance_name: str, city: str
    ) -> MessageText:
        """The welcome mail to a contact of a newly entered alliance."""
        values = {
            "contact_name": contact_name,
            "contact_role": contact_role,
            "alliance_name": alliance_name,
            "city": city,
        }
        subject = self._templates.get_template("welcome.subject.txt").render(values).strip()
        body = self._templates.get_template("welcome.body.txt").render(values)
        return MessageText(subject=subject, body=body)
