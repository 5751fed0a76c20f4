"""A real gateway process for end-to-end tests: ``python -m gateway`` on a free loopback port,
serving the embedded demo data, exactly as a user starts it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.demo import generate_demo_data
from gateway.settings import Settings
from tests.wire import free_port, stop_process


@dataclass
class LiveGateway:
    """A gateway subprocess; ``settings`` are the ones it runs with (from its environment)."""

    process: subprocess.Popen[bytes]
    url: str
    settings: Settings
    log_path: Path

    @classmethod
    def start(cls, **environment: str) -> LiveGateway:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        # The demo's live simulator is off unless asked for: these tests compare served data
        # with the generated demo data.
        env |= {
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(port),
            "GATEWAY_DEMO_LIVE": "false",
            **environment,
        }
        log_path = Path(tempfile.mkstemp(prefix="gateway-", suffix=".log")[1])
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "gateway"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        settings = Settings(
            **{k.removeprefix("GATEWAY_").lower(): v for k, v in env.items() if k.startswith("GATEWAY_")}
        )
        gateway = cls(process, f"http://127.0.0.1:{port}", settings, log_path)
        gateway.wait_ready()
        return gateway

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the gateway exited during start:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise RuntimeError(f"the gateway was not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def demo_jobs(self) -> list[dict[str, Any]]:
        """The demo jobs the process serves, generated independently from its settings.

        Dates move with the start time; statuses, ids, counts and the created-at order do not."""
        jobs, _ = generate_demo_data(self.settings.demo_seed, self.settings.demo_jobs, datetime.now(UTC))
        return jobs

    def stop(self) -> None:
        stop_process(self.process)
        self.log_path.unlink(missing_ok=True)
