from __future__ import annotations

import re
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import column

from ddc.errors import RunError

SHORT_UUID = "  - {name: u, column_type: sampler, sampler_type: uuid, params: {short_form: true}}"


def spec(columns: str, *, n: int = 200, extra: str = "") -> str:
    return f"num_records: {n}\nrandom_seed: 3\ncolumns:\n{columns}\n{extra}"


def test_category_samples_only_the_given_values(generate) -> None:
    result = generate(spec("  - {name: c, column_type: sampler, sampler_type: category, params: {values: [a, b]}}"))
    assert set(column(result, "c")) == {"a", "b"}


def test_category_weights_bias_the_draw(generate) -> None:
    result = generate(
        spec(
            "  - {name: c, column_type: sampler, sampler_type: category, params: {values: [a, b], weights: [9, 1]}}",
            n=2000,
        )
    )
    assert column(result, "c").count("a") > 1600


def test_category_of_numbers_stays_numeric(generate) -> None:
    result = generate(spec("  - {name: c, column_type: sampler, sampler_type: category, params: {values: [1, 2]}}"))
    assert result.table.schema.field("c").type == pa.int64()


def test_subcategory_draws_from_the_parents_list(generate) -> None:
    result = generate(
        spec(
            "  - {name: p, column_type: sampler, sampler_type: category, params: {values: [x, y]}}\n"
            "  - {name: s, column_type: sampler, sampler_type: subcategory,"
            " params: {category: p, values: {x: [x1, x2], y: [y1]}}}"
        )
    )
    assert all(s.startswith(p) for p, s in zip(column(result, "p"), column(result, "s"), strict=True))


def test_uniform_stays_in_low_high(generate) -> None:
    result = generate(spec("  - {name: u, column_type: sampler, sampler_type: uniform, params: {low: 2, high: 3}}"))
    assert all(2 <= v < 3 for v in column(result, "u"))


def test_decimal_places_rounds(generate) -> None:
    result = generate(
        spec("  - {name: u, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 1, decimal_places: 2}}")
    )
    assert all(round(v, 2) == v for v in column(result, "u"))


def test_convert_to_int_rounds_to_integers(generate) -> None:
    result = generate(
        spec("  - {name: u, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 10}, convert_to: int}")
    )
    assert result.table.schema.field("u").type == pa.int64()


def test_convert_to_str_gives_strings(generate) -> None:
    result = generate(
        spec("  - {name: b, column_type: sampler, sampler_type: bernoulli, params: {p: 0.5}, convert_to: str}")
    )
    assert set(column(result, "b")) == {"0", "1"}


def test_gaussian_centres_on_the_mean(generate) -> None:
    result = generate(
        spec(
            "  - {name: g, column_type: sampler, sampler_type: gaussian, params: {mean: 100, stddev: 1}}",
            n=1000,
        )
    )
    values = column(result, "g")
    assert 99.8 < sum(values) / len(values) < 100.2


def test_bernoulli_gives_zero_or_one_ints(generate) -> None:
    result = generate(spec("  - {name: b, column_type: sampler, sampler_type: bernoulli, params: {p: 0.3}}"))
    assert set(column(result, "b")) == {0, 1}


def test_binomial_counts_successes(generate) -> None:
    result = generate(spec("  - {name: b, column_type: sampler, sampler_type: binomial, params: {n: 5, p: 0.5}}"))
    assert set(column(result, "b")) <= set(range(6))


def test_poisson_gives_non_negative_counts(generate) -> None:
    result = generate(spec("  - {name: p, column_type: sampler, sampler_type: poisson, params: {mean: 3}}"))
    assert min(column(result, "p")) >= 0


def test_scipy_samples_a_named_distribution(generate) -> None:
    result = generate(
        spec(
            "  - {name: s, column_type: sampler, sampler_type: scipy,"
            " params: {dist_name: uniform, dist_params: {loc: 5, scale: 1}}}"
        )
    )
    assert all(5 <= v <= 6 for v in column(result, "s"))


