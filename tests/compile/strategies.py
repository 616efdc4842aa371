"""Hypothesis strategies shared by the compiler tests: hostile strings and specs carrying them."""

from __future__ import annotations

import unicodedata
from typing import Any

from hypothesis import strategies as st

#: Fragments that break naive code generation (quotes, escapes, Jinja braces, Python syntax).
HOSTILE = [
    '"',
    "'",
    '"""',
    "'''",
    "\\",
    "\\n",
    "\n",
    "\r\n",
    "\r",
    "\t",
    "\x00",
    "\x85",
    "\u2028",
    "\ufeff",
    "{{ x }}",
    "{%",
    "}}",
    "{",
    "#",
    "\\N{BULLET}",
    "'); import os; os.system('echo pwned') #",
    '"""); __import__("os").system("echo pwned"); ("""',
    "\U0001f600",
    "é",
    "日本",
]

hostile_text = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
    st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=3)), max_size=6).map("".join),
)


LABELS = (
    "name",
    "description",
    "column",
    "value_a",
    "prompt",
    "expr",
    "schema_key",
    "score_description",
    "option",
    "skip_value",
    "header",
    "project",
)


def as_dataset_name(text: str) -> str:
    """``text`` made a valid spec name (one path component, no control or formatting characters, no
    surrounding spaces), still hostile."""
    kept = "".join(ch for ch in text if ch not in "/\\" and unicodedata.category(ch) not in ("Cc", "Cf"))
    kept = kept[:40].strip()
    return kept if kept and kept not in {".", "..", "~"} else "n" + kept


def spec_with(s: dict[str, str]) -> dict[str, Any]:
    """A valid spec carrying the strings of ``s`` (keys: LABELS) in free-text places."""
    s = {**s, "value_b": s["value_a"] + "_b", "name": as_dataset_name(s["name"])}
    # Template text sits inside {% raw %}, which keeps it literal; only the closing tag must not appear.
    for key in ("prompt", "expr"):
        s[key] = s[key].replace("endraw", "end_raw")
    return {
        "name": s["name"],
        "description": s["description"],
        "random_seed": 1,
        "providers": [
            {"name": "local", "endpoint": "http://127.0.0.1:8000/v1", "extra_headers": {"X-Tag": s["header"]}}
        ],
        "submit": {"project": s["project"]},
        "columns": [
            {
                "name": "x",
                "column_type": "sampler",
                "sampler_type": "category",
                "params": {"values": [s["value_a"], s["value_b"]]},
            },
            {
                "name": "c " + s["column"],
                "column_type": "expression",
                "expr": "{{ x }}{% raw %}" + s["expr"] + "{% endraw %}",
            },
            {
                "name": "story",
                "column_type": "llm-text",
                "model_alias": "nvidia-text",
                "prompt": "{{ x }}{% raw %}" + s["prompt"] + "{% endraw %}",
                "skip": {"when": "{{ x == 'never' }}", "value": s["skip_value"]},
            },
            {
                "name": "meta",
                "column_type": "llm-structured",
                "model_alias": "nvidia-text",
                "prompt": "Describe {{ x }}",
                "output_format": {"type": "object", "properties": {s["schema_key"]: {"type": "string"}}},
            },
            {
                "name": "grade",
                "column_type": "llm-judge",
                "model_alias": "nvidia-text",
                "prompt": "Grade {{ story }}",
                "scores": [{"name": "q", "description": s["score_description"], "options": {1: s["option"], 2: "ok"}}],
            },
        ],
    }


@st.composite
def hostile_spec(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, str]]:
    """A valid spec whose free-text values are hostile strings; also returns {label: string} to check."""
    strings = {label: draw(hostile_text) for label in LABELS}
    spec = spec_with(strings)
    strings["value_b"] = strings["value_a"] + "_b"
    strings["name"] = as_dataset_name(strings["name"])
    for key in ("prompt", "expr"):
        strings[key] = strings[key].replace("endraw", "end_raw")
    return spec, strings


def strings_of(spec: Any) -> dict[str, str]:
    """The hostile strings as they appear in a built Spec (for comparison with the originals)."""
    cols = {c.name: c for c in spec.columns}
    expr_col = next(c for c in spec.columns if c.column_type == "expression")
    return {
        "name": spec.name,
        "description": spec.description,
        "column": expr_col.name.removeprefix("c "),
        "value_a": cols["x"].params.values[0],
        "value_b": cols["x"].params.values[1],
        "prompt": cols["story"].prompt.removeprefix("{{ x }}{% raw %}").removesuffix("{% endraw %}"),
        "expr": expr_col.expr.removeprefix("{{ x }}{% raw %}").removesuffix("{% endraw %}"),
        "schema_key": next(iter(cols["meta"].output_format["properties"])),
        "score_description": cols["grade"].scores[0].description,
        "option": {str(k): v for k, v in cols["grade"].scores[0].options.items()}["1"],
        "skip_value": cols["story"].skip.value,
        "header": spec.providers[0].extra_headers["X-Tag"],
        "project": spec.submit.project,
    }
