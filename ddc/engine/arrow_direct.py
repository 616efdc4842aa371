"""numpy arrays to Arrow without pyarrow's pandas probe, and that probe's import moved off the critical path.

pyarrow's converters from Python and numpy (``pa.array``, ``pa.table``, scalars, ``to_numpy``) import
pandas on their first use when pandas is installed (0.2-0.5 s, once per process), only to ask whether
their input is a pandas object. The ``ddc`` executable answers that probe without the import
(``ddc.engine.process_tuning``); a library caller's process is not ours to change, so there a run that
calls models imports pandas in a background thread while it waits on the network (``warm_pandas``), and
the conversions on the way to the first requests (a sampler's output) build arrays from their buffers
(``from_numpy``) so that they do not wait for it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


def from_numpy(values: np.ndarray) -> pa.Array | None:
    """``values`` as an Arrow array built from buffers, for 1-D numeric, boolean and ASCII text arrays;
    None for anything else (the caller falls back to ``pa.array``). Equal to what ``pa.array`` gives."""
    import numpy as np
    import pyarrow as pa

    if values.ndim != 1:
        return None
    kind = values.dtype.kind
    if kind in "iuf" and values.dtype.isnative:
        data = np.ascontiguousarray(values)
        return pa.Array.from_buffers(pa.from_numpy_dtype(data.dtype), len(data), [None, pa.py_buffer(data)])
    if kind == "b":
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    if kind == "U" and values.dtype.itemsize:
        return _ascii_strings(values)
    return None


def _ascii_strings(values: np.ndarray) -> pa.Array | None:
    """Fixed-width numpy text as an Arrow string array: the characters of each row, padding dropped.
    Only for ASCII, where a character is a byte; anything else goes through ``pa.array``."""
    import numpy as np
    import pyarrow as pa

    width = values.dtype.itemsize // 4
    codes = np.ascontiguousarray(values).view(np.uint32).reshape(len(values), width)
    if len(values) and int(np.max(codes)) > 0x7F:
        return None
    # numpy drops trailing NULs of fixed-width text: a row's length is one past its last non-NUL code
    # (what np.char.str_len gives, without importing numpy.char: 11 ms)
    used = codes != 0
    lengths = np.where(used.any(axis=1), width - np.argmax(used[:, ::-1], axis=1), 0).astype(np.int64)
    if len(values) * width >= 2**31:
        return None  # past 32-bit offsets: let pyarrow choose
    data = codes.astype(np.uint8)[np.arange(width) < lengths[:, None]]  # row by row, in order
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(values), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


_warming = False


def warm_pandas() -> None:
    """Import pandas in a background thread if it is installed and not yet imported (see the module's
    docstring); only the first call in a process does anything. A failing import is left for pyarrow to
    meet and report as it would have."""
    global _warming
    if _warming:
        return
    _warming = True
    from ddc.engine.process_tuning import pandas_probe_skipped

    if pandas_probe_skipped() or "pandas" in sys.modules or importlib.util.find_spec("pandas") is None:
        return

    from ddc.engine.warm_up import in_background

    in_background("ddc-pandas-warm-up", lambda: importlib.import_module("pandas"))
