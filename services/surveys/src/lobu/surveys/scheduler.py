"""The clock's work, a task in the service process: open and close surveys by their
times, queue due reminders, and load the demo surveys once their alliances are known.

Every step is safe to run in several processes at once (row locks, unique rows).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from lobu.surveys.reminders import Reminders
from lobu.surveys.service import SurveyCatalogue

logger = logging.getLogger(__name__)

Step = Callable[[], Awaitable[object]]


class SurveyScheduler:
    """Runs `tick` every `interval` seconds until stopped."""

    def __init__(
        self,
        catalogue: SurveyCatalogue,
        reminders: Reminders,
        *,
        interval: float,
        extra_steps: Sequence[Step] = (),
    ) -> None:
        self._catalogue = catalogue
        self._reminders = reminders
        self._interval = interval
        self._extra_steps = list(extra_steps)
        self._task: asyncio.Task[None] | None = None

    async def tick(self) -> None:
        """One round: the lifecycle first, so that reminders see the current states."""
        await self._catalogue.apply_clock()
        await self._reminders.send_due()
        for step in self._extra_steps:
            await step()

    async def start(self) -> None:
        """Start the background loop."""
        self._task = asyncio.create_task(self._run(), name="survey-scheduler")

    async def stop(self) -> None:
        """Stop the loop and wait for it."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                logger.exception("survey scheduler round failed; trying again")
            await asyncio.sleep(self._interval)
