"""The Jinja2 templates of every surveys page, with the shared session nav and CSRF field.

Built once in main.py (`page_environment` needs the settings for the nav's links) and
kept on `app.state.templates`; every page gets the session and its CSRF value from
`session_context`, the templates' context processor.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from lobu.shared.settings import ServiceSettings
from lobu.shared.web_sessions import page_templates
from lobu.surveys.charts import percent, render_svg


def build_templates(settings: ServiceSettings) -> Jinja2Templates:
    """The service's templates over the shared ones, with the chart helpers."""
    templates = page_templates("lobu.surveys", settings)
    templates.env.globals["percent"] = percent
    templates.env.globals["render_svg"] = render_svg
    return templates


def render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    """The page `name`, with who is signed in (for the nav) and the session's CSRF value."""
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request, name, context, status_code=status_code,
        headers=headers,
    )  # fmt: skip
