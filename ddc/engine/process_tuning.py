"""Start-up savings that only a process ddc owns may take: the ``ddc`` executable, not a library caller.

pyarrow's first conversion (``pa.array``, ``pa.table``, a scalar) imports pandas, when installed, only
to ask whether its input is a pandas object (0.2-0.5 s). ``skip_pandas_probe`` lets that probe find no
pandas. pyarrow's explicit pandas paths (``to_pandas``, ``from_pandas``) retry the import when called and
then work as usual; until one is called pyarrow would not recognise pandas objects given to ``pa.array``
or ``pa.table``, which a library caller's own code may do, hence the ownership.

pydantic looks for plugins (entry points of every installed distribution) when it builds its first
validator: the scan imports ``importlib.metadata`` with ``email`` and ``zipfile`` and reads each
distribution's metadata, ~50 ms of every command that loads a spec. A plugin observes validation for
its user's own models; in ddc's process the only models are ddc's, so ``skip_pydantic_plugins`` gives
pydantic an empty plugin list.

``own_process`` is called by ``ddc.cli.entry``; elsewhere these functions leave pyarrow and pydantic alone.
"""

from __future__ import annotations

import sys

_owned = False
_pandas_skipped = False


def own_process() -> None:
    """Declare the process ddc's own: the savings below may then be taken."""
    global _owned
    _owned = True


def skip_pydantic_plugins() -> None:
    """Answer pydantic's plugin lookup with none, without the entry-point scan (unless it already ran).

    pydantic imports ``get_plugins`` from ``pydantic.plugin._loader`` each time it builds a validator; a
    module of that name already in ``sys.modules`` is what the import finds. A pydantic that no longer
    looks there never sees it and scans as before: the saving is lost, nothing breaks."""
    if not _owned or _PYDANTIC_LOADER in sys.modules:
        return
    import types

    loader = types.ModuleType(_PYDANTIC_LOADER, "ddc: no pydantic plugins in ddc's own process")
    loader.get_plugins = lambda: ()  # type: ignore[attr-defined]
    sys.modules[_PYDANTIC_LOADER] = loader


_PYDANTIC_LOADER = "pydantic.plugin._loader"


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
