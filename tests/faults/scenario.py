"""One fault scenario: writes stream in, the fault strikes, the platform settles, figures."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from tests.faults.figures import Figures, count, now
from tests.faults.load import Load
from tests.faults.replicas import Replicas
from tests.support.service_process import ServiceProcess
from tests.support.waiting import eventually

# The fault: does its damage (and its repair, if any); returns extra timings in s.
Fault = Callable[[], Awaitable[dict[str, float]]]


async def run(
    name: str,
    replicas: Replicas,
    fault: Fault,
    *,
    warmup: float = 8.0,
    after: float = 15.0,
    interval: float = 0.5,
    settle_timeout: float = 300.0,
) -> Figures:
    """Stream writes for `warmup` s, strike, go on for `after` s, settle, count."""
    load = Load(replicas.directories, name, interval=interval)
    load.start()
    await asyncio.sleep(warmup)  # the stream runs this long before the fault: not a wait
    fault_at = now()
    extra = await fault()
    await asyncio.sleep(after)  # writes go on after the repair
    await load.stop()
    delivered = lambda: _settled_and_delivered(replicas, load)  # noqa: E731
    try:
        await eventually(delivered, timeout=settle_timeout, interval=1, what=f"{name} to settle")
    except AssertionError as error:
        print(f"{name}: {error}; counting what arrived", flush=True)
    return await count(name, load, replicas, fault_at=fault_at, extra=extra)


async def _settled_and_delivered(replicas: Replicas, load: Load) -> bool:
    recipients = {mail.recipient for mail in replicas.mails()}
    if any(write.recipient not in recipients for write in load.accepted):
        return False
    return await replicas.settled()


async def kill_replica(service: ServiceProcess) -> None:
    await asyncio.to_thread(service.kill)


async def restart_replica(service: ServiceProcess) -> float:
    """Start a killed replica again; the seconds until it was ready."""
    started = now()
    await asyncio.to_thread(service.start, timeout=240)
    return now() - started


async def active_relay(replicas: Replicas) -> ServiceProcess:
    """The directory replica whose relay publishes now."""
    pid = await eventually(replicas.active_relay_pid, timeout=60, what="an active relay")
    [active] = [service for service in replicas.directories if service.pid == pid]
    return active


async def takeover_after(replicas: Replicas, killed_pid: int | None, killed: float) -> float:
    """Seconds from `killed` (wall clock) until another replica holds the relay lease."""

    async def someone_else() -> bool:
        pid = await replicas.active_relay_pid()
        return pid is not None and pid != killed_pid

    await eventually(someone_else, timeout=120, what="another relay to take over")
    return now() - killed
