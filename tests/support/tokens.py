"""The test suite's own JWT secret: tests say explicitly what they run with.

In-process apps run as `environment="test"` with this secret; processes that stand in
for `make run` use deploy/local/run.env's development setup instead.
"""

from __future__ import annotations

from typing import Any

from lobu.shared.auth import Role, create_token

TEST_JWT_SECRET = "lobu-test-secret-only-the-test-suite-knows-0123456789"
# Keyword arguments for a service's settings in a test.
TEST_AUTH: dict[str, Any] = {"environment": "test", "jwt_secret": TEST_JWT_SECRET}


def bearer(role: Role, alliance_id: str | None = None) -> dict[str, str]:
    """Authorization headers for a token the test settings accept."""
    token = create_token(secret=TEST_JWT_SECRET, role=role, alliance_id=alliance_id)
    return {"Authorization": f"Bearer {token}"}
