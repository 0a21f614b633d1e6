"""The demo alliances shipped with the directory, loaded into an empty database.

They go through the ordinary import (so through validation, the outbox and the audit
trail), as the system user `demo-data`, as existing members of the network: their
`created` events say `entry: existing`, so notifications welcomes nobody. Places and
coordinates are real GeoNames data (CC BY 4.0, see data/README.md); everything else,
the contact persons at example.org included, is invented.
"""

from __future__ import annotations

import logging
from importlib.resources import files

from sqlalchemy import func, select

from lobu.directory.importer import AllianceImporter
from lobu.directory.models import Alliance
from lobu.directory.service import AllianceDirectory
from lobu.shared import Caller, Role

logger = logging.getLogger(__name__)

DEMO_ACTOR = Caller(subject="demo-data", role=Role.ADMIN)


def demo_file() -> bytes:
    """The shipped demo CSV."""
    return (files("lobu.directory") / "data" / "demo_alliances.csv").read_bytes()


async def load_demo_data_if_empty(directory: AllianceDirectory) -> int:
    """Import the demo alliances unless the directory already has alliances."""
    async with directory.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Alliance))
    if count:
        return 0
    report = await AllianceImporter(directory).run(
        demo_file(), dry_run=False, actor=DEMO_ACTOR, entry="existing"
    )
    logger.info("loaded %d demo alliances", report.created)
    return report.created
