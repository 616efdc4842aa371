"""Sampler columns, vectorised with numpy, one generator per column in sampler-DAG order.

Per batch a sampler column: picks each row's params (the default ``params``, or the last
``conditional_params`` whose condition renders "True" for the row), draws every branch's rows from
the column's row-keyed stream (``ddc.engine.rng``: tags are the branch and the rejection round),
rounds to ``decimal_places``, applies ``convert_to``, then enforces the constraints whose target is
this column by rejection: rows that fail are redrawn (next round, fresh stream) until all pass. From
round ``CANDIDATE_ROUNDS`` on, the few rows left (those with a low acceptance rate) draw
``CANDIDATES`` candidates each per round and keep the first that passes, so a long tail costs a few
rounds instead of dozens. A
constraint that rows still fail after max(``MAX_REJECTION_ROUNDS``, 5 x batch rows) rounds (the
official bound is 5 x rows), or that no row met in the first ``HOPELESS_ROUNDS``, ends the run with a
RunError naming it.

Datetime and timedelta columns are written as strings (``convert_to`` is their strftime format); the
underlying timestamps travel in an internal side column (``__ddc_raw__<name>``) so that timedelta
references and datetime constraints compare real instants, as the official engine does.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddc.engine.kinds import BatchInput, ColumnKind, ColumnOutput, RunContext, SyncColumnGenerator
from ddc.errors import RunError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from ddc.compile.plan import PlannedColumn
    from ddc.engine.rng import ColumnRng

MAX_REJECTION_ROUNDS = 500
HOPELESS_ROUNDS = 50
#: Rejection rounds before this one redraw one candidate per failing row; later ones draw CANDIDATES.
CANDIDATE_ROUNDS = 16
CANDIDATES = 32
RAW_PREFIX = "__ddc_raw__"
DEFAULT_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
#: Ages and birth dates of Faker people are computed against this date, not today, so that a seeded
#: run gives the same bytes on any day.
FAKER_REFERENCE_DATE = _dt.date(2025, 1, 1)
NUMERIC_SAMPLERS = frozenset(
    {
        "category",
        "subcategory",
        "uniform",
        "gaussian",
        "bernoulli",
        "bernoulli_mixture",
        "binomial",
        "poisson",
        "scipy",
    }
)
_OPS = {"lt": "less", "le": "less_equal", "gt": "greater", "ge": "greater_equal"}
_OP_TEXT = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}

#: draw(batch, positions, rng, *tags) -> values for batch rows at ``positions`` (numpy, first axis rows)
Draw = Callable[[BatchInput, "np.ndarray", "ColumnRng", int, int], Any]


def sampler_kind() -> ColumnKind:
    return ColumnKind("sampler", SamplerGenerator, failed_cells="drop", skippable=False)


class SamplerGenerator(SyncColumnGenerator):
    def __init__(self, planned: PlannedColumn, context: RunContext) -> None:
        col = planned.config
        self.name: str = col.name
        self.sampler_type: str = col.sampler_type
        self.convert_to: str | None = col.convert_to
        self.conditions: list[str] = list(col.conditional_params)
        params = [col.params, *col.conditional_params.values()]
        self.draws: list[Draw] = [_make_draw(self.sampler_type, p, self.name, context) for p in params]
        self.decimals: list[int | None] = [getattr(p, "decimal_places", None) for p in params]
        self.constraints = [c for c in (context.plan.spec.constraints or ()) if c.target_column == self.name]
        self.is_time = self.sampler_type in ("datetime", "timedelta")

    # -- per batch ---------------------------------------------------------------------------------

    def generate_sync(self, batch: BatchInput) -> ColumnOutput:
        import numpy as np

        n = batch.num_rows
        branch, errors = self._branches(batch)
        values = self._sample(batch, np.arange(n), branch, 0)
        if self.constraints:
            values = self._reject(batch, branch, values)
        output = self._output(values)
        return dataclasses.replace(output, errors=errors) if errors else output

    def _branches(self, batch: BatchInput) -> tuple[np.ndarray, dict[int, str]]:
        """Each row's params (0 = ``params``, i = the i-th condition) and the rows whose condition
        failed to evaluate; those rows draw from ``params`` and their cell fails."""
        import numpy as np

        from ddc.engine.expressions import render_condition

        branch = np.zeros(batch.num_rows, dtype=np.int64)
        errors: dict[int, str] = {}
        for i, condition in enumerate(self.conditions, start=1):
            holds, failed = render_condition(condition, batch.data, batch.num_rows)
            branch[holds] = i
            for pos, cause in failed.items():
                errors.setdefault(pos, cause)
        if errors:
            branch[list(errors)] = 0
        return branch, errors

    def _sample(self, batch: BatchInput, positions: np.ndarray, branch: np.ndarray, round_: int) -> Any:
        import numpy as np
        import pyarrow as pa

        parts: list[Any] = []
        where: list[np.ndarray] = []
        for b, draw in enumerate(self.draws):
            pos = positions[branch[positions] == b] if len(self.draws) > 1 else positions
            if len(pos) == 0:
                continue
            vals = draw(batch, pos, batch.rng, b, round_)
            if not isinstance(vals, pa.Array):  # text draws may answer in Arrow (no Python objects)
                vals = np.asarray(vals)
                decimals = self.decimals[b]
                if decimals is not None and vals.dtype.kind == "f":
                    vals = np.round(vals, decimals)
            parts.append(vals)
            where.append(pos)
        if len(parts) == 1 and len(where[0]) == len(positions):
            values = parts[0]
        else:
            parts = [p.to_numpy(zero_copy_only=False) if isinstance(p, pa.Array) else p for p in parts]
            merged = np.concatenate(parts) if parts else np.empty(0)
            order = np.concatenate(where) if where else np.empty(0, dtype=np.int64)
            values = np.empty_like(merged)
            values[np.searchsorted(positions, order)] = merged
        return self._convert(values)

    def _convert(self, values: np.ndarray) -> np.ndarray:
        import numpy as np

        target = self.convert_to
        if target is None or self.sampler_type not in NUMERIC_SAMPLERS:
            return values
        try:
            if target == "int":
                return np.round(values.astype(np.float64)).astype(np.int64)
            if target == "float":
                return values.astype(np.float64)
            if target == "str":
                return np.array([str(v) for v in values.tolist()], dtype=object)
        except (ValueError, TypeError) as exc:
            raise RunError(f"column {self.name!r}: cannot convert sampled values to {target}: {exc}") from exc
        raise RunError(f"column {self.name!r}: convert_to must be int, float or str (got {target!r})")

    def _reject(self, batch: BatchInput, branch: np.ndarray, values: Any) -> np.ndarray:
        import numpy as np
        import pyarrow as pa

        if isinstance(values, pa.Array):
            values = values.to_numpy(zero_copy_only=False)
        ok = self._satisfied(batch, values, np.arange(batch.num_rows))
        ever = bool(ok.any())
        round_ = 0
        while not ok.all():
            round_ += 1
            bad = np.flatnonzero(~ok)
            if round_ > max(MAX_REJECTION_ROUNDS, 5 * batch.num_rows) or (round_ > HOPELESS_ROUNDS and not ever):
                constraint = self._failing_constraint(batch, values, bad)
                raise RunError(
                    f"column {self.name!r}: constraint {constraint} could not be satisfied for {len(bad)} of "
                    f"{batch.num_rows} rows of batch {batch.index} after {round_ - 1} rounds of rejection "
                    "sampling",
                    hint="check that the constraint is possible with the column's params",
                )
            if round_ < CANDIDATE_ROUNDS:
                fresh = self._sample(batch, bad, branch, round_)
                passed = self._satisfied(batch, fresh, bad)
            else:
                fresh, passed = self._first_passing(batch, bad, branch, round_)
            if values.dtype != fresh.dtype:
                values = values.astype(np.result_type(values.dtype, fresh.dtype))
            values[bad] = fresh
            ok[bad] = passed
            ever = ever or bool(passed.any())
        return values

    def _first_passing(
        self, batch: BatchInput, bad: np.ndarray, branch: np.ndarray, round_: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """CANDIDATES draws per failing row, as rows ``row * CANDIDATES + j`` of the round's stream (so
        still a function of the global row alone); each row keeps its first candidate that passes."""
        import numpy as np

        k = CANDIDATES
        repeated = np.repeat(bad, k)
        data = {name: column.take(repeated) for name, column in batch.data.items()}
        virtual_rows = batch.rows[repeated] * k + np.tile(np.arange(k), len(bad))
        candidates = BatchInput(batch.index, virtual_rows, data, batch.rng)
        everywhere = np.arange(len(repeated))
        drawn = self._sample(candidates, everywhere, branch[repeated], round_)
        ok = self._satisfied(candidates, drawn, everywhere).reshape(len(bad), k)
        first = ok.argmax(axis=1)
        passed = np.asarray(ok.any(axis=1))
        return drawn.reshape(len(bad), k)[np.arange(len(bad)), first], passed

    def _satisfied(self, batch: BatchInput, values: np.ndarray, positions: np.ndarray) -> np.ndarray:
        import numpy as np

        ok = np.ones(len(positions), dtype=bool)
        for constraint in self.constraints:
            ok &= self._check(constraint, batch, values, positions)
        return ok

    def _check(self, constraint: Any, batch: BatchInput, values: np.ndarray, positions: np.ndarray) -> np.ndarray:
        import numpy as np

        compare = getattr(np, _OPS[constraint.operator])
        left = values
        if constraint.constraint_type == "scalar_inequality":
            right: Any = constraint.rhs
            if self.is_time:
                raise RunError(f"column {self.name!r}: a scalar constraint cannot compare a datetime with a number")
        else:
            right = _comparable(batch, constraint.rhs, positions)
        try:
            return np.asarray(compare(left, right), dtype=bool)
        except (TypeError, np.exceptions.DTypePromotionError) as exc:
            raise RunError(
                f"column {self.name!r}: constraint {_describe(constraint)} compares values of different types ({exc})"
            ) from exc

    def _failing_constraint(self, batch: BatchInput, values: np.ndarray, bad: np.ndarray) -> str:
        for constraint in self.constraints:
            if not self._check(constraint, batch, values[bad], bad).all():
                return _describe(constraint)
        return _describe(self.constraints[0])

    def _output(self, values: np.ndarray) -> ColumnOutput:
        import pyarrow as pa

        from ddc.engine.arrow_direct import from_numpy

        if self.is_time:
            raw = pa.array(values.astype("datetime64[s]"), pa.timestamp("s"))
            return ColumnOutput(
                values=format_timestamps(raw, self.convert_to), side_columns={RAW_PREFIX + self.name: raw}
            )
        if isinstance(values, pa.Array):
            return ColumnOutput(values=values)
        if values.dtype == object and len(values) and isinstance(values[0], dict):
            return ColumnOutput(values=pa.array(values.tolist()))
        direct = from_numpy(values)  # no wait for pyarrow's pandas import (ddc.engine.arrow_direct)
        if direct is not None:
            return ColumnOutput(values=direct)
        if values.dtype.kind == "U":
            return ColumnOutput(values=pa.array(values, pa.string()))
        return ColumnOutput(values=pa.array(values))


def format_timestamps(raw: pa.Array, fmt: str | None) -> pa.Array:
    """Timestamps as text. The default ISO form comes from Arrow's cast (about 13x faster than strftime,
    which goes through the C library per value); any other format uses strftime."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if fmt is None or fmt == DEFAULT_DATETIME_FORMAT:
        return pc.utf8_replace_slice(raw.cast(pa.string()), 10, 11, "T")
    if fmt == "%Y-%m-%d":
        return raw.cast(pa.date32()).cast(pa.string())
    return pc.strftime(raw, format=fmt)


