"""The sign-in's parts, wired in one call from main.py: use cases, retention, settings."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlmodel import col

from lobu.directory.settings import DirectorySettings
from lobu.directory.sign_in import SignIns
from lobu.directory.sign_in_models import SignInAuditEntry, SignInLink
from lobu.shared import RetentionRule, ServiceRuntime
from lobu.shared.privacy import AddressHasher


def set_up_sign_in(app: FastAPI, runtime: ServiceRuntime, settings: DirectorySettings) -> None:
    """Make the sign-in reachable from the pages; expired links and old audit entries go."""
    app.state.sign_ins = SignIns(
        runtime.sessions,
        source=runtime.source,
        settings=settings,
        hasher=AddressHasher.from_settings(settings),
    )
    app.state.secure_cookies = settings.secure_cookies
    app.state.sign_in_link_minutes = settings.sign_in_link_minutes
    # A link's row holds the address: it goes a minute after the link expired.
    runtime.retention.declare(
        RetentionRule(
            name="sign_in_links",
            table=SignInLink,
            period=timedelta(minutes=1),
            column=col(SignInLink.expires_at),
        )
    )
    runtime.retention.declare(
        RetentionRule(
            name="sign_in_audit",
            table=SignInAuditEntry,
            period=settings.sign_in_audit_retention,
            column=col(SignInAuditEntry.at),
        )
    )
