from __future__ import annotations

import pyarrow as pa

from ddc.engine.processors import SchemaTransform
from ddc.spec.processing import SchemaTransformProcessor


def transform(template: dict) -> SchemaTransform:
    return SchemaTransform(SchemaTransformProcessor(name="t", processor_type="schema_transform", template=template))


def test_printed_values_are_always_strings_and_literals_keep_their_type() -> None:
    rows = transform({"x": "{{ n }}", "lit": 5}).apply(pa.table({"n": [7.9]})).to_pylist()
    assert rows == [{"x": "7.9", "lit": 5}]


def test_booleans_and_nulls_print_as_json() -> None:
    rows = transform({"b": "{{ flag }}", "z": "{{ none }}"}).apply(pa.table({"flag": [True], "none": [None]}))
    assert rows.to_pylist() == [{"b": "true", "z": "null"}]


def test_a_dict_value_becomes_a_json_string() -> None:
    rows = transform({"d": "{{ person }}"}).apply(pa.table({"person": [{"name": "Ann"}]}))
    assert rows.to_pylist() == [{"d": '{"name": "Ann"}'}]


def test_quotes_in_values_are_escaped() -> None:
    rows = transform({"q": "say {{ text }}"}).apply(pa.table({"text": ['he said "hi"']}))
    assert rows.to_pylist() == [{"q": 'say he said "hi"'}]
