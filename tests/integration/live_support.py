"""Support for the live-update tests: a gateway process over a wire server of its own, real
WebSocket and SSE clients, and the events a sequence of writes must give, derived in Python."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from tests.tokens import KeyPair, claims, write_pem
from tests.wire import free_port

DATABASE = "power-scheduler"
TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"


@dataclass
class GatewayProcess:
    process: subprocess.Popen[bytes]
    url: str
    log: IO[bytes]
    keys: KeyPair
    environment: dict[str, str]

    @classmethod
    def start(cls, mongo_uri: str, keys: KeyPair, key_file: Path, **extra: str) -> GatewayProcess:
        port = free_port()
        environment = {
            "GATEWAY_MONGODB_URI": mongo_uri,
            "GATEWAY_PORT": str(port),
            "GATEWAY_AUTH": "jwt",
            "GATEWAY_JWT_KEYS": str(key_file),
            "GATEWAY_CURSOR_SECRET": "live-update-tests-cursor-secret",
            "GATEWAY_LOG_LEVEL": "WARNING",
            **extra,
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")} | environment
        log = tempfile.TemporaryFile()
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        gateway = cls(process, f"127.0.0.1:{port}", log, keys, environment)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://{gateway.url}/readyz", timeout=1).status_code == 200:
                    return gateway
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                break
            time.sleep(0.1)
        gateway.stop()
        raise RuntimeError("the gateway did not start:\n" + gateway.output())

    def token(self, domain: str, **extra: Any) -> str:
        return self.keys.token(claims(domain, **extra), kid=None)

    def output(self) -> str:
        if self.log.closed:
            return ""
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def metric(self, name: str, *labels: str) -> float:
        """The sum of the samples of ``name`` on /metrics (those with one of ``labels``)."""
        text = httpx.get(f"http://{self.url}/metrics", timeout=10).text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith((name + "{", name + " "))
            and (not labels or any(label in line for label in labels))
        )

    async def wait_subscriptions(self, count: int, timeout: float = 20.0) -> None:
        """Wait until the process holds exactly ``count`` subscriptions (gateway_live_subscriptions)."""
        deadline = time.monotonic() + timeout
        while (held := self.metric("gateway_live_subscriptions")) != count:
            assert time.monotonic() < deadline, f"{held} subscriptions, not {count}"
            await asyncio.sleep(0.05)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.log.close()
        return code


def make_keys(directory: Path) -> tuple[KeyPair, Path]:
    pair = KeyPair.rsa()
    return pair, write_pem(directory / "public.pem", pair)


@dataclass
class LiveClient:
    """A ``graphql-transport-ws`` client over a real socket (the ``websockets`` library)."""

    socket: ClientConnection
    received: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ended: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    async def connect(cls, gateway: GatewayProcess, token: str | None) -> LiveClient:
        socket = await websockets.connect(f"ws://{gateway.url}/graphql", subprotocols=[TRANSPORT_WS])
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        return cls(socket)

    async def subscribe(
        self, operation_id: str, query: str, variables: Mapping[str, Any] | None = None
    ) -> None:
        self.received.setdefault(operation_id, [])
        await self.socket.send(
            json.dumps(
                {
                    "id": operation_id,
                    "type": "subscribe",
                    "payload": {"query": query, "variables": dict(variables or {})},
                }
            )
        )

    async def pump(self, until: Any, timeout: float = 20.0) -> None:
        """Read messages until ``until(self)`` holds."""
        deadline = time.monotonic() + timeout
        while not until(self):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"condition not met; received {self.received}, ended {self.ended}"
            try:
                raw = await asyncio.wait_for(self.socket.recv(), remaining)
            except TimeoutError:
                continue
            assert isinstance(raw, str), "the protocol sends text frames only"
            message = json.loads(raw)
            if message["type"] == "next":
                self.received[message["id"]].append(message["payload"])
            elif message["type"] in ("error", "complete"):
                self.ended[message["id"]] = message

    async def quiet(self, seconds: float = 1.0) -> None:
        """Read whatever arrives within ``seconds``."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                message = json.loads(await asyncio.wait_for(self.socket.recv(), remaining))
            except TimeoutError:
                return
            if message["type"] == "next":
                self.received[message["id"]].append(message["payload"])
            elif message["type"] in ("error", "complete"):
                self.ended[message["id"]] = message

    def data(self, operation_id: str, field_name: str) -> list[dict[str, Any]]:
        return [payload["data"][field_name] for payload in self.received[operation_id] if payload.get("data")]

    async def close(self) -> None:
        await self.socket.close()
