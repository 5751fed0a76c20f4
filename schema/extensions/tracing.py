"""Operation-level observation: the executed operation's name for the request log and metrics,
and an OpenTelemetry span per operation when ``opentelemetry`` is installed (extra ``otel``).

Only the operation hook is used, so no per-field cost is added to resolving.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterator
from typing import Any

from graphql import OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from gateway.observability.requests import current_request

OPENTELEMETRY_AVAILABLE = importlib.util.find_spec("opentelemetry") is not None


def _error_codes(result: Any) -> list[str]:
    return [
        str((error.extensions or {}).get("code", "INTERNAL_SERVER_ERROR"))
        for error in (getattr(result, "errors", None) or ())
    ]


class OperationName(SchemaExtension):
    """Records the executed operation's name on the current request (for logs and metrics)."""

    def on_operation(self) -> Iterator[None]:
        yield
        stats = current_request.get()
        if stats is not None:
            stats.operation = executed_operation_name(self.execution_context)


def executed_operation_name(context: Any) -> str | None:
    """The name of the operation the document defines and the request selected; a name the
    client sent that the document does not define is not recorded (it would be an unbounded
    metric label chosen by anyone)."""
    document = context.graphql_document
    if document is None:
        return None
    defined = {
        definition.name.value
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode) and definition.name is not None
    }
    try:
        name = context.operation_name
    except Exception:  # noqa: BLE001 - no operation could be determined
        return None
    return name if name in defined else None


class OperationSpan(SchemaExtension):
    """One OpenTelemetry span per GraphQL operation: name, type, request id and error codes."""

    def on_operation(self) -> Iterator[None]:
        with _tracer().start_as_current_span("graphql.operation") as span:
            yield
            context = self.execution_context
            try:
                name = context.operation_name
                kind = context.operation_type.value if context.graphql_document else None
            except Exception:  # noqa: BLE001 - no operation could be determined
                name, kind = None, None
            _describe(span, name, kind, _error_codes(context.result))


def _describe(span: Any, name: str | None, kind: str | None, codes: list[str]) -> None:
    span.update_name(f"graphql {kind or 'operation'} {name or 'anonymous'}")
    span.set_attribute("graphql.operation.name", name or "")
    if kind:
        span.set_attribute("graphql.operation.type", kind)
    stats = current_request.get()
    if stats is not None:
        span.set_attribute("gateway.request_id", stats.request_id)
    if codes:
        from opentelemetry import trace  # noqa: PLC0415 - optional dependency

        span.set_attribute("graphql.error.codes", codes)
        span.set_status(trace.Status(trace.StatusCode.ERROR, codes[0]))


def record_compiled_query(name: str | None, started_ns: int) -> None:
    """What :class:`OperationName` and :class:`OperationSpan` record, for a query its compiled
    plan answered (which it does only without errors; a plan that gives way records nothing:
    standard execution then records its own). ``started_ns``: ``time.time_ns()`` at its start."""
    stats = current_request.get()
    if stats is not None:
        stats.operation = name
    if OPENTELEMETRY_AVAILABLE:
        span = _tracer().start_span("graphql.operation", start_time=started_ns)
        _describe(span, name, "query", [])
        span.end()


@functools.cache
def _tracer() -> Any:
    """The gateway's tracer, made once: OpenTelemetry's proxy tracer follows a tracer provider
    installed later, so it may be made before one is."""
    from opentelemetry import trace  # noqa: PLC0415 - optional dependency

    return trace.get_tracer("jobs-gateway")


def tracing_extensions() -> list[type[SchemaExtension]]:
    """The observation extensions to install (the span one only with OpenTelemetry present)."""
    extensions: list[type[SchemaExtension]] = [OperationName]
    if OPENTELEMETRY_AVAILABLE:
        extensions.append(OperationSpan)
    return extensions
