"""Runs SpaceONE queries through python-core's own ``MongoModel`` (the ``spaceone-core`` package),
connected with mongoengine to the same database the gateway reads. Run in the oracle's own venv:

    python driver.py < {"uri": …, "db": …, "domain": …, "cases": [{"kind": "list"|"stat", "query": …}]}

prints one JSON answer per case: ``{"ids": [...], "total_count": N}`` (list),
``{"results": [...], "total_count"?: N}`` (stat) or ``{"error": "ERROR_…"}``. This file imports
nothing of the gateway or of the tests: it only knows the power-scheduler's models, written the way
SpaceONE writes its models (the inventory service's Job, which power-scheduler's Job copies).
"""

import json
import sys
from datetime import datetime

from bson import ObjectId
from mongoengine import (
    NULLIFY,
    DateTimeField,
    DictField,
    EmbeddedDocument,
    EmbeddedDocumentField,
    IntField,
    ListField,
    ReferenceField,
    StringField,
    connect,
)
from spaceone.core.error import ERROR_BASE
from spaceone.core.model.mongo_model import MongoModel
from spaceone.core.service.utils import append_keyword_filter


class PluginInfo(EmbeddedDocument):
    plugin_id = StringField(max_length=40)
    version = StringField(max_length=255)
    options = DictField()
    provider = StringField(max_length=40)
    metadata = DictField()


class Controller(MongoModel):
    controller_id = StringField(max_length=40, unique=True)
    name = StringField(max_length=255)
    provider = StringField(max_length=40)
    capability = DictField()
    plugin_info = EmbeddedDocumentField(PluginInfo, default=None, null=True)
    tags = DictField()
    domain_id = StringField(max_length=255)
    created_at = DateTimeField()
    meta = {"collection": "controller", "strict": False, "ordering": ["name"], "indexes": []}


class JobError(EmbeddedDocument):
    error_code = StringField()
    message = StringField()
    additional = DictField()
    meta = {"strict": False}


class Job(MongoModel):
    job_id = StringField(max_length=40, unique=True)
    status = StringField(max_length=20)
    filter = DictField(db_field="filters")
    total_tasks = IntField(min_value=0, default=0)
    remained_tasks = IntField(default=0)
    errors = ListField(EmbeddedDocumentField(JobError))
    controller = ReferenceField("Controller", reverse_delete_rule=NULLIFY, null=True)
    schedule_id = StringField(max_length=40, null=True)
    project_id = StringField(max_length=255, null=True)
    domain_id = StringField(max_length=255)
    created_at = DateTimeField()
    updated_at = DateTimeField()
    finished_at = DateTimeField(default=None, null=True)
    mark_error = IntField(default=0)
    meta = {
        "collection": "job",
        "strict": False,
        "indexes": [],
        "ordering": ["-created_at"],
        "change_query_keys": {"controller_id": "controller.controller_id"},
        "reference_query_keys": {"controller": Controller},
    }


def plain(value):
    if isinstance(value, datetime):
        return {"$date": value.isoformat()}
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def api_names(query):
    """``controller_info.<path>`` is the API's name of ``controller.<path>`` (the reference), as the
    service's ``change_query_keys`` say for each of its fields."""

    def rename(key):
        return (
            f"controller.{key[len('controller_info.') :]}" if str(key).startswith("controller_info.") else key
        )

    for part in ("filter", "filter_or"):
        if isinstance(query.get(part), list):
            query[part] = [
                {**c, "k": rename(c["k"])} if isinstance(c, dict) and "k" in c else c for c in query[part]
            ]
    if isinstance(query.get("sort"), list):
        query["sort"] = [
            {**s, "key": rename(s["key"])} if isinstance(s, dict) and "key" in s else s for s in query["sort"]
        ]
    return query


def with_keyword(query):
    """The power-scheduler service's ``@append_keyword_filter(['job_id'])``."""
    params = {"query": query}
    append_keyword_filter(["job_id"])(lambda cls, p: p)(None, params)
    return params["query"]


def run(case, domain):
    query = api_names(dict(case["query"]))
    query["filter"] = [*(query.get("filter") or []), {"k": "domain_id", "v": domain, "o": "eq"}]
    if case["kind"] == "list":
        query = with_keyword(query)
        vos, total_count = Job.query(**query, reference_filter={"domain_id": domain})
        return {"ids": [vo.job_id for vo in vos], "total_count": total_count}
    answer = Job.stat(**query, reference_filter={"domain_id": domain})
    return plain(answer)


def main():
    request = json.load(sys.stdin)
    connect(db=request["db"], host=request["uri"], tz_aware=False, uuidRepresentation="standard")
    for model in (Job, Controller):
        model._load_default_meta()  # what MongoModel.init does once connected
    answers = []
    for case in request["cases"]:
        try:
            answers.append(run(case, request["domain"]))
        except ERROR_BASE as error:
            answers.append({"error": error.error_code, "detail": str(error.message)[:300]})
        except Exception as error:  # noqa: BLE001 - the service answers ERROR_UNKNOWN to anything else
            answers.append({"error": "ERROR_UNKNOWN", "detail": f"{type(error).__name__}: {error}"[:300]})
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
