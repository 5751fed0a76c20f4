"""The event-loop lag metric: a loop held by a request shows as a late wake-up."""

from __future__ import annotations

import asyncio
import contextlib
import time

from gateway.observability.metrics import GatewayMetrics, watch_event_loop


def lag_buckets(metrics: GatewayMetrics) -> dict[str, float]:
    """The lag histogram's cumulative counts by upper bound (``+Inf``: every sample)."""
    [family] = [m for m in metrics.registry.collect() if m.name == "gateway_event_loop_lag_seconds"]
    return {s.labels["le"]: s.value for s in family.samples if s.name.endswith("_bucket")}


async def test_a_blocked_loop_is_measured_as_lag() -> None:
    metrics = GatewayMetrics()
    watcher = asyncio.create_task(watch_event_loop(metrics, interval=0.01))
    await asyncio.sleep(0.05)  # a few measures
    time.sleep(0.2)  # a request holding the loop for 200 ms while the watcher sleeps 10 ms
    await asyncio.sleep(0.05)
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    buckets = lag_buckets(metrics)
    assert buckets["+Inf"] >= 2
    # the sleep that spanned the block woke at least 200 - 10 ms late: one sample above 100 ms
    assert buckets["0.1"] < buckets["+Inf"]
