"""A real MongoDB wire server for benchmarks and tests: SecantusDB started as its own process, or
the server named by ``GATEWAY_TEST_MONGODB_URI``; and a command recorder on the real driver.
(tests/wire.py re-exports it: bench/ never imports tests/.)"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pymongo import MongoClient, monitoring


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen[Any]) -> None:
    """SIGTERM, up to 10 s to exit, then SIGKILL."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def secantus_command(port: int) -> list[str]:
    binary = shutil.which("secantusd-py") or str(Path(sys.executable).with_name("secantusd-py"))
    return [binary, "--host", "127.0.0.1", "--port", str(port), "--storage-path", ":memory:"]


@dataclass
class WireServer:
    """A SecantusDB process on a free loopback port (or an external server, then not owned)."""

    uri: str
    process: subprocess.Popen[bytes] | None = None
    port: int | None = None

    @classmethod
    def start(cls, port: int | None = None) -> WireServer:
        external = os.environ.get("GATEWAY_TEST_MONGODB_URI")
        if external:
            return cls(uri=external)
        port = port or free_port()
        process = subprocess.Popen(secantus_command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = cls(uri=f"mongodb://127.0.0.1:{port}/", process=process, port=port)
        server.wait_ready()
        return server

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                client: MongoClient[dict[str, Any]] = MongoClient(self.uri, serverSelectionTimeoutMS=300)
                with client:
                    client.admin.command("ping")
                    return
            except Exception:  # noqa: BLE001 - not up yet
                if self.process and self.process.poll() is not None:
                    raise RuntimeError("secantusd-py exited during start") from None
                time.sleep(0.1)
        raise RuntimeError(f"wire server at {self.uri} not ready after {timeout}s")

    def stop(self) -> None:
        if self.process:
            stop_process(self.process)

    def restart(self) -> None:
        """Stop and start again on the same port (for outage tests)."""
        self.stop()
        assert self.port is not None
        self.process = subprocess.Popen(
            secantus_command(self.port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.wait_ready()


@dataclass
class CommandRecorder(monitoring.CommandListener):
    """Records every command the driver sends (name and body), for counting and inspection."""

    commands: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    enabled: bool = True

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.enabled and event.command_name not in ("ping", "hello", "isMaster", "endSessions"):
            self.commands.append((event.command_name, dict(event.command)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def clear(self) -> None:
        self.commands.clear()

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.commands]
