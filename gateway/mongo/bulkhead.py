"""A bulkhead per tenant: at most ``limit`` MongoDB commands of one domain run at once in this
process, so one domain's load cannot take every pooled connection; and the request deadline
each command runs under.

A command waits for a slot of its domain at most ``wait_seconds`` (and never past its request's
deadline), then the request is refused with :class:`RateLimited` (``Retry-After``). Slots are
handed out first come, first served. A domain's entry exists only while some command of it holds
or waits for a slot, so memory follows the commands in flight, not the domains ever seen.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

from gateway.errors import RateLimited, Timeout

WaitObserver = Callable[[float, bool], None]
"""Told the seconds a command waited for its slot, and whether it then got one."""


@dataclass(frozen=True, slots=True)
class Deadline:
    """The instant (event-loop clock) a request must be answered by, and its length."""

    at: float
    seconds: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(asyncio.get_running_loop().time() + seconds, seconds)

    def remaining(self) -> float:
        return self.at - asyncio.get_running_loop().time()

    def expired(self) -> Timeout:
        return Timeout(
            f"the request took longer than its limit of {self.seconds:g} s (GATEWAY_REQUEST_TIMEOUT_SECONDS)"
        )

    def max_time_ms(self, configured: int) -> int:
        """``configured`` or less: what is left of the request, for the server to stop in time."""
        remaining = self.remaining()
        if remaining <= 0:
            raise self.expired()
        return max(1, min(configured, math.ceil(remaining * 1000)))


@dataclass(slots=True)
class _Lane:
    slots: asyncio.Semaphore
    users: int = 0  # holding or waiting
    held: int = 0


@dataclass(slots=True)
class Bulkhead:
    """Per-domain bound on concurrent commands; ``limit`` 0 turns it off."""

    limit: int
    wait_seconds: float
    on_wait: WaitObserver | None = None
    _lanes: dict[str, _Lane] = field(default_factory=dict)

    def slot(self, domain: str, deadline: Deadline | None = None) -> Slot:
        """One of ``domain``'s slots, held for the duration of an ``async with`` block."""
        return Slot(self, domain, deadline)

    def join(self, domain: str) -> _Lane:
        """``domain``'s lane, with one more command holding or waiting for a slot."""
        lane = self._lanes.get(domain)
        if lane is None:
            lane = self._lanes[domain] = _Lane(asyncio.Semaphore(self.limit))
        lane.users += 1
        return lane

    def leave(self, domain: str, lane: _Lane) -> None:
        """One command of ``domain`` is done with its lane (gone when no one else uses it)."""
        lane.users -= 1
        if lane.users == 0:
            del self._lanes[domain]

    async def acquire(self, lane: _Lane, deadline: Deadline | None) -> None:
        """A slot of ``lane``: at once when one is free, else waiting (bounded, observed)."""
        if not lane.slots.locked():  # the common case: a free slot, no wait to time
            await lane.slots.acquire()
            return
        wait = self.wait_seconds
        if deadline is not None:
            wait = min(wait, deadline.remaining())
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(max(wait, 0)):
                await lane.slots.acquire()
        except TimeoutError:
            self._observe(loop.time() - started, got_slot=False)
            if deadline is not None and deadline.remaining() <= 0:
                raise deadline.expired() from None
            raise RateLimited(
                f"this domain has {self.limit} MongoDB commands running and more waiting; the "
                f"request waited {self.wait_seconds:g} s for a turn "
                "(GATEWAY_MAX_CONCURRENT_COMMANDS_PER_DOMAIN); try again shortly",
                retry_after=max(1, math.ceil(self.wait_seconds)),
            ) from None
        self._observe(loop.time() - started, got_slot=True)

    def _observe(self, seconds: float, *, got_slot: bool) -> None:
        if self.on_wait is not None:
            self.on_wait(seconds, got_slot)

    def in_use(self, domain: str) -> int:
        """Commands of ``domain`` holding a slot now."""
        lane = self._lanes.get(domain)
        return lane.held if lane is not None else 0

    def waiting(self, domain: str) -> int:
        """Commands of ``domain`` waiting for a slot now."""
        lane = self._lanes.get(domain)
        return lane.users - lane.held if lane is not None else 0


class Slot:
    """``async with bulkhead.slot(domain, deadline):`` (a class, not a generator: one is taken
    for every command sent)."""

    __slots__ = ("_bulkhead", "_deadline", "_domain", "_lane")

    def __init__(self, bulkhead: Bulkhead, domain: str, deadline: Deadline | None) -> None:
        self._bulkhead = bulkhead
        self._domain = domain
        self._deadline = deadline
        self._lane: _Lane | None = None

    async def __aenter__(self) -> None:
        bulkhead = self._bulkhead
        if bulkhead.limit <= 0:
            return
        lane = bulkhead.join(self._domain)
        try:
            await bulkhead.acquire(lane, self._deadline)
        except BaseException:
            bulkhead.leave(self._domain, lane)
            raise
        lane.held += 1
        self._lane = lane

    async def __aexit__(self, *_: object) -> None:
        lane = self._lane
        if lane is None:
            return
        self._lane = None
        lane.held -= 1
        lane.slots.release()
        self._bulkhead.leave(self._domain, lane)


def request_deadline(seconds: float) -> Deadline | None:
    """The deadline of a request starting now; None when requests are not bounded (0)."""
    return Deadline.after(seconds) if seconds > 0 else None


class bounded_by:  # lower case: used as a function, ``async with bounded_by(deadline):``
    """Run the block until ``deadline``: past it the block is cancelled (and with it every
    command it awaits) and :class:`Timeout` is raised. (A class around ``asyncio.timeout_at``,
    not a generator: every request takes one.)"""

    __slots__ = ("_deadline", "_timer")

    def __init__(self, deadline: Deadline | None) -> None:
        self._deadline = deadline
        self._timer = asyncio.timeout_at(deadline.at if deadline is not None else None)

    async def __aenter__(self) -> None:
        await self._timer.__aenter__()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        try:
            await self._timer.__aexit__(kind, error, traceback)
        except TimeoutError:
            deadline = self._deadline
            if deadline is None or not self._timer.expired():
                raise
            raise deadline.expired() from None
