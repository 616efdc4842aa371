"""The column-kind registry: how generators plug into the runner."""

from __future__ import annotations

import pytest
from conftest import column

from ddc.engine.kinds import ColumnKind, ColumnOutput, SyncColumnGenerator
from ddc.engine.registry import column_kinds
from ddc.errors import RunError

SPEC = """
num_records: 5
random_seed: 1
columns:
  - {name: n, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 1}}
  - {name: e, column_type: expression, expr: "{{ n }}"}
"""


class _Constant(SyncColumnGenerator):
    def __init__(self, planned, context) -> None:
        self.value = f"{planned.name}!"

    def generate_sync(self, batch):
        return ColumnOutput(values=[self.value] * batch.num_rows)


class _FailsOddRows(SyncColumnGenerator):
    def __init__(self, planned, context) -> None:
        pass

    def generate_sync(self, batch):
        errors = {i: "model said no" for i in range(batch.num_rows) if batch.rows[i] % 2}
        return ColumnOutput(values=[None if i in errors else "ok" for i in range(batch.num_rows)], errors=errors)


def test_the_registry_maps_builtin_column_types() -> None:
    assert {"sampler", "expression"} <= set(column_kinds())


def test_an_extra_kind_replaces_the_generator_of_its_column_type(generate) -> None:
    kinds = column_kinds([ColumnKind("expression", _Constant)])
    assert column(generate(SPEC, kinds=kinds), "e") == ["e!"] * 5


def test_a_column_type_without_a_kind_is_a_clear_error(generate) -> None:
    kinds = {k: v for k, v in column_kinds().items() if k != "expression"}
    with pytest.raises(RunError, match="ddc run cannot generate 'expression' columns"):
        generate(SPEC, kinds=kinds)


def test_failed_cells_of_an_on_error_kind_are_kept_empty_by_default(generate) -> None:
    kinds = column_kinds([ColumnKind("expression", _FailsOddRows, failed_cells="on_error")])
    result = generate(SPEC, kinds=kinds)
    assert column(result, "e") == ["ok", None, "ok", None, "ok"]


def test_failed_cells_of_a_drop_kind_remove_their_rows(generate) -> None:
    kinds = column_kinds([ColumnKind("expression", _FailsOddRows, failed_cells="drop")])
    assert generate(SPEC, kinds=kinds).table.num_rows == 3


def test_on_error_fail_stops_the_run_naming_column_and_row(generate) -> None:
    kinds = column_kinds([ColumnKind("expression", _FailsOddRows, failed_cells="on_error")])
    with pytest.raises(RunError, match="column 'e', row 1: model said no"):
        generate(SPEC + "run: {on_error: fail}\n", kinds=kinds)


class _SlowAsync:
    """An I/O-bound kind: later batches answer sooner, and it records how many batches overlap."""

    active = 0
    most = 0

    def __init__(self, planned, context) -> None:
        pass

    async def generate(self, batch):
        import asyncio

        type(self).active += 1
        type(self).most = max(type(self).most, type(self).active)
        await asyncio.sleep(0.01 * (3 - batch.index % 3))
        type(self).active -= 1
        return ColumnOutput(values=[str(r) for r in batch.rows])

    async def aclose(self) -> None:
        return None


def test_io_bound_kinds_keep_several_batches_in_flight(generate) -> None:
    kinds = column_kinds([ColumnKind("expression", _SlowAsync, io_bound=True)])
    generate(SPEC.replace("num_records: 5", "num_records: 12"), kinds=kinds, batch_size=2)
    assert _SlowAsync.most > 1


def test_batches_in_flight_still_come_out_in_row_order(generate) -> None:
    kinds = column_kinds([ColumnKind("expression", _SlowAsync, io_bound=True)])
    result = generate(SPEC.replace("num_records: 5", "num_records: 12"), kinds=kinds, batch_size=2)
    assert column(result, "e") == [str(r) for r in range(12)]


def test_a_declared_seed_dataset_column_passes_the_seed_value_through(generate, tmp_path) -> None:
    (tmp_path / "seed.csv").write_text("city\nOslo\nLima\n")
    text = """
num_records: 2
seed_config: {source: {seed_type: local, path: seed.csv}}
columns:
  - {name: city, column_type: seed-dataset}
  - {name: e, column_type: expression, expr: "{{ city }}!"}
"""
    result = generate(text)
    assert result.table.column_names == ["city", "e"]
    assert column(result, "e") == ["Oslo!", "Lima!"]


def test_failed_cells_are_listed_in_errors_jsonl(write_spec, tmp_path) -> None:
    import json

    from ddc.engine.runner import run

    kinds = column_kinds([ColumnKind("expression", _FailsOddRows, failed_cells="on_error")])
    result = run(write_spec(SPEC), output_dir=tmp_path, kinds=kinds)
    lines = [json.loads(line) for line in (result.path / "errors.jsonl").read_text().splitlines()]
    assert [(e["row"], e["column"], e["message"]) for e in lines] == [
        (1, "e", "model said no"),
        (3, "e", "model said no"),
    ]


class _Usage:
    def __init__(self) -> None:
        self.calls = 0
        self.closed = False

    def report(self) -> dict:
        return {"calls": self.calls}

    def close(self) -> None:
        self.closed = True


class _CountsCalls(SyncColumnGenerator):
    def __init__(self, planned, context) -> None:
        self.usage = context.shared("usage", _Usage)
        _CountsCalls.usage = self.usage

    def generate_sync(self, batch):
        self.usage.calls += batch.num_rows
        return ColumnOutput(values=["x"] * batch.num_rows)


def test_shared_resources_report_into_metadata_and_are_closed(write_spec, tmp_path) -> None:
    import json

    from ddc.engine.runner import run

    kinds = column_kinds([ColumnKind("expression", _CountsCalls)])
    result = run(write_spec(SPEC), output_dir=tmp_path, kinds=kinds)
    assert json.loads((result.path / "metadata.json").read_text())["reports"] == {"usage": {"calls": 5}}
    assert _CountsCalls.usage.closed


def test_a_kind_that_awaits_must_declare_io_bound(generate) -> None:
    kinds = column_kinds([ColumnKind("expression", _SlowAsync)])
    with pytest.raises(RunError, match="does not declare io_bound=True"):
        generate(SPEC, kinds=kinds)


def test_a_run_without_io_bound_kinds_starts_no_event_loop(write_spec, tmp_path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from ddc.engine.runner import run; "
        f"run({str(write_spec(SPEC))!r}, output_dir={str(tmp_path / 'out')!r}); "
        "print(sorted(m for m in sys.modules if m == 'asyncio' or m.startswith('ddc.engine.llm.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_run_with_io_bound_columns_works_inside_a_running_event_loop(write_spec, tmp_path) -> None:
    """As in a notebook: ddc.run is called from code that an event loop is running."""
    import asyncio

    from ddc.engine.runner import run

    kinds = column_kinds([ColumnKind("expression", _SlowAsync, io_bound=True)])

    async def inside() -> int:
        return run(write_spec(SPEC), output_dir=tmp_path, kinds=kinds).metadata["actual_num_records"]

    assert asyncio.run(inside()) > 0
