"""The per-domain bulkhead and the request deadline on their own: slots per domain, a bounded
wait ending in RATE_LIMITED, memory that follows the commands in flight, and deadlines."""

from __future__ import annotations

import asyncio

import pytest

from gateway.errors import RateLimited, Timeout
from gateway.mongo.bulkhead import Bulkhead, Deadline, bounded_by, request_deadline

BUSY, QUIET = "domain-busy", "domain-quiet"


async def hold(bulkhead: Bulkhead, domain: str, release: asyncio.Event, entered: list[str]) -> None:
    async with bulkhead.slot(domain):
        entered.append(domain)
        await release.wait()


async def test_a_domain_at_its_bound_waits_while_another_domain_goes_straight_through() -> None:
    waits: list[tuple[float, bool]] = []
    bulkhead = Bulkhead(limit=2, wait_seconds=30, on_wait=lambda s, ok: waits.append((s, ok)))
    release, entered = asyncio.Event(), []
    holders = [asyncio.create_task(hold(bulkhead, BUSY, release, entered)) for _ in range(3)]
    await asyncio.sleep(0)
    assert (bulkhead.in_use(BUSY), bulkhead.waiting(BUSY)) == (2, 1)
    async with bulkhead.slot(QUIET):  # not held up by the busy domain
        assert bulkhead.in_use(QUIET) == 1 and bulkhead.waiting(QUIET) == 0
    release.set()
    await asyncio.gather(*holders)
    assert entered == [BUSY] * 3
    assert [ok for _, ok in waits] == [True]  # one command waited, then got its slot
    assert bulkhead.in_use(BUSY) == bulkhead.waiting(BUSY) == 0
    assert not bulkhead._lanes  # no entry is kept for a domain with nothing in flight


async def test_a_wait_past_the_bound_is_rate_limited_with_a_retry_after() -> None:
    waits: list[bool] = []
    bulkhead = Bulkhead(limit=1, wait_seconds=0.01, on_wait=lambda _, ok: waits.append(ok))
    release, entered = asyncio.Event(), []
    holder = asyncio.create_task(hold(bulkhead, BUSY, release, entered))
    await asyncio.sleep(0)
    with pytest.raises(RateLimited) as refused:
        async with bulkhead.slot(BUSY):
            pytest.fail("the slot was taken")
    assert refused.value.code == "RATE_LIMITED" and refused.value.http_status == 429
    assert refused.value.retry_after == 1
    assert refused.value.extensions == {"code": "RATE_LIMITED", "retryAfter": 1}
    assert "GATEWAY_MAX_CONCURRENT_COMMANDS_PER_DOMAIN" in refused.value.message
    assert waits == [False]
    assert bulkhead.waiting(BUSY) == 0 and bulkhead.in_use(BUSY) == 1
    release.set()
    await holder


async def test_a_deadline_shorter_than_the_wait_ends_the_wait_with_timeout() -> None:
    bulkhead = Bulkhead(limit=1, wait_seconds=600)
    release, entered = asyncio.Event(), []
    holder = asyncio.create_task(hold(bulkhead, BUSY, release, entered))
    await asyncio.sleep(0)
    with pytest.raises(Timeout) as timed_out:
        async with bulkhead.slot(BUSY, Deadline.after(0.01)):
            pytest.fail("the slot was taken")
    assert "GATEWAY_REQUEST_TIMEOUT_SECONDS" in timed_out.value.message
    release.set()
    await holder


async def test_a_bound_of_zero_is_no_bound() -> None:
    bulkhead = Bulkhead(limit=0, wait_seconds=0)
    release, entered = asyncio.Event(), []
    holders = [asyncio.create_task(hold(bulkhead, BUSY, release, entered)) for _ in range(50)]
    await asyncio.sleep(0)
    assert len(entered) == 50
    release.set()
    await asyncio.gather(*holders)


async def test_a_cancelled_waiter_leaves_its_place_and_the_slot_count_intact() -> None:
    bulkhead = Bulkhead(limit=1, wait_seconds=600)
    release, entered = asyncio.Event(), []
    holder = asyncio.create_task(hold(bulkhead, BUSY, release, entered))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(hold(bulkhead, BUSY, asyncio.Event(), entered))
    await asyncio.sleep(0)
    assert bulkhead.waiting(BUSY) == 1
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert bulkhead.waiting(BUSY) == 0
    release.set()
    await holder
    async with bulkhead.slot(BUSY):  # the slot came back
        assert bulkhead.in_use(BUSY) == 1
    assert entered == [BUSY]


async def test_the_deadline_bounds_max_time_ms_and_cancels_the_block() -> None:
    deadline = Deadline.after(2.0)
    assert 1 <= deadline.max_time_ms(10_000) <= 2000
    assert deadline.max_time_ms(50) == 50  # the configured limit when it is shorter
    with pytest.raises(Timeout):
        Deadline.after(-1).max_time_ms(10_000)
    assert request_deadline(0) is None
    cancelled = asyncio.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(Timeout):
        async with bounded_by(Deadline.after(0.01)):
            await slow()
    assert cancelled.is_set()
    async with bounded_by(None):  # no deadline: the block runs as it is
        await asyncio.sleep(0)
