"""Output conversions on the hot path: DateTime text and stored status values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.mongo.documents import serialize_datetime
from schema.types.enums import JobStatus, job_status


def _expected(moment: datetime) -> str:
    """UTC text built field by field (independent of ``isoformat``)."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    text = f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    return text + (f".{utc.microsecond:06d}" if utc.microsecond else "") + "Z"


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2020, 9, 1, 12, 0, 0),
        datetime(2020, 9, 1, 12, 0, 0, 5),
        datetime(1, 1, 1),
        datetime(9999, 12, 31, 23, 59, 59, 999999),
        datetime(2020, 9, 1, 12, 0, tzinfo=UTC),
        datetime(2020, 9, 1, 3, 30, tzinfo=timezone(timedelta(hours=9))),
        datetime(2020, 12, 31, 22, 0, 0, 1, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
    ],
)
def test_dates_are_written_in_utc_with_a_z(moment: datetime) -> None:
    assert serialize_datetime(moment) == _expected(moment)


@pytest.mark.parametrize("stored", [member.value for member in JobStatus])
def test_every_known_status_reads_as_its_member(stored: str) -> None:
    assert job_status(stored).value == stored


@pytest.mark.parametrize("stored", ["PAUSED", "success", "", None, 3, ["ERROR"], {"s": 1}])
def test_an_unknown_stored_status_reads_as_none(stored: object) -> None:
    assert job_status(stored) is JobStatus.NONE
