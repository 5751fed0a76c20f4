"""jobSummary and jobTimeline on both back ends, checked against answers computed in Python."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import DOMAIN, OTHER_DOMAIN, Backend, GraphQLClient, seed
from tests.factories import STATUSES, job
from tests.stats_support import error_of, seeded

SUMMARY = """
query Summary($filter: JobFilter, $domain: String) {
  jobSummary(filter: $filter, domainId: $domain) {
    totalCount byStatus { status count } totalTasks remainedTasks jobsWithErrors
    successRate averageDurationSeconds
  }
}
"""

TIMELINE = """
query Timeline($filter: JobFilter, $field: JobTimeField, $interval: TimeInterval!,
               $from: DateTime, $to: DateTime, $tz: String, $domain: String) {
  jobTimeline(filter: $filter, field: $field, interval: $interval, from: $from, to: $to,
              timezone: $tz, domainId: $domain) {
    start count byStatus { status count }
  }
}
"""
FINISHED = ("SUCCESS", "ERROR", "TIMEOUT", "CANCELED")


def expected_summary(jobs: list[dict[str, Any]]) -> dict[str, Any]:
    finished = [j for j in jobs if j["status"] in FINISHED and j["finished_at"] is not None]
    statuses = Counter(j["status"] for j in jobs)
    return {
        "totalCount": len(jobs),
        "byStatus": [{"status": s, "count": statuses[s]} for s in STATUSES],
        "totalTasks": sum(j["total_tasks"] for j in jobs),
        "remainedTasks": sum(j["remained_tasks"] for j in jobs),
        "jobsWithErrors": sum(1 for j in jobs if j["errors"]),
        "successRate": (
            sum(1 for j in finished if j["status"] == "SUCCESS") / len(finished) if finished else None
        ),
        "averageDurationSeconds": (
            mean((j["finished_at"] - j["created_at"]).total_seconds() for j in finished) if finished else None
        ),
    }


async def summary(
    client: GraphQLClient, filter: dict[str, Any] | None = None, domain: str = DOMAIN
) -> dict[str, Any]:
    body = await client(SUMMARY, {"filter": filter, "domain": domain})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["jobSummary"]
    return result


def approx(expected: dict[str, Any]) -> dict[str, Any]:
    return {k: pytest.approx(v) if isinstance(v, float) else v for k, v in expected.items()}


async def test_summary_of_a_domain(backend: Backend) -> None:
    data = await seeded(backend.client, backend.db)
    assert await summary(data.client) == approx(expected_summary(data.mine))
    others = [j for j in data.jobs if j["domain_id"] == OTHER_DOMAIN]
    assert await summary(data.client, domain=OTHER_DOMAIN) == approx(expected_summary(others))


async def test_summary_with_a_filter(backend: Backend) -> None:
    data = await seeded(backend.client, backend.db)
    chosen = [j for j in data.mine if j["project_id"] == "project-x" and j["status"] in ("SUCCESS", "ERROR")]
    result = await summary(
        data.client, {"projectId": {"eq": "project-x"}, "status": {"in": ["SUCCESS", "ERROR"]}}
    )
    assert result == approx(expected_summary(chosen))


async def test_summary_of_nothing_has_zeros_and_nulls(backend: Backend) -> None:
    data = await seeded(backend.client, backend.db)
    result = await summary(data.client, {"jobId": {"eq": "no-such-job"}})
    assert result == expected_summary([])
    assert result["byStatus"] == [{"status": s, "count": 0} for s in STATUSES]


# timeline ------------------------------------------------------------------------------------


def local_day_buckets(
    jobs: list[dict[str, Any]], zone: str, first: date, last: date, key: str = "created_at"
) -> list[dict[str, Any]]:
    """Expected DAY buckets: jobs counted by their local calendar date in ``zone``."""
    tz = ZoneInfo(zone)
    per_day: dict[date, Counter[str]] = {}
    for j in jobs:
        if j[key] is not None:
            day = j[key].replace(tzinfo=UTC).astimezone(tz).date()
            per_day.setdefault(day, Counter())[j["status"]] += 1
    buckets = []
    day = first
    while day <= last:
        counts = per_day.get(day, Counter())
        start = datetime.combine(day, time(0), tz).astimezone(UTC)
        buckets.append(
            {
                "start": start.isoformat().replace("+00:00", "Z"),
                "count": sum(counts.values()),
                "byStatus": [{"status": s, "count": counts[s]} for s in STATUSES],
            }
        )
        day += timedelta(days=1)
    return buckets


def dst_jobs(domain: str) -> list[dict[str, Any]]:
    """Jobs every 5 hours around New York's spring-forward night (2026-03-08)."""
    return [
        job(
            domain,
            status=STATUSES[i % len(STATUSES)],
            created_at=datetime(2026, 3, 5, 1, 30) + timedelta(hours=5 * i),
        )
        for i in range(30)
    ]


