"""A local SMTP sink for development and tests: every message becomes an `.eml` file.

It speaks real SMTP (aiosmtpd), so the notifications service sends mail exactly as
it would to a real relay; nothing leaves the machine.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class SaveToFolder:
    """aiosmtpd handler: writes each accepted message to `folder` as an .eml file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:  # noqa: N802
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        content = envelope.original_content or b""
        recipients = ", ".join(envelope.rcpt_tos)
        header = f"X-Lobu-Envelope-To: {recipients}\r\n".encode()
        temporary = path.with_suffix(".part")
        temporary.write_bytes(header + content)
        temporary.rename(path)  # readers never see half a message
        return "250 Message accepted for delivery"


class MailSink:
    """An SMTP server on `host:port` saving mail under `folder`, in a background thread."""

    def __init__(self, folder: Path, *, host: str = "127.0.0.1", port: int = 1025) -> None:
        self.folder = folder
        self.host = host
        self.port = port
        self._controller: Any = None

    def start(self) -> None:
        """Start accepting mail."""
        self._controller = Controller(SaveToFolder(self.folder), hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        """Stop accepting mail."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[Path]:
        """The saved messages, oldest first."""
        return sorted(self.folder.glob("*.eml"))
