"""How notifications' pages are rendered: one Jinja2 environment with the shared
templates (`lobu/session_nav.html`, `lobu/csrf_field.html`) and the session in context.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from lobu.shared import ServiceSettings
from lobu.shared.web_sessions import page_templates as shared_page_templates


def page_templates(settings: ServiceSettings) -> Jinja2Templates:
    """The pages' templates, built once per app (main.py keeps them in app.state)."""
    return shared_page_templates("lobu.notifications", settings)


def render_page(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """`name` with `context`, the session (or None) and its CSRF value."""
    templates: Jinja2Templates = request.app.state.page_templates
    return templates.TemplateResponse(
        request,
        name,
        dict(context),
        status_code=status_code,
        headers=dict(headers or {}),
    )