def test_scipy_missing_is_a_clear_error(generate, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.stats", None)
    with pytest.raises(RunError, match=r"needs scipy.*pip install 'ddc\[scipy\]'"):
        generate(
            spec(
                "  - {name: s, column_type: sampler, sampler_type: scipy, params: {dist_name: expon, dist_params: {}}}"
            )
        )


def test_bernoulli_mixture_is_zero_or_a_draw(generate) -> None:
    result = generate(
        spec(
            "  - {name: m, column_type: sampler, sampler_type: bernoulli_mixture,"
            " params: {p: 0.5, dist_name: uniform, dist_params: {loc: 10, scale: 1}}}"
        )
    )
    assert all(v == 0 or 10 <= v <= 11 for v in column(result, "m"))


def test_datetime_is_an_iso_string_truncated_to_the_unit(generate) -> None:
    result = generate(
        spec(
            "  - {name: d, column_type: sampler, sampler_type: datetime,"
            " params: {start: '2024-01-01', end: '2024-03-01', unit: M}}"
        )
    )
    assert set(column(result, "d")) == {"2024-01-01T00:00:00", "2024-02-01T00:00:00"}


def test_datetime_bounds_with_offsets_are_drawn_in_utc(generate) -> None:
    """As the official: a bound with an offset is converted to UTC, a naive bound is taken as UTC."""
    result = generate(
        spec(
            "  - {name: d, column_type: sampler, sampler_type: datetime,"
            " params: {start: '2024-01-01T00:00:00Z', end: '2024-01-01T05:00:00+02:00', unit: h}}"
        )
    )
    assert set(column(result, "d")) == {"2024-01-01T00:00:00", "2024-01-01T01:00:00", "2024-01-01T02:00:00"}


def test_datetime_bounds_in_any_format_pandas_reads_are_drawn(generate) -> None:
    pytest.importorskip("pandas")
    result = generate(
        spec(
            "  - {name: d, column_type: sampler, sampler_type: datetime,"
            " params: {start: 'Jan 1 2024', end: '01/03/2024'}}"
        )
    )
    assert set(column(result, "d")) == {"2024-01-01T00:00:00", "2024-01-02T00:00:00"}


def test_datetime_convert_to_is_a_strftime_format(generate) -> None:
    result = generate(
        spec(
            "  - {name: d, column_type: sampler, sampler_type: datetime,"
            " params: {start: '2024-01-01', end: '2024-01-02'}, convert_to: '%d/%m/%Y'}"
        )
    )
    assert set(column(result, "d")) == {"01/01/2024"}


def test_timedelta_adds_an_offset_to_the_reference(generate) -> None:
    result = generate(
        spec(
            "  - {name: d, column_type: sampler, sampler_type: datetime,"
            " params: {start: '2024-01-01', end: '2024-01-02'}}\n"
            "  - {name: t, column_type: sampler, sampler_type: timedelta,"
            " params: {dt_min: 2, dt_max: 3, reference_column_name: d}, convert_to: '%Y/%m/%d'}"
        )
    )
    assert set(column(result, "t")) == {"2024/01/03"}


def test_uuid_short_form_with_prefix(generate) -> None:
    result = generate(
        spec(
            "  - {name: u, column_type: sampler, sampler_type: uuid,"
            " params: {prefix: 'X-', short_form: true, uppercase: true}}"
        )
    )
    assert all(re.fullmatch(r"X-[0-9A-F]{8}", v) for v in column(result, "u"))


def test_short_uuids_never_repeat_within_a_run(generate) -> None:
    """300,000 random 32-bit values would repeat with probability ~99.997 %; a keyed permutation never."""
    values = column(generate(spec(SHORT_UUID, n=300_000)), "u")
    assert len(set(values)) == len(values)


def test_short_uuids_do_not_depend_on_the_batch_size(generate) -> None:
    assert column(generate(spec(SHORT_UUID), batch_size=7), "u") == column(generate(spec(SHORT_UUID)), "u")


def test_short_uuids_change_with_the_seed(generate) -> None:
    other = spec(SHORT_UUID).replace("random_seed: 3", "random_seed: 4")
    assert column(generate(spec(SHORT_UUID)), "u") != column(generate(other), "u")


def test_uuid_is_a_version_4_hex_string(generate) -> None:
    result = generate(spec("  - {name: u, column_type: sampler, sampler_type: uuid}"))
    assert all(re.fullmatch(r"[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}", v) for v in column(result, "u"))


def test_person_from_faker_gives_a_struct_with_the_official_keys(generate) -> None:
    result = generate(
        spec(
            "  - {name: p, column_type: sampler, sampler_type: person_from_faker,"
            " params: {sex: Female, age_range: [20, 30]}}",
            n=5,
        )
    )
    people = column(result, "p")
    assert {"first_name", "last_name", "age", "birth_date", "city", "uuid"} <= set(people[0])
    assert all(p["sex"] == "Female" and 20 <= p["age"] <= 30 for p in people)


def test_person_without_the_dataset_names_locale_and_path(
    generate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATA_DESIGNER_MANAGED_ASSETS_PATH", str(tmp_path / "assets"))
    expected = str(tmp_path / "assets" / "datasets" / "en_GB.parquet")
    with pytest.raises(RunError, match=re.escape(f"locale 'en_GB' at {expected}")):
        generate(spec("  - {name: p, column_type: sampler, sampler_type: person, params: {locale: en_GB}}"))


def test_person_reads_and_filters_the_local_persona_dataset(
    generate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    datasets = tmp_path / "assets" / "datasets"
    datasets.mkdir(parents=True)
    people = pa.table(
        {
            "first_name": ["Ann", "Bob", "Cy"],
            "sex": ["Female", "Male", "Male"],
            "age": [30, 40, 70],
            "city": ["Austin", "Boston", "Boston"],
            "region": ["TX", "MA", "MA"],
            "persona": ["p1", "p2", "p3"],
        }
    )
    pq.write_table(people, datasets / "en_US.parquet")
    monkeypatch.setenv("DATA_DESIGNER_MANAGED_ASSETS_PATH", str(tmp_path / "assets"))
    result = generate(
        spec(
            "  - {name: p, column_type: sampler, sampler_type: person,"
            " params: {sex: Male, age_range: [18, 60], select_field_values: {state: [MA]}}}",
            n=20,
        )
    )
    assert {p["first_name"] for p in column(result, "p")} == {"Bob"}


def test_person_draws_without_replacement_until_the_population_is_used_up(
    generate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    datasets = tmp_path / "assets" / "datasets"
    datasets.mkdir(parents=True)
    pq.write_table(pa.table({"first_name": [f"n{i}" for i in range(50)], "age": [30] * 50}), datasets / "ja_JP.parquet")
    monkeypatch.setenv("DATA_DESIGNER_MANAGED_ASSETS_PATH", str(tmp_path / "assets"))
    text = spec("  - {name: p, column_type: sampler, sampler_type: person, params: {locale: ja_JP}}", n=60)
    result = generate(text, batch_size=7)
    names = [p["first_name"] for p in column(result, "p")]
    assert len(set(names[:50])) == 50
    assert any("50 persons match its filters" in w for w in result.warnings)


def test_person_adds_the_derived_fields_for_en_us(generate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    datasets = tmp_path / "assets" / "datasets"
    datasets.mkdir(parents=True)
    people = pa.table({"first_name": ["Ann"], "last_name": ["Lee"], "age": [30], "region": ["TX"]})
    pq.write_table(people, datasets / "en_US.parquet")
    monkeypatch.setenv("DATA_DESIGNER_MANAGED_ASSETS_PATH", str(tmp_path / "assets"))
    person = column(generate(spec("  - {name: p, column_type: sampler, sampler_type: person}", n=1)), "p")[0]
    assert person["state"] == "TX" and person["birth_date"].startswith("199")
    assert re.fullmatch(r"ann\.lee\d+@\S+", person["email_address"])
    assert re.fullmatch(r"\d{3}-\d{3}-\d{4}", person["phone_number"])
    assert re.fullmatch(r"\d{3}-\d{2}-\d{4}", person["national_id"])


def test_conditional_params_apply_where_the_condition_holds(generate) -> None:
    result = generate(
        spec(
            "  - {name: r, column_type: sampler, sampler_type: category, params: {values: [EU, US]}}\n"
            "  - name: v\n    column_type: sampler\n    sampler_type: uniform\n"
            "    params: {low: 0, high: 1}\n    conditional_params: {\"r == 'EU'\": {low: 10, high: 11}}"
        )
    )
    for region, value in zip(column(result, "r"), column(result, "v"), strict=True):
        assert (10 <= value < 11) if region == "EU" else (0 <= value < 1)


def test_scalar_constraint_is_enforced(generate) -> None:
    result = generate(
        spec(
            "  - {name: g, column_type: sampler, sampler_type: gaussian, params: {mean: 0, stddev: 1}}",
            extra="constraints:\n  - {target_column: g, operator: gt, rhs: 0}",
        )
    )
    assert min(column(result, "g")) > 0


def test_column_constraint_is_enforced(generate) -> None:
    result = generate(
        spec(
            "  - {name: a, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 10}}\n"
            "  - {name: b, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 10}}",
            extra="constraints:\n  - {target_column: b, operator: lt, rhs: a}",
        )
    )
    assert all(b < a for a, b in zip(column(result, "a"), column(result, "b"), strict=True))


def test_unsatisfiable_constraint_names_it(generate) -> None:
    with pytest.raises(RunError, match=r"constraint 'u > 5\.0' could not be satisfied"):
        generate(
            spec(
                "  - {name: u, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 1}}",
                extra="constraints:\n  - {target_column: u, operator: gt, rhs: 5}",
            )
        )


RARE = spec(
    "  - {name: r, column_type: sampler, sampler_type: category, params: {values: [EU, US]}}\n"
    "  - {name: cap, column_type: sampler, sampler_type: uniform, params: {low: 1.2, high: 3}}\n"
    "  - name: g\n    column_type: sampler\n    sampler_type: gaussian\n    params: {mean: 0, stddev: 1}\n"
    "    conditional_params: {\"r == 'EU'\": {mean: -1, stddev: 1}}",
    n=400,
    extra="constraints:\n  - {target_column: g, operator: gt, rhs: 1}\n"
    "  - {target_column: g, constraint_type: column_inequality, operator: lt, rhs: cap}",
)


def test_a_rarely_met_constraint_is_met_by_every_row(generate) -> None:
    result = generate(RARE)
    assert all(1 < g < cap for g, cap in zip(column(result, "g"), column(result, "cap"), strict=True))


def test_rejection_candidates_do_not_depend_on_the_batch_size(generate) -> None:
    """Rows that need candidate rounds (acceptance ~1-15 %) still get values keyed by their row alone."""
    assert column(generate(RARE, batch_size=7), "g") == column(generate(RARE, batch_size=400), "g")


@pytest.mark.parametrize("fmt", [None, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"])
def test_fast_timestamp_formats_match_strftime(fmt: str | None) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from ddc.engine.samplers import DEFAULT_DATETIME_FORMAT, format_timestamps

    lo, hi = (
        np.datetime64("0001-01-01T00:00:00", "s").astype(np.int64),
        np.datetime64("9999-12-31", "s").astype(np.int64),
    )
    seconds = np.random.default_rng(3).integers(lo, hi, 5000)
    raw = pa.array(np.concatenate([seconds, [-1, 0, 86399]]).astype("datetime64[s]"), pa.timestamp("s"))
    assert format_timestamps(raw, fmt).equals(pc.strftime(raw, format=fmt or DEFAULT_DATETIME_FORMAT))


def test_uniform_with_equal_bounds_is_a_constant_column_as_in_the_official_engine(generate) -> None:
    spec = """
    num_records: 20
    columns:
      - {name: x, column_type: sampler, sampler_type: uniform, params: {low: 2.5, high: 2.5}}
    """
    assert set(column(generate(spec), "x")) == {2.5}
