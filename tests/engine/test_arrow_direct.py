from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from ddc.engine.arrow_direct import from_numpy


@pytest.mark.parametrize(
    "values",
    [
        np.array([3, -1, 2**40], dtype=np.int64),
        np.array([7, 8], dtype=np.int32),
        np.array([1.5, float("nan"), -0.0, float("inf")]),
        np.array([0.25], dtype=np.float32),
        np.array([True, False, True, True, False, False, True, False, True]),
        np.array(["EU", "US", "ASIA", ""]),
        np.array(["a\tb", "trailing space "]),
        np.arange(10, dtype=np.int64)[::3],
        np.array([], dtype=np.float64),
        np.array([], dtype="<U3"),
    ],
    ids=[
        "int64",
        "int32",
        "float-specials",
        "float32",
        "bool",
        "ascii",
        "whitespace",
        "strided",
        "empty",
        "empty-text",
    ],
)
def test_an_array_built_from_buffers_equals_what_pa_array_gives(values: np.ndarray) -> None:
    built = from_numpy(values)
    assert built is not None
    expected = pa.array(values, pa.string()) if values.dtype.kind == "U" else pa.array(values)
    assert (built.type, repr(built.to_pylist())) == (expected.type, repr(expected.to_pylist()))  # NaN as text
    built.validate(full=True)


@pytest.mark.parametrize(
    "values",
    [np.array(["café"]), np.array([{"a": 1}], dtype=object), np.zeros((2, 2)), np.array(["2020-01-01"], "M8[D]")],
    ids=["non-ascii", "objects", "two-dimensional", "datetime"],
)
def test_anything_else_is_left_to_pa_array(values: np.ndarray) -> None:
    assert from_numpy(values) is None


def test_neither_conversion_nor_warm_up_imports_pandas_on_the_calling_thread() -> None:
    pytest.importorskip("pandas")
    script = (
        "import sys, threading, numpy as np\n"
        "from ddc.engine.arrow_direct import from_numpy, warm_pandas\n"
        "from_numpy(np.array(['a', 'b'])); from_numpy(np.arange(3))\n"
        "assert 'pandas' not in sys.modules\n"
        "warm_pandas()\n"
        "[t.join() for t in threading.enumerate() if t.name == 'ddc-pandas-warm-up']\n"
        "print('pandas' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "True"
