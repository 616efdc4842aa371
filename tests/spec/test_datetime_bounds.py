"""Datetime sampler bounds are read as the official reads them: pandas.to_datetime, then UTC."""

from __future__ import annotations

import sys

import pytest

from ddc.errors import SpecError
from ddc.spec.load import load_spec


def bounds(start: str, end: str) -> str:
    return (
        "columns:\n  - {name: d, column_type: sampler, sampler_type: datetime,\n"
        f"     params: {{start: '{start}', end: '{end}', unit: h}}}}\n"
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2024-01-01", "2024-01-02T00:00:00+00:00"),
        ("2024-01-01T00:00:00Z", "2024-01-01T05:00:00+02:00"),
        ("2024-01-01T00:00:00+02:00", "2024-01-02"),
    ],
)
def test_a_bound_with_an_offset_compares_with_a_naive_one_as_utc(start: str, end: str) -> None:
    assert load_spec(bounds(start, end)).spec.columns[0].params.start == start


def test_an_offset_that_puts_start_after_end_in_utc_is_refused_at_its_line() -> None:
    with pytest.raises(SpecError) as info:
        load_spec(bounds("2024-01-01T01:00:00+00:00", "2024-01-01T02:00:00+02:00"))
    assert str(info.value).startswith("<string>:3:")
    assert "start must be before end" in str(info.value)


@pytest.mark.parametrize(("start", "end"), [("Jan 1 2024", "01/15/2024"), ("2024-01-01 10:00", "20240105")])
def test_any_text_pandas_reads_is_a_bound(start: str, end: str) -> None:
    pytest.importorskip("pandas")
    assert load_spec(bounds(start, end)).spec.columns[0].params.end == end


@pytest.mark.parametrize("text", ["not a date", "2024-13-01", ""])
def test_text_pandas_cannot_read_is_refused_at_its_line(text: str) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(bounds(text, "2024-02-01"))
    assert str(info.value).startswith("<string>:3:")
    assert "invalid datetime" in str(info.value)


def test_without_pandas_only_iso_8601_is_read_and_the_error_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(SpecError) as info:
        load_spec(bounds("Jan 1 2024", "2024-02-01"))
    assert "use ISO 8601" in str(info.value) and "when pandas is installed" in str(info.value)


@pytest.mark.parametrize("text", ["now", "Today", "10:30", "Jan 5"])
def test_a_bound_read_from_the_clock_is_refused_so_a_seed_fixes_the_data(text: str) -> None:
    pytest.importorskip("pandas")
    with pytest.raises(SpecError) as info:
        load_spec(bounds(text, "2030-01-01"))
    assert str(info.value).startswith("<string>:3:") and "depends on the day the spec is read" in str(info.value)


@pytest.mark.parametrize("start", ["2024-01-01T00:00:00-05:00", "0001-01-01T01:00:00+05:00"])
def test_a_bound_out_of_range_in_utc_is_an_error_not_a_traceback(start: str) -> None:
    end = "9999-12-31T23:00:00-05:00" if start.startswith("2024") else "2024-01-01"
    with pytest.raises(SpecError, match="out of range once converted to UTC"):
        load_spec(bounds(start, end))
