"""The wire server and command recorder of the tests: one home, :mod:`bench.servers`, shared with
the benchmarks (bench/ never imports tests/)."""

from bench.servers import CommandRecorder, WireServer, free_port, secantus_command, stop_process

__all__ = ["CommandRecorder", "WireServer", "free_port", "secantus_command", "stop_process"]