def _comparable(batch: BatchInput, name: str, positions: np.ndarray) -> np.ndarray:
    """Another sampler column's values for a column inequality (timestamps for datetime columns)."""
    raw = batch.data.get(RAW_PREFIX + name)
    column = raw if raw is not None else batch.column(name)
    values = column.to_numpy(zero_copy_only=False)
    return values[positions]


def _describe(constraint: Any) -> str:
    return f"'{constraint.target_column} {_OP_TEXT[constraint.operator]} {constraint.rhs}'"


# --- one draw function per sampler type ------------------------------------------------------------


def _draw(rng: ColumnRng, rows: np.ndarray, sample: Any, branch: int, round_: int, *more: int) -> Any:
    """Candidate rounds of rejection draw from blocks of CANDIDATES rows, one block per failing row (a
    function of the round only, never of the batch, so values stay independent of batching)."""
    from ddc.engine.rng import BLOCK

    size = BLOCK if round_ < CANDIDATE_ROUNDS else CANDIDATES
    return rng.draw(rows, sample, branch, round_, *more, block_size=size)


def _make_draw(sampler_type: str, params: Any, name: str, context: RunContext) -> Draw:
    import numpy as np

    def simple(sample: Callable[[np.random.Generator, int], Any]) -> Draw:
        def draw(batch: BatchInput, pos: np.ndarray, rng: ColumnRng, branch: int, round_: int) -> Any:
            return _draw(rng, batch.rows[pos], sample, branch, round_)

        return draw

    if sampler_type == "category":
        values = _choices(params.values)
        weights = None if params.weights is None else np.asarray(params.weights, dtype=np.float64)
        return simple(lambda g, n: values[g.choice(len(values), size=n, p=weights)])
    if sampler_type == "subcategory":
        return _subcategory_draw(params, name)
    if sampler_type == "uniform":
        return simple(lambda g, n: g.uniform(params.low, params.high, n))
    if sampler_type == "gaussian":
        return simple(lambda g, n: g.normal(params.mean, params.stddev, n))
    if sampler_type == "bernoulli":
        return simple(lambda g, n: (g.random(n) < params.p).astype(np.int64))
    if sampler_type == "binomial":
        return simple(lambda g, n: g.binomial(params.n, params.p, n).astype(np.int64))
    if sampler_type == "poisson":
        return simple(lambda g, n: g.poisson(params.mean, n).astype(np.int64))
    if sampler_type == "scipy":
        dist = _scipy_distribution(params.dist_name, params.dist_params, name)
        return simple(lambda g, n: np.asarray(dist.rvs(size=n, random_state=g), dtype=np.float64))
    if sampler_type == "bernoulli_mixture":
        dist = _scipy_distribution(params.dist_name, params.dist_params, name)
        p = params.p
        return simple(lambda g, n: (g.random(n) < p) * np.asarray(dist.rvs(size=n, random_state=g), dtype=np.float64))
    if sampler_type == "datetime":
        return _datetime_draw(params)
    if sampler_type == "timedelta":
        return _timedelta_draw(params, name)
    if sampler_type == "uuid":
        return _uuid_draw(params)
    if sampler_type == "person_from_faker":
        return _faker_draw(params, name)
    if sampler_type == "person":
        return _person_draw(params, name, context)
    raise RunError(f"column {name!r}: unknown sampler_type {sampler_type!r}")


