"""Two gateway apps over one database, compiled execution on in one and off in the other, and
what it takes to compare their answers byte for byte."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.app import create_app
from gateway.mongo.client import MongoHandle
from gateway.settings import Settings

REQUEST_ID = "differential-1"
"""Sent to both apps: request ids appear in error extensions."""
OUTCOMES = ("compiled", "fallback", "standard")
_COUNTER = re.compile(r'^gateway_compiled_executions_total\{outcome="(\w+)"\} (\S+)$', re.M)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Exchange:
    """One operation sent to both apps: the compiled app's first answer (standard execution,
    which learns the plan) and second (from the plan when it covers the operation), how the
    second ran (the ``gateway_compiled_executions_total`` outcome that grew), and the standard
    app's answer."""

    first: Answer
    second: Answer
    second_outcome: str
    standard: Answer


@dataclass
class AppPair:
    """``compiled`` runs plans; ``standard`` has compiled execution turned off."""

    compiled: httpx.AsyncClient
    standard: httpx.AsyncClient

    async def exchange(self, body: dict[str, Any]) -> Exchange:
        first = await _post(self.compiled, body)
        before = await self.outcomes()
        second = await _post(self.compiled, body)
        after = await self.outcomes()
        (grown,) = [outcome for outcome in OUTCOMES if after[outcome] > before[outcome]]
        assert after[grown] == before[grown] + 1, (before, after)
        return Exchange(first, second, grown, await _post(self.standard, body))

    async def outcomes(self) -> dict[str, float]:
        """The compiled app's ``gateway_compiled_executions_total`` by outcome, from /metrics."""
        return await outcome_counts(self.compiled)


async def _post(client: httpx.AsyncClient, body: dict[str, Any]) -> Answer:
    response = await client.post("/graphql", json=body, headers={"X-Request-Id": REQUEST_ID})
    return Answer(response.status_code, response.content)


async def outcome_counts(client: httpx.AsyncClient) -> dict[str, float]:
    text = (await client.get("/metrics")).text
    found = {outcome: float(value) for outcome, value in _COUNTER.findall(text)}
    return {outcome: found.get(outcome, 0.0) for outcome in OUTCOMES}


@asynccontextmanager
async def app_pair(settings: Settings, handle: MongoHandle) -> AsyncIterator[AppPair]:
    """Both apps over ``handle``'s database, with these settings otherwise."""
    on = create_app(settings.model_copy(update={"compiled_execution": True}), handle)
    off = create_app(settings.model_copy(update={"compiled_execution": False}), handle)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=on), base_url="http://gateway") as compiled,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=off), base_url="http://gateway") as standard,
    ):
        yield AppPair(compiled, standard)
