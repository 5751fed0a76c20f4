"""Logging setup: one JSON object per line (python-json-logger, encoded by orjson) or plain
text, for the gateway's own loggers and uvicorn's alike."""

from __future__ import annotations

import logging.config
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS

from gateway.settings import Settings

JSON_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def log_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` mapping, also given to uvicorn as its ``log_config``."""
    if settings.log_format == "json":
        formatter: dict[str, Any] = {
            "()": "pythonjsonlogger.orjson.OrjsonFormatter",  # the library's faster encoder
            "fmt": JSON_FORMAT,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
            # uvicorn's ANSI-coloured copy of each message is noise in JSON.
            "reserved_attrs": [*RESERVED_ATTRS, "color_message"],
        }
    else:
        formatter = {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"handlers": ["stdout"], "level": settings.log_level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": settings.log_level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": settings.log_level, "propagate": True},
            # One line per request comes from gateway.request; uvicorn's access log is off.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def configure_logging(settings: Settings) -> None:
    logging.config.dictConfig(log_config(settings))
