"""The contact form's page routes: write to an alliance without seeing its contacts.

GET shows the alliance's page with the form (pages.py renders it); POST validates,
rate-limits and publishes, then redirects (303) to the page with a thank-you, so that
reloading never sends twice. A filled honeypot gets the same redirect and nothing else.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lobu.directory.contact import ContactMessages
from lobu.directory.contact_form import ContactForm, read_contact_form
from lobu.directory.errors import AllianceNotFoundError, ContactRateLimitedError
from lobu.directory.pages import render_alliance_page, templates
from lobu.directory.service import AllianceDirectory

router = APIRouter(include_in_schema=False)

RATE_MESSAGES = {
    "client": "Von Ihrem Anschluss kamen in der letzten Zeit schon mehrere Nachrichten. "
    "Bitte versuchen Sie es später noch einmal.",
    "alliance": "Dieses Bündnis hat in der letzten Zeit sehr viele Nachrichten bekommen. "
    "Bitte versuchen Sie es später noch einmal.",
}


@router.post("/buendnisse/{slug}/kontakt", response_class=HTMLResponse)
async def send_contact_message(request: Request, slug: str) -> Response:
    """Accept a message for the alliance's contacts (or show the form with its messages)."""
    directory: AllianceDirectory = request.app.state.directory
    messages: ContactMessages = request.app.state.contact_messages
    try:
        alliance = await directory.get_by_slug(slug)
    except AllianceNotFoundError:
        site = request.app.state.site_links
        return templates.TemplateResponse(
            request, "not_found.html", {"slug": slug, "site": site}, status_code=404
        )
    form = read_contact_form(await request.body())
    thanks = RedirectResponse(f"/buendnisse/{alliance.slug}?gesendet=1#kontakt", status_code=303)
    if form.honeypot_filled:
        return thanks  # a bot: it sees success, nobody gets mail
    if alliance.status == "dissolved":
        form.errors["nachricht"] = "Dieses Bündnis ist aufgelöst und nimmt keine Nachrichten an."
    if form.errors:
        return render_alliance_page(request, alliance, form=form, status_code=422)
    client = request.client.host if request.client else "unknown"
    try:
        await messages.submit(alliance, form, client=client)
    except ContactRateLimitedError as error:
        limited = ContactForm(values=form.values, errors={"form": RATE_MESSAGES[error.limited]})
        return render_alliance_page(request, alliance, form=limited, status_code=429)
    return thanks
