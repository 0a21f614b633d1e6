"""Access logs never carry a link's credential (sign-in, survey, cancel, unsubscribe)."""

from __future__ import annotations

import io
import logging

import pytest

from lobu.shared.logs import SecretPathFilter, configure_logging, without_secrets

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/anmelden/Zq3v-secret_0123456789abcdef", "/anmelden/…"),
        ("/umfrage/tok3n?x=1", "/umfrage/…?x=1"),
        ("/answers/tok3n", "/answers/…"),
        ("/unsubscribe/abc.def", "/unsubscribe/…"),
        ("/registrations/1f2e/secret-token", "/registrations/1f2e/…"),
        ("/anmelden", "/anmelden"),
        ("/alliances/1f2e", "/alliances/1f2e"),
    ],
)
def test_the_credential_of_a_secret_link_is_replaced(path: str, logged: str) -> None:
    assert without_secrets(path) == logged


def test_uvicorns_access_records_lose_the_secret() -> None:
    configure_logging(service="test", json=False)
    access = logging.getLogger("uvicorn.access")
    assert sum(isinstance(known, SecretPathFilter) for known in access.filters) == 1
    configure_logging(service="test", json=False)  # a second app in the same process
    assert sum(isinstance(known, SecretPathFilter) for known in access.filters) == 1
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    access.addHandler(handler)
    try:
        access.warning(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/anmelden/s3cr3t-value", "1.1", 303
        )
    finally:
        access.removeHandler(handler)
    assert "s3cr3t-value" not in stream.getvalue()
    assert "/anmelden/…" in stream.getvalue()
