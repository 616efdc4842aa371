"""Column statistics in the official profiler's shape, accumulated batch by batch.

``metadata.json["column_statistics"]`` holds one entry per output column that the official
``DatasetProfilerResults`` validates (a conformance test checks every column type): the general fields
(``column_name``, ``num_records``, ``num_null``, ``num_unique``, ``pyarrow_dtype``, ``simple_dtype``,
``column_type``), ``sampler_type``/``distribution_type``/``distribution`` for samplers (categorical:
most and least common value and a histogram; numerical: min, max, mean, stddev, median), token figures
for LLM columns and ``num_valid_records`` for validation columns. The official rules decide each
column's distribution type. Beyond the official fields, every column carries its ``distribution_type``
and ``distribution`` (the report draws them), and a column type the official profiler does not know
(``embedding``, ``image`` ...) is reported as ``general`` with ``ddc_column_type``.

The runner feeds each batch as it is written (``StatisticsAccumulator.add``), so memory does not grow
with the rows and the end of a run costs no more than a batch. Figures are exact up to the caps of
``ddc.engine.sketches`` (65,536 values for medians, 100,000 distinct values for distinct counts and
histograms) and estimates past them; ``approximate`` lists the estimated fields of a column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ddc.engine.sketches import HASH_TEXT_FROM_ROWS, Moments, RowSample, TopValues, json_text

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from ddc.compile.plan import Plan

#: The most common values a histogram lists (the official lists every value; a cap keeps it readable).
HISTOGRAM_LIMIT = 1_000
#: ``num_unique`` etc. when a figure cannot be computed: the official ``MissingValue.CALCULATION_FAILED``.
MISSING = "--"
#: Column types the official statistics models know; any other is reported as "general".
OFFICIAL_TYPES = frozenset(
    {"llm-text", "llm-code", "llm-structured", "llm-judge", "sampler", "seed-dataset", "validation", "expression"}
)
NUMERICAL_SAMPLERS = frozenset(
    {"bernoulli_mixture", "bernoulli", "binomial", "gaussian", "poisson", "scipy", "uniform"}
)
CATEGORICAL_SAMPLERS = frozenset({"category", "subcategory"})
#: Average spaces per value above which the official profiler calls a string column text.
_TEXT_SPACES = 0.1


def simple_dtype(arrow_type: pa.DataType) -> str:
    """The official profiler's short name of an Arrow type."""
    import pyarrow as pa

    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return f"list[{simple_dtype(arrow_type.value_type)}]"
    if pa.types.is_struct(arrow_type):
        return "dict"
    text = str(arrow_type)
    for needle, name in (
        ("int", "int"),
        ("double", "float"),
        ("float", "float"),
        ("str", "string"),
        ("timestamp", "timestamp"),
        ("time", "time"),
        ("date", "date"),
    ):
        if needle in text:
            return name
    return text


def items_named_item(arrow_type: pa.DataType) -> pa.DataType:
    """``arrow_type`` with the items of its lists, at any depth, named ``item`` (Arrow's default).

    The name is an accident of where a batch came from: DuckDB calls them ``l``, pyarrow ``item``, and
    Parquet reads them back as ``element``; the statistics of a resumed run, which reads its earlier
    batches back, must report the type an uninterrupted run reports."""
    import pyarrow as pa

    if pa.types.is_struct(arrow_type):
        fields = [arrow_type.field(i) for i in range(arrow_type.num_fields)]
        return pa.struct([f.with_type(items_named_item(f.type)) for f in fields])
    if not (
        pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type) or pa.types.is_fixed_size_list(arrow_type)
    ):
        return arrow_type
    item = arrow_type.value_field
    item = item.with_name("item").with_type(items_named_item(item.type))
    if pa.types.is_fixed_size_list(arrow_type):
        return pa.list_(item, arrow_type.list_size)
    return pa.large_list(item) if pa.types.is_large_list(arrow_type) else pa.list_(item)