async def timeline(client: GraphQLClient, **variables: Any) -> list[dict[str, Any]]:
    body = await client(TIMELINE, {"domain": DOMAIN, **variables})
    assert "errors" not in body, body
    buckets: list[dict[str, Any]] = body["data"]["jobTimeline"]
    return buckets


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Seoul", "UTC", "Asia/Kolkata"])
async def test_daily_timeline_in_a_zone_across_a_dst_change(backend: Backend, zone: str) -> None:
    client, database = backend.client, backend.db
    jobs = dst_jobs(DOMAIN)
    await seed(database, [*jobs, *dst_jobs(OTHER_DOMAIN)])
    start, end = datetime(2026, 3, 6, 12, tzinfo=UTC), datetime(2026, 3, 10, 3, tzinfo=UTC)
    result = await timeline(
        client, interval="DAY", tz=zone, **{"from": start.isoformat(), "to": end.isoformat()}
    )
    tz = ZoneInfo(zone)
    inside = [j for j in jobs if start <= j["created_at"].replace(tzinfo=UTC) <= end]
    assert result == local_day_buckets(inside, zone, start.astimezone(tz).date(), end.astimezone(tz).date())


async def test_new_york_midnights_move_with_daylight_saving(backend: Backend) -> None:
    client, database = backend.client, backend.db
    await seed(database, dst_jobs(DOMAIN))
    result = await timeline(
        client,
        interval="DAY",
        tz="America/New_York",
        **{"from": "2026-03-07T12:00:00Z", "to": "2026-03-09T12:00:00Z"},
    )
    assert [b["start"] for b in result] == [
        "2026-03-07T05:00:00Z",
        "2026-03-08T05:00:00Z",
        "2026-03-09T04:00:00Z",
    ]


async def test_open_ended_timeline_spans_first_to_last_job(backend: Backend) -> None:
    client, database = backend.client, backend.db
    jobs = dst_jobs(DOMAIN)
    await seed(database, jobs)
    result = await timeline(client, interval="DAY", tz="Asia/Seoul")
    tz = ZoneInfo("Asia/Seoul")
    days = [j["created_at"].replace(tzinfo=UTC).astimezone(tz).date() for j in jobs]
    assert result == local_day_buckets(jobs, "Asia/Seoul", min(days), max(days))
    assert sum(b["count"] for b in result) == len(jobs)


async def test_hourly_weekly_and_monthly_buckets(backend: Backend) -> None:
    data = await seeded(backend.client, backend.db)
    for interval, floor in (
        ("HOUR", lambda d: d.replace(minute=0)),
        ("WEEK", lambda d: datetime.combine(d.date() - timedelta(days=d.weekday()), time(0))),
        ("MONTH", lambda d: datetime.combine(d.date().replace(day=1), time(0))),
    ):
        result = await timeline(data.client, interval=interval, field="FINISHED_AT")
        finished = [j for j in data.mine if j["finished_at"] is not None]
        counts = Counter(floor(j["finished_at"]) for j in finished)
        non_empty = {b["start"]: b["count"] for b in result if b["count"]}
        assert non_empty == {
            k.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z"): n for k, n in counts.items()
        }
        assert sum(b["count"] for b in result) == len(finished)
        assert result[0]["start"] == min(non_empty) and result[-1]["start"] == max(non_empty)


async def test_timeline_of_nothing_is_empty(backend: Backend) -> None:
    client = backend.client
    assert await timeline(client, interval="DAY") == []


@pytest.mark.parametrize(
    ("variables", "code", "named"),
    [
        ({"interval": "DAY", "tz": "Mars/Olympus_Mons"}, "BAD_USER_INPUT", "Mars/Olympus_Mons"),
        ({"interval": "DAY", "tz": "../../etc/passwd"}, "BAD_USER_INPUT", "timezone"),
        (
            {"interval": "DAY", "from": "2026-03-09T00:00:00Z", "to": "2026-03-08T00:00:00Z"},
            "BAD_USER_INPUT",
            "'from' is after 'to'",
        ),
        (
            {"interval": "HOUR", "from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
            "QUERY_TOO_COMPLEX",
            "1000 buckets",
        ),
    ],
)
async def test_bad_timelines_are_refused(
    backend: Backend, variables: dict[str, Any], code: str, named: str
) -> None:
    client, database = backend.client, backend.db
    await seed(database, dst_jobs(DOMAIN))
    error = error_of(await client(TIMELINE, {"domain": DOMAIN, **variables}))
    assert error["extensions"]["code"] == code
    assert named in error["message"]


async def test_a_timeline_past_the_cap_sends_no_pipeline(
    wire_client: GraphQLClient, command_recorder: Any
) -> None:
    command_recorder.clear()
    await wire_client(
        TIMELINE,
        {"domain": DOMAIN, "interval": "HOUR", "from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
    )
    assert command_recorder.names == []


async def test_a_timeline_ending_at_the_last_representable_instant_is_refused(backend: Backend) -> None:
    # The bucket after 9999-12-31T23 would end in the year 10000, which no datetime can hold.
    client, database = backend.client, backend.db
    await seed(database, dst_jobs(DOMAIN))
    query = (
        '{ jobTimeline(domainId: "%s", interval: HOUR, from: "9999-12-31T23:00:00Z", '
        'to: "9999-12-31T23:59:59Z") { count } }' % DOMAIN
    )
    error = error_of(await client(query, {}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "9999" in error["message"]