def _choices(values: list[Any]) -> np.ndarray:
    """The values to draw from, as numpy stores them -- but a fixed-width string array drops trailing
    NUL bytes ("a\\0" reads back "a"), so strings it would change stay Python strings."""
    import numpy as np

    array = np.array(values)
    if array.dtype.kind == "U" and any(str(v).endswith("\0") for v in values):
        return np.array([str(v) for v in values], dtype=object)
    return array


def _subcategory_draw(params: Any, name: str) -> Draw:
    import numpy as np

    keys = list(params.values)
    choices = {key: _choices(vals) for key, vals in params.values.items()}
    pickers = {key: (lambda g, n, o=options: o[g.integers(0, len(o), n)]) for key, options in choices.items()}

    def draw(batch: BatchInput, pos: np.ndarray, rng: ColumnRng, branch: int, round_: int) -> Any:
        codes = _key_codes(batch.column(params.category), keys)
        if codes is not None:
            parent_keys = codes[pos]
            key_of: list[Any] = list(range(len(keys)))
        else:  # not text, or nulls: the keys are the values' str(), compared in Python
            parent = batch.column(params.category).to_numpy(zero_copy_only=False)[pos]
            parent_keys = np.array([str(v) for v in parent.tolist()], dtype=object)
            key_of = keys
        parts, where = [], []
        for k, key in enumerate(key_of):
            mask = parent_keys == key
            if not mask.any():
                continue
            parts.append(_draw(rng, batch.rows[pos[mask]], pickers[keys[k]], branch, round_, k))
            where.append(np.flatnonzero(mask))
        covered = np.zeros(len(pos), dtype=bool)
        for w in where:
            covered[w] = True
        if not covered.all():
            missing = parent_keys[~covered][0]
            raise RunError(
                f"column {name!r}: subcategory has no values for {params.category} = {missing!r}",
                hint=f"add {missing!r} under params.values",
            )
        merged = np.concatenate(parts)
        out = np.empty_like(merged)
        out[np.concatenate(where)] = merged
        return out

    return draw


