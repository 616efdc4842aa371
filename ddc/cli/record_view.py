"""Records drawn for reading (``ddc show``, ``ddc run --preview``, ``ddc preview``): one rich panel per
record, every value in full — nested values as indented JSON, code highlighted, long text wrapped to
the terminal, floats without binary noise (``231.6563``, not ``231.65630000000002``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

#: Significant digits of a float on screen: enough for any generated value, none of the binary tail.
FLOAT_DIGITS = 10


def format_float(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    text = f"{value:.{FLOAT_DIGITS}g}"
    return text if ("e" in text or "." in text or "inf" in text) else text + ".0"


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: dates as ISO text, bytes by size, floats as they are."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _parsed_json(text: str) -> Any:
    """``text`` parsed when it is a JSON object or array (an LLM column's structured answer), else None."""
    stripped = text.strip()
    if len(stripped) < 2 or stripped[0] + stripped[-1] not in ("{}", "[]"):
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None


def _round_floats(value: Any) -> Any:
    if isinstance(value, float):
        return float(format_float(value)) if value == value and abs(value) != float("inf") else value
    if isinstance(value, dict):
        return {k: _round_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round_floats(v) for v in value]
    return value


def value_renderable(value: Any, code_lang: str | None = None) -> Any:
    """One value as a rich renderable."""
    from rich.json import JSON
    from rich.text import Text

    if value is None:
        return Text("null", style="dim italic")
    if isinstance(value, bool):
        return Text(str(value).lower(), style="cyan")
    if isinstance(value, float):
        return Text(format_float(value), style="cyan")
    if isinstance(value, int):
        return Text(str(value), style="cyan")
    if isinstance(value, (dict, list, tuple)):
        return JSON.from_data(_round_floats(jsonable(value)), indent=2, ensure_ascii=False)
    if isinstance(value, str):
        if code_lang:
            from rich.syntax import Syntax

            return Syntax(value, code_lang.split(":")[0], word_wrap=True, theme="ansi_dark", background_color="default")
        parsed = _parsed_json(value)
        if parsed is not None:
            return JSON.from_data(_round_floats(parsed), indent=2, ensure_ascii=False)
        return Text(value, overflow="fold")
    return Text(str(jsonable(value)))


def record_panel(record: Mapping[str, Any], title: str, code_langs: Mapping[str, str] | None = None) -> Any:
    """A record as a panel: column names on the left, values on the right (wrapped, never cut)."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2), expand=True)
    grid.add_column(style="bold", no_wrap=True, max_width=28, overflow="fold")
    grid.add_column(ratio=1, overflow="fold")
    langs = code_langs or {}
    for name, value in record.items():
        grid.add_row(Text(name, overflow="fold"), value_renderable(value, langs.get(name)))
    return Panel(grid, title=title, title_align="left", border_style="blue", expand=True)


def print_records(
    records: Sequence[Mapping[str, Any]],
    *,
    first_index: int = 0,
    indices: Sequence[int] | None = None,
    code_langs: Mapping[str, str] | None = None,
    console: Any = None,
) -> None:
    """One panel per record on stdout (``indices`` name the records' rows; else counted from
    ``first_index``)."""
    from rich.console import Console

    console = console or Console(highlight=False)
    for position, record in enumerate(records):
        index = indices[position] if indices is not None else first_index + position
        console.print(record_panel(record, f"record {index}", code_langs))


def dump_records(records: Sequence[Mapping[str, Any]], *, lines: bool) -> str:
    """Records as JSON: one array (``--json``) or one object per line (``--jsonl``)."""
    data = [jsonable(dict(r)) for r in records]
    if lines:
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
