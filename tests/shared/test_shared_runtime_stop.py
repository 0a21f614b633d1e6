"""A service's shutdown ends even when one of its steps never does."""

from __future__ import annotations

import asyncio

import pytest

from lobu.shared import runtime as runtime_module

pytestmark = [pytest.mark.unit, pytest.mark.asyncio(loop_scope="session")]


async def test_a_step_that_never_ends_is_abandoned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime_module, "STOP_STEP_SECONDS", 0.2)
    release = asyncio.Event()

    async def hangs_even_when_cancelled() -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue  # a step that swallows its cancellation: wait_for would hang here

    started = asyncio.get_running_loop().time()
    await runtime_module._bounded("a stuck step", hangs_even_when_cancelled())
    assert asyncio.get_running_loop().time() - started < 5
    release.set()


async def test_a_failing_step_does_not_stop_the_shutdown(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def fails() -> None:
        raise RuntimeError("boom")

    await runtime_module._bounded("a failing step", fails())
    assert "a failing step failed" in caplog.text