def _key_codes(parent: Any, keys: list[str]) -> np.ndarray | None:
    """Position of each row's parent value in ``keys`` (numpy, vectorised in Arrow), when the parent is
    text without nulls and every value is a key; None sends the caller to the per-row path (which also
    names a missing key)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(parent.type) or pa.types.is_large_string(parent.type)) or parent.null_count:
        return None
    codes = pc.index_in(parent, value_set=pa.array(keys, parent.type))
    if codes.null_count:
        return None
    return codes.to_numpy(zero_copy_only=False)


def _scipy_distribution(dist_name: str, dist_params: dict[str, Any], name: str) -> Any:
    try:
        import scipy.stats
    except ImportError:
        raise RunError(
            f"column {name!r}: the {dist_name!r} distribution needs scipy, which is not installed",
            hint="pip install 'ddc[scipy]'",
        ) from None
    factory = getattr(scipy.stats, dist_name, None)
    if factory is None or not hasattr(factory, "rvs"):
        raise RunError(f"column {name!r}: scipy.stats has no distribution named {dist_name!r}")
    try:
        dist = factory(**dist_params)
        dist.rvs(size=1, random_state=0)
    except (TypeError, ValueError) as exc:
        raise RunError(f"column {name!r}: invalid parameters for scipy.stats.{dist_name}: {exc}") from exc
    return dist


def _datetime_draw(params: Any) -> Draw:
    import numpy as np

    from ddc.spec.samplers import _parse_datetime

    start = int(np.datetime64(_parse_datetime(params.start), "s").astype(np.int64))
    end = int(np.datetime64(_parse_datetime(params.end), "s").astype(np.int64))
    unit = params.unit

    def sample(g: np.random.Generator, n: int) -> np.ndarray:
        seconds = g.integers(start, end, n).astype("datetime64[s]")
        return seconds.astype(f"datetime64[{unit}]").astype("datetime64[s]")

    def draw(batch: BatchInput, pos: np.ndarray, rng: ColumnRng, branch: int, round_: int) -> Any:
        return _draw(rng, batch.rows[pos], sample, branch, round_)

    return draw


def _timedelta_draw(params: Any, name: str) -> Draw:

    unit = params.unit

    def offsets(g: np.random.Generator, n: int) -> np.ndarray:
        return g.integers(params.dt_min, params.dt_max, n)

    def draw(batch: BatchInput, pos: np.ndarray, rng: ColumnRng, branch: int, round_: int) -> Any:
        ref = batch.data.get(RAW_PREFIX + params.reference_column_name)
        if ref is None:
            raise RunError(
                f"column {name!r}: reference_column_name {params.reference_column_name!r} must be a datetime "
                "or timedelta sampler column"
            )
        base = ref.to_numpy(zero_copy_only=False)[pos].astype("datetime64[s]")
        delta = _draw(rng, batch.rows[pos], offsets, branch, round_)
        return base + delta.astype(f"timedelta64[{unit}]")

    return draw


def _uuid_draw(params: Any) -> Draw:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    pairs = np.array([(b"%02X" if params.uppercase else b"%02x") % i for i in range(256)], dtype="S2")
    width = 4 if params.short_form else 16  # bytes; two hex digits each

    def sample(g: np.random.Generator, n: int) -> np.ndarray:
        raw = g.integers(0, 256, size=(n, 16), dtype=np.uint8)
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
        return raw

    def draw(batch: BatchInput, pos: np.ndarray, rng: ColumnRng, branch: int, round_: int) -> Any:
        if params.short_form:
            raw = _short_uuid_bytes(rng, batch.rows[pos], round_)
        else:
            raw = _draw(rng, batch.rows[pos], sample, branch, round_)
        digits = np.ascontiguousarray(pairs[raw[:, :width]]).view(f"S{2 * width}").ravel()
        text = pa.array(digits).cast(pa.string())
        if params.prefix:
            text = pc.binary_join_element_wise(pa.scalar(params.prefix), text, "")
        return text

    return draw


def _short_uuid_bytes(rng: ColumnRng, rows: np.ndarray, round_: int) -> np.ndarray:
    """Short uuids (8 hex digits, 32 bits) as a keyed permutation of the global row index, so they never
    repeat within a run of up to 2**32 rows: across batches, shards and resumes, and whatever the batch
    size. (Random 32-bit values collide within a 100,000-row batch with probability ~69 %; the official
    engine re-draws repeats within a batch only.) The output is as uniform as uuid4's first 8 digits."""
    import numpy as np

    values = rng.permutation(rows, 1 << 32, round_).astype(">u4")
    out: np.ndarray = values.view(np.uint8).reshape(-1, 4)
    return out