class ColumnSummary:
    """One column's summaries, fed batch by batch."""

    def __init__(self, name: str, *, hash_text: bool = True) -> None:
        self.name = name
        self.arrow_type: pa.DataType | None = None
        self.rows = 0
        self.nulls = 0
        self.top = TopValues(hash_text=hash_text)
        self.moments = Moments()
        self.sample = RowSample()
        self.spaces = 0
        self.date_like = True
        self.valid = 0

    def add(self, column: pa.Array, positions: np.ndarray, keys: np.ndarray | None = None) -> None:
        """A batch of the column; ``positions``: its rows' places in the dataset, ``keys`` their
        ``mix64`` hashes (``RowSample``'s keys) if the caller has them (one hash per batch)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.arrow_type is None or pa.types.is_null(self.arrow_type):
            self.arrow_type = items_named_item(column.type)
        self.rows += len(column)
        self.nulls += column.null_count
        present = column.drop_null() if column.null_count else column
        if not len(present):
            return
        if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            self._add_numbers(column, positions, keys)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            self.spaces += _spaces(present)
            if self.date_like:
                self.date_like = _all_dates(present)
        if pa.types.is_struct(column.type) and column.type.get_field_index("is_valid") >= 0:
            self.valid += pc.sum(pc.fill_null(pc.cast(present.field("is_valid"), pa.bool_()), False)).as_py() or 0
        if self.numeric and not self.top.exact:
            self.top.add_distinct_only(present)  # over 100,000 distinct numbers: never categorical
        else:
            self.top.add_values(_countable(present))

    def _add_numbers(self, column: pa.Array, positions: np.ndarray, keys: np.ndarray | None) -> None:
        """Moments and the row sample of the non-null, non-NaN values, in numpy (Arrow's kernels cost a
        pass each); min and max in the column's own type (integers stay exact)."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        floating = pa.types.is_floating(column.type)
        if floating:
            values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)  # nulls are NaN
            keep = ~np.isnan(values)
        else:
            keep = ~np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            numbers = (column.drop_null() if column.null_count else column).to_numpy(zero_copy_only=False)
            values = numbers.astype(np.float64)
        everything = bool(keep.all())
        if floating and not everything:
            values = values[keep]
        if not len(values):
            return
        if floating:
            low, high = float(values.min()), float(values.max())
            if low == 0 or high == 0:  # the sign of a zero bound: as Arrow picks it
                bounds = pc.min_max(column.filter(pc.invert(pc.is_nan(column))))
                low, high = bounds["min"].as_py(), bounds["max"].as_py()
        else:
            low, high = numbers.min().item(), numbers.max().item()
        self.moments.add(values, low, high, integral=None if floating else True)
        if everything:
            self.sample.add(positions, values, keys)
        else:
            self.sample.add(positions[keep], values, None if keys is None else keys[keep])

    # --- the official fields ---------------------------------------------------------------------------

    @property
    def numeric(self) -> bool:
        import pyarrow as pa

        t = self.arrow_type
        return t is not None and (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t))

    def distribution_type(self) -> str:
        """The official rule (its ``determine_column_distribution_type``, from Gretel's SQS report)."""
        import pyarrow as pa

        t = self.arrow_type
        present = self.rows - self.nulls
        if t is None or not present or pa.types.is_struct(t) or pa.types.is_list(t) or pa.types.is_large_list(t):
            return "other"
        unique = self.top.num_distinct()
        if self.numeric:
            if pa.types.is_boolean(t):
                return "categorical"
            if not self.moments.integral:
                return "numerical"
            if unique <= 10 and (self.moments.low or 0) >= 0:
                return "categorical"
            if unique == present and pa.types.is_integer(t):
                return "other"  # every value distinct: an identifier
            return "numerical"
        if self.date_like and (pa.types.is_string(t) or pa.types.is_large_string(t)):
            return "other"
        repeated = (present - unique) / present
        if repeated >= 0.9 or (repeated >= 0.7 and present <= 50):
            return "categorical"
        if self.spaces / present > _TEXT_SPACES:
            return "text"
        if unique <= 10:
            return "categorical"
        return "other"

    def distribution(self, kind: str) -> dict[str, Any] | str | None:
        if kind == "numerical":
            if not self.moments.count:
                return MISSING
            return {
                "min": self.moments.low,
                "max": self.moments.high,
                "mean": self.moments.mean,
                "stddev": self.moments.stddev() or 0.0,
                "median": self.sample.median(),
            }
        if kind == "categorical":
            ranked = self.top.ranked(HISTOGRAM_LIMIT)
            if not ranked:
                return MISSING
            categories = [_category(v) for v, _ in ranked]
            return {
                "most_common_value": categories[0],
                "least_common_value": _category(self.top.least_common()),
                "histogram": {"categories": categories, "counts": [n for _, n in ranked]},
            }
        return None

    def approximate(self) -> list[str]:
        fields = []
        if not self.top.exact:
            fields += ["num_unique", "histogram"]
        if self.moments.count > self.sample.size:
            fields.append("median")
        return fields


