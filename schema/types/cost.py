"""The IBM GraphQL Cost Directives (https://ibm.github.io/graphql-specs/cost-spec.html), as
Apollo Router, Hive and Grafbase read them: ``@cost(weight:)`` and ``@listSize(...)``. They are
declared in the schema (and so in ``schema/schema.graphql``); ``schema.extensions.cost`` reads
them to estimate what an operation costs."""

from __future__ import annotations

import strawberry
from strawberry.schema_directive import Location

PAGE_SIZE = 100
"""The default page size of the shipped configuration: the assumed size of a page whose size is
not given (the estimate uses GATEWAY_DEFAULT_PAGE_SIZE when it is larger)."""


@strawberry.schema_directive(
    name="cost",
    locations=[
        Location.ARGUMENT_DEFINITION,
        Location.ENUM,
        Location.FIELD_DEFINITION,
        Location.INPUT_FIELD_DEFINITION,
        Location.OBJECT,
        Location.SCALAR,
    ],
    description="The weight of a field, or of every field of a type (IBM cost spec); without "
    "it an object costs 1 and a scalar or an enum 0.",
)
class Cost:
    weight: int


@strawberry.schema_directive(
    name="listSize",
    locations=[Location.FIELD_DEFINITION],
    description="How many items a list field returns (IBM cost spec): the value of one of its "
    "slicing arguments (a dotted path into an input object), else `assumedSize`; with "
    "`sizedFields`, the size is that of those fields of the returned object.",
)
class ListSize:
    assumed_size: int | None = strawberry.UNSET
    slicing_arguments: list[str] | None = strawberry.UNSET
    sized_fields: list[str] | None = strawberry.UNSET
    require_one_slicing_argument: bool | None = True


def page(slicing: list[str], sized: list[str]) -> ListSize:
    """A field returning one page of ``sized`` lists, its size given by ``slicing``."""
    return ListSize(
        assumed_size=PAGE_SIZE,
        slicing_arguments=slicing,
        sized_fields=sized,
        require_one_slicing_argument=False,
    )