# --- people ---------------------------------------------------------------------------------------


def _faker_draw(params: Any, name: str) -> Draw:
    import numpy as np

    try:
        from faker import Faker
    except ImportError:
        raise RunError(
            f"column {name!r}: person_from_faker needs Faker, which is not installed",
            hint="pip install 'ddc[faker]'",
        ) from None
    fake = Faker(params.locale)
    low, high = params.age_range
    cities = [params.city] if isinstance(params.city, str) else params.city

    def person(seed: int) -> dict[str, Any]:
        fake.seed_instance(seed)
        rnd = fake.random
        sex = params.sex or rnd.choice(["Male", "Female"])
        age = rnd.randint(low, high)
        first = fake.first_name_male() if sex == "Male" else fake.first_name_female()
        birth = FAKER_REFERENCE_DATE.replace(year=FAKER_REFERENCE_DATE.year - age) - _dt.timedelta(
            days=rnd.randint(0, 364)
        )
        return {
            "uuid": fake.uuid4(),
            "locale": params.locale,
            "first_name": first,
            "last_name": fake.last_name(),
            "middle_name": None,
            "sex": sex,
            "street_number": fake.building_number() if hasattr(fake, "building_number") else str(rnd.randint(1, 999)),
            "street_name": fake.street_name(),
            "city": rnd.choice(cities) if cities else fake.city(),
            "state": _optional(fake, "state"),
            "postcode": fake.postcode(),
            "age": age,
            "birth_date": birth.isoformat(),
            "country": _country(fake, params.locale),
            "marital_status": rnd.choice(["never_married", "married_present", "divorced", "widowed", "separated"]),
            "education_level": rnd.choice(["high_school", "some_college", "bachelors", "graduate", "less_than_9th"]),
            "unit": "",
            "occupation": fake.job(),
            "phone_number": fake.phone_number() if age >= 18 else None,
            "bachelors_field": rnd.choice(["stem", "business", "education", "arts_humanities", "no_degree"]),
        }

    def person_seeds(g: np.random.Generator, n: int) -> np.ndarray:
        return g.integers(0, 2**63 - 1, n)

    def draw(batch: BatchInput, pos: np.ndarray, rng: ColumnRng, branch: int, round_: int) -> Any:
        seeds = _draw(rng, batch.rows[pos], person_seeds, branch, round_)
        return np.array([person(int(s)) for s in seeds], dtype=object)

    return draw


