"""The linear measure of documents, on documents no HTTP request could carry (no token limit)."""

from __future__ import annotations

from graphql import FieldNode, NameNode, OperationDefinitionNode, SelectionSetNode, parse

from schema.extensions.document_bounds import LEAF_PAIR, Measure, field_pairs, fragments_of


def operation_shape(text: str) -> tuple[int, int, float]:
    document = parse(text)
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = fragments_of(document)
    shape = Measure(fragments).shape(operation.selection_set)
    return shape.fields, shape.depth, field_pairs(operation.selection_set, fragments, 10**9)


def test_a_chain_of_thousands_of_fragments_is_measured_without_recursion() -> None:
    links = 5000
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i - 1} a{i}: __typename }}" for i in range(1, links))
    fields, depth, pairs = operation_shape(
        f"{{ ...F{links - 1} }} fragment F0 on Query {{ __typename }} {chain}"
    )
    assert (fields, depth, pairs) == (links, 0, 0)


def test_deep_nesting_is_measured_without_recursion() -> None:
    levels = 5000  # deeper than the parser accepts: the tree is built here
    selection = SelectionSetNode(selections=(FieldNode(name=NameNode(value="b")),))
    for _ in range(levels):
        selection = SelectionSetNode(selections=(FieldNode(name=NameNode(value="a"), selection_set=selection),))
    shape = Measure({}).shape(selection)
    assert (shape.fields, shape.depth) == (levels + 1, levels)


def test_a_doubling_chain_multiplies_while_execution_would_merge_it() -> None:
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 41))
    fields, _, pairs = operation_shape(f"{{ ...F40 }} fragment F0 on Query {{ x {{ y }} }} {chain}")
    assert fields == 2 * 2**40
    assert pairs == 0  # each fragment is collected once per selection set: one x, one y


def test_repeated_fields_are_paired_through_their_merged_selections() -> None:
    _, _, pairs = operation_shape("{ a { x x } a { x } ...F } fragment F on Query { a { x } }")
    # a: 3 copies (3 pairs); their merged selection holds 4 x (6 pairs of leaves)
    assert pairs == 3 + 6 * LEAF_PAIR


def test_cycles_end_the_walk() -> None:
    fields, _, _ = operation_shape("{ ...A } fragment A on Q { a ...B } fragment B on Q { b ...A }")
    assert fields == 2
