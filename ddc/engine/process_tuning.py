"""A start-up saving that only a process ddc owns may take: the ``ddc`` executable, not a library caller.

pyarrow's first conversion (``pa.array``, ``pa.table``, a scalar) imports pandas, when installed, only
to ask whether its input is a pandas object (0.2-0.5 s). ``skip_pandas_probe`` lets that probe find no
pandas. pyarrow's explicit pandas paths (``to_pandas``, ``from_pandas``) retry the import when called and
then work as usual; until one is called pyarrow would not recognise pandas objects given to ``pa.array``
or ``pa.table``, which a library caller's own code may do, hence the ownership.

``own_process`` is called by ``ddc.cli.entry``; elsewhere ``skip_pandas_probe`` leaves pyarrow alone.
"""

from __future__ import annotations

import sys

_owned = False
_pandas_skipped = False


def own_process() -> None:
    """Declare the process ddc's own: the savings below may then be taken."""
    global _owned
    _owned = True


def skip_pandas_probe() -> None:
    """Answer pyarrow's pandas probes "no pandas" without importing it, unless pandas is already imported."""
    global _pandas_skipped
    if not _owned or _pandas_skipped or "pandas" in sys.modules:
        return
    import pyarrow as pa

    if getattr(pa.lib, "_pandas_api", None) is None:  # a pyarrow without the probe: nothing to answer
        return
    blocker = _Refuse("pandas")
    sys.meta_path.insert(0, blocker)
    try:
        pa.array(["ddc"])  # both probes (the Python shim's and the C++ converters'), answered now
        _pandas_skipped = not pa.lib._pandas_api.have_pandas
    finally:
        sys.meta_path.remove(blocker)


def pandas_probe_skipped() -> bool:
    """pyarrow has been told there is no pandas: its conversions will not import it."""
    return _pandas_skipped


class _Refuse:
    """A module finder that refuses one module. (A ``None`` in ``sys.modules`` is not enough: pyarrow's
    compiled import returns it instead of raising.)"""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == self.name:
            raise ModuleNotFoundError(f"{name} is not imported in a ddc run", name=name)