def _country(fake: Any, locale: str) -> str:
    try:
        return str(fake.current_country())
    except (AttributeError, ValueError):
        return locale


def _optional(fake: Any, provider: str) -> str | None:
    try:
        return str(getattr(fake, provider)())
    except AttributeError:
        return None


PERSONA_FIELDS = frozenset(
    {
        "persona", "professional_persona", "finance_persona", "healthcare_persona", "sports_persona",
        "arts_persona", "travel_persona", "culinary_persona", "cultural_background", "skills_and_expertise",
        "skills_and_expertise_list", "hobbies_and_interests", "hobbies_and_interests_list",
        "career_goals_and_ambitions",
    }
)  # fmt: skip


def persona_path(locale: str) -> Path:
    """The installed dataset for ``locale``, else where ``ddc personas install`` would put it."""
    from ddc.compile.resources import persona_dataset_paths
    from ddc.nemo.personas import installed_persona_path

    return installed_persona_path(locale) or persona_dataset_paths(locale)[0]


def _person_draw(params: Any, name: str, context: RunContext) -> Draw:
    import numpy as np
    import pyarrow as pa

    table = context.shared(f"persona:{params.model_dump_json()}", lambda: _load_personas(params, name, context))

    if context.num_records > table.num_rows:
        context.warn(
            f"column {name!r}: {table.num_rows} persons match its filters, fewer than the "
            f"{context.num_records} records asked for, so persons repeat after every {table.num_rows} rows "
            "(the official engine fails when a batch needs more persons than match)"
        )

    def digits_of(g: np.random.Generator, n: int) -> np.ndarray:
        """Random digits for the derived fields (birth day, email, phone, national id)."""
        return g.integers(0, 10**9, (n, 4))

    def draw(batch: BatchInput, pos: np.ndarray, rng: ColumnRng, branch: int, round_: int) -> Any:
        rows = batch.rows[pos]
        # Without replacement, as the official ORDER BY random() LIMIT n: a keyed permutation of the
        # matching persons, distinct over any table.num_rows consecutive rows (not only within a batch).
        picks = rng.permutation(rows, table.num_rows, branch, round_)
        people = table.take(pa.array(picks)).to_pylist()
        for person, digits in zip(people, _draw(rng, rows, digits_of, branch, round_).tolist(), strict=True):
            _derive_person_fields(person, params.locale, digits)
        return np.array(people, dtype=object)

    return draw


_EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com")


def _derive_person_fields(person: dict[str, Any], locale: str, digits: list[int]) -> None:
    """The official derived fields, added only when the dataset lacks them: birth_date, email_address
    and (en_US) phone_number and national_id; contact fields only for adults."""
    age = person.get("age")
    adult = isinstance(age, int) and age >= 18
    if "birth_date" not in person and isinstance(age, int):
        birth = FAKER_REFERENCE_DATE.replace(year=FAKER_REFERENCE_DATE.year - age)
        person["birth_date"] = (birth - _dt.timedelta(days=digits[0] % 365)).isoformat()
    if "email_address" not in person:
        first = str(person.get("first_name") or "user").lower().replace(" ", "")
        last = str(person.get("last_name") or "").lower().replace(" ", "")
        domain = _EMAIL_DOMAINS[digits[1] % len(_EMAIL_DOMAINS)]
        person["email_address"] = f"{first}.{last}{digits[1] % 100}@{domain}" if adult else None
    if locale == "en_US":
        if "phone_number" not in person:
            area, line = 200 + digits[2] % 800, digits[2] // 1000 % 10**7
            person["phone_number"] = f"{area}-{line // 10**4:03d}-{line % 10**4:04d}" if adult else None
        if "national_id" not in person:
            ssn = digits[3]
            person["national_id"] = f"{1 + ssn % 899:03d}-{1 + ssn // 1000 % 99:02d}-{1 + ssn // 10**5 % 9999:04d}"