def _countable(values: pa.Array) -> pa.Array:
    """Values that Arrow can count: nested values (structs, lists) as their JSON text."""
    import pyarrow as pa

    if pa.types.is_nested(values.type) or pa.types.is_dictionary(values.type):
        return json_text(values)
    return values


def _string_bytes(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The offsets and the UTF-8 bytes of a (large) string array without nulls, as numpy views."""
    import numpy as np
    import pyarrow as pa

    width = np.int64 if pa.types.is_large_string(values.type) else np.int32
    _, offsets_buffer, data_buffer = values.buffers()
    offsets = np.frombuffer(
        offsets_buffer, dtype=width, count=len(values) + 1, offset=values.offset * np.dtype(width).itemsize
    )
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.empty(0, np.uint8)
    return offsets, data[offsets[0] : offsets[-1]]


def _spaces(values: pa.Array) -> int:
    """Spaces inside the values (ends trimmed), the official text test's figure. A space is the byte
    0x20 in UTF-8, so values without that byte anywhere have none: a byte count settles most columns."""
    import numpy as np
    import pyarrow.compute as pc

    _, data = _string_bytes(values)
    if not np.count_nonzero(data == 0x20):
        return 0
    return pc.sum(pc.count_substring(pc.utf8_trim_whitespace(values), " ")).as_py() or 0


def _all_dates(values: pa.Array) -> bool:
    """Every value matches ``^\\d{4}-\\d{2}-\\d{2}$`` (RE2: ASCII digits, ``$`` at the very end): ten bytes,
    digits but for two hyphens, checked on the bytes rather than by a regex per value."""
    import numpy as np

    offsets, data = _string_bytes(values)
    if not (np.diff(offsets) == 10).all():
        return False
    rows = data.reshape(-1, 10)
    digits = rows[:, [0, 1, 2, 3, 5, 6, 8, 9]]
    return bool(((digits >= 0x30) & (digits <= 0x39)).all() and (rows[:, [4, 7]] == 0x2D).all())


def _category(value: Any) -> Any:
    """A histogram category as the official model keeps it: numbers stay numbers, anything else text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return value


class TokenSummary:
    """A model column's tokens per cell, as the server reported them (input: the prompt; output: the reply)."""

    def __init__(self) -> None:
        self.input, self.output = Moments(), Moments()
        self.input_sample, self.output_sample = RowSample(), RowSample()

    def add(self, tokens: pa.Array, positions: np.ndarray, keys: np.ndarray | None = None) -> None:
        import numpy as np
        import pyarrow.compute as pc

        known = pc.is_valid(tokens).to_numpy(zero_copy_only=False)
        if not known.any():
            return
        # drop_null, not filter(pa.array(known)): pa.array of a numpy array imports numpy.ma (16 ms)
        pairs = pc.list_flatten(tokens.drop_null()).to_numpy(zero_copy_only=False)
        pairs = np.asarray(pairs, dtype=np.float64).reshape(-1, 2)
        rows = positions[known]
        row_keys = None if keys is None else keys[known]
        for moments, sample, values in (
            (self.input, self.input_sample, pairs[:, 0]),
            (self.output, self.output_sample, pairs[:, 1]),
        ):
            moments.add(values, values.min(), values.max())
            sample.add(rows, values, row_keys)

    def fields(self) -> dict[str, Any]:
        """The official token fields. Without any counts (no server usage) they are 0 and say so."""
        out: dict[str, Any] = {"ddc_token_counts": "server" if self.output.count else "unavailable"}
        for side, moments, sample in (
            ("input", self.input, self.input_sample),
            ("output", self.output, self.output_sample),
        ):
            out[f"{side}_tokens_mean"] = moments.mean if moments.count else 0.0
            out[f"{side}_tokens_median"] = sample.median() or 0.0
            out[f"{side}_tokens_stddev"] = moments.stddev() or 0.0
        return out


class StatisticsAccumulator:
    """Statistics of a dataset fed batch by batch, in row order (``add``), read at the end (``result``)."""

    def __init__(self, *, expected_rows: int | None = None) -> None:
        """``expected_rows``: the rows a run will add, when known; a short run counts its text values
        instead of hashing them (``TopValues``'s ``hash_text``), with the same figures."""
        self.columns: dict[str, ColumnSummary] = {}
        self.tokens: dict[str, TokenSummary] = {}
        self.rows = 0
        self._hash_text = expected_rows is None or expected_rows >= HASH_TEXT_FROM_ROWS

    def add(self, table: pa.Table, tokens: Mapping[str, pa.Array] | None = None) -> None:
        """A batch's output rows and, for model columns, their tokens per row (``BatchOut.tokens``)."""
        import numpy as np

        from ddc.engine.sketches import mix64

        positions = np.arange(self.rows, self.rows + table.num_rows, dtype=np.int64)
        keys = mix64(positions)  # the row sample's keys, shared by every column
        for name, counts in (tokens or {}).items():
            self.tokens.setdefault(name, TokenSummary()).add(counts, positions, keys)
        for name, column in zip(table.column_names, table.columns, strict=True):
            summary = self.columns.get(name)
            if summary is None:
                summary = self.columns[name] = ColumnSummary(name, hash_text=self._hash_text)
                if self.rows:  # a column missing from earlier batches: those rows are null
                    summary.rows = summary.nulls = self.rows
            summary.add(column.combine_chunks(), positions, keys)
        for name, summary in self.columns.items():
            if name not in table.column_names:
                summary.rows += table.num_rows
                summary.nulls += table.num_rows
        self.rows += table.num_rows

    def add_files(self, files: Iterable[str]) -> None:
        """Batch files already written (an earlier part of a resumed run, or a dataset read back)."""
        import pyarrow.parquet as pq

        for path in files:
            self.add(pq.ParquetFile(path).read())

    def result(self, plan: Plan) -> list[dict[str, Any]]:
        configured = {c.name: c for c in plan.all_columns}
        side_effects = {s for c in plan.all_columns for s in c.side_effects}
        out = []
        for name, summary in self.columns.items():
            planned = configured.get(name)
            if planned is None and name in side_effects:
                continue  # the official profiler leaves side-effect columns out
            stat = _statistics(summary, planned)
            if stat["column_type"].startswith("llm-"):
                stat.update(self.tokens.get(name, TokenSummary()).fields())
            out.append(stat)
        return out


def _statistics(summary: ColumnSummary, planned: Any) -> dict[str, Any]:
    column_type = planned.column_type if planned is not None else "seed-dataset"
    stat: dict[str, Any] = {
        "column_name": summary.name,
        "column_type": column_type if column_type in OFFICIAL_TYPES else "general",
        "num_records": summary.rows,
        "num_null": summary.nulls,
        "num_unique": summary.top.num_distinct(),
        "pyarrow_dtype": str(summary.arrow_type) if summary.arrow_type is not None else "null",
        "simple_dtype": simple_dtype(summary.arrow_type) if summary.arrow_type is not None else "null",
    }
    if column_type not in OFFICIAL_TYPES:
        stat["ddc_column_type"] = column_type
    sampler = planned.sampler_type if planned is not None else None
    if sampler:
        stat["sampler_type"] = sampler
        kind = (
            "categorical"
            if sampler in CATEGORICAL_SAMPLERS
            else "numerical"
            if sampler in NUMERICAL_SAMPLERS
            else "other"
        )
    else:
        kind = summary.distribution_type()
    stat["distribution_type"] = kind
    stat["distribution"] = summary.distribution(kind)
    if column_type == "validation":
        stat["num_valid_records"] = summary.valid
    if approximate := summary.approximate():
        stat["approximate"] = approximate
    return stat


def column_statistics(
    plan: Plan, *, table: pa.Table | None = None, files: list[str] | None = None
) -> list[dict[str, Any]]:
    """Statistics of an in-memory table or of batch files, in one pass of bounded memory."""
    accumulator = StatisticsAccumulator()
    if table is not None:
        accumulator.add(table)
    else:
        accumulator.add_files(files or [])
    return accumulator.result(plan)


def row_count(files: list[str]) -> int:
    """Rows in Parquet files, from their footers."""
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(f).num_rows for f in files)