def _load_personas(params: Any, name: str, context: RunContext) -> pa.Table:
    """The persona rows matching the params' filters (DuckDB reads and filters the parquet).

    Local first; without a local dataset, the locale's persona fileset when NeMo access is configured
    (downloaded once into the local persona location, so later runs read it locally)."""
    import duckdb

    path = persona_path(params.locale)
    if not path.is_file():
        from ddc.nemo.personas import install_personas, persona_fileset
        from ddc.nemo.resources import NemoAccess

        access = NemoAccess.for_spec(context.plan.spec)
        if access is None:
            raise RunError(
                f"column {name!r}: no persona dataset for locale {params.locale!r} at {path}",
                hint=f"ddc personas install --locale {params.locale} --from FILE, or set NMP_BASE_URL to read "
                f"the fileset {'/'.join(persona_fileset(params.locale)[:2])}",
            )
        path = install_personas(params.locale, access=access)
    con = duckdb.connect()
    try:
        source = f"read_parquet('{str(path).replace(chr(39), chr(39) * 2)}')"
        columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
        keep = [c for c in columns if params.with_synthetic_personas or c not in PERSONA_FIELDS]
        rename = params.locale == "en_US" and "region" in columns and "state" not in columns
        where, args = _person_filters(params, columns, rename, name)
        select = ", ".join(f'"{c}" AS "state"' if rename and c == "region" else f'"{c}"' for c in keep)
        sql = f"SELECT {select} FROM {source}{where} ORDER BY ALL"
        table = con.sql(sql, params=args).to_arrow_table()
    except duckdb.Error as exc:
        raise RunError(f"column {name!r}: cannot read persona dataset {path}: {exc}") from exc
    finally:
        con.close()
    if table.num_rows == 0:
        raise RunError(f"column {name!r}: no person in {path} matches the sampler's filters")
    return table


def _person_filters(params: Any, columns: list[str], rename: bool, name: str) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []

    def field(key: str) -> str:
        column = "region" if rename and key == "state" else key
        if column not in columns:
            raise RunError(f"column {name!r}: the persona dataset has no field {key!r}")
        return f'"{column}"'

    if params.sex:
        clauses.append(f"{field('sex')} = ?")
        args.append(params.sex)
    if params.city:
        cities = [params.city] if isinstance(params.city, str) else list(params.city)
        clauses.append(f"{field('city')} IN ({', '.join('?' for _ in cities)})")
        args.extend(cities)
    if "age" in columns:
        clauses.append('"age" BETWEEN ? AND ?')
        args.extend(params.age_range)
    for key, values in (params.select_field_values or {}).items():
        clauses.append(f"{field(key)} IN ({', '.join('?' for _ in values)})")
        args.extend(values)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args
