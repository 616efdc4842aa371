"""The editor checks of issue 7, run against any schema in a real yaml-language-server.

Each check opens a small document whose first line is the ``# yaml-language-server: $schema=`` modeline,
asks the server for completions, hover or diagnostics, and returns ``(passed, detail)``. The checks are
shared by the tests (ddc's schema must pass all of them) and by ``benchmarks/editor_baseline.py``, which
also runs them against the schema pydantic generates from the official library's models.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsp_client import LspClient

COLUMN_TYPES = (
    "sampler", "llm-text", "llm-code", "llm-structured", "llm-judge", "expression", "validation",
    "seed-dataset", "embedding", "image",
)  # fmt: skip
SAMPLER_TYPES = (
    "category", "subcategory", "uniform", "gaussian", "bernoulli", "bernoulli_mixture", "binomial",
    "poisson", "scipy", "datetime", "timedelta", "uuid", "person", "person_from_faker",
)  # fmt: skip
#: A label that looks like a Python class name (``UniformSamplerColumn``, ``LLMTextColumnConfig`` ...).
CLASS_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*(Config|Column|Params|Source|Processor|Constraint)$")
PROPERTY = 10  # CompletionItemKind.Property
CURSOR = "§"

SERVER_SETTINGS: dict[str, Any] = {
    "validate": True,
    "hover": True,
    "completion": True,
    "schemaStore": {"enable": False},
    "schemas": {},
}

VALID_EXAMPLE = """\
model_configs:
  - alias: writer
    model: nvidia/nemotron-3-nano-30b-a3b
    provider: nvidia
    inference_parameters:
      temperature: 0.7
      max_tokens: 512
columns:
  - name: topic
    column_type: sampler
    sampler_type: category
    params:
      values: [cats, dogs]
  - name: age
    column_type: sampler
    sampler_type: uniform
    params: {low: 18, high: 80, decimal_places: 0}
  - name: title
    column_type: llm-text
    model_alias: writer
    prompt: Write a title about {{ topic }} for a {{ age }}-year-old.
  - name: shout
    column_type: expression
    expr: "{{ title | upper }}"
constraints:
  - target_column: age
    operator: ge
    rhs: 21
"""


class Session:
    """A server plus the schema under test; numbers documents so each check gets a fresh one."""

    def __init__(self, client: LspClient, schema: Path, workdir: Path) -> None:
        self.client = client
        self.schema = schema
        self.workdir = workdir
        self._count = 0

    def document(self, text: str) -> tuple[str, int, int]:
        """Open ``text`` (with the modeline prepended); return its uri and the cursor's line and column."""
        self._count += 1
        uri = (self.workdir / f"check-{self._count}.ddc.yaml").as_uri()
        body = f"# yaml-language-server: $schema={self.schema.as_uri()}\n" + text
        line = character = -1
        if CURSOR in body:
            before = body[: body.index(CURSOR)]
            line, character = before.count("\n"), len(before.split("\n")[-1])
            body = body.replace(CURSOR, "")
        self.client.open(uri, body)
        return uri, line, character

    def completion_labels(self, text: str, kind: int | None = None) -> list[str]:
        uri, line, character = self.document(text)
        items = self.client.completion(uri, line, character)
        return [item["label"] for item in items if kind is None or item.get("kind") == kind]

    def diagnostics(self, text: str) -> tuple[list[dict[str, Any]], list[str]]:
        """Diagnostics of ``text`` and the document's lines (line 0 is the modeline)."""
        uri, _, _ = self.document(text)
        body = f"modeline\n{text}".replace(CURSOR, "")
        return self.client.diagnostics(uri), body.split("\n")


Check = Callable[[Session], tuple[bool, str]]


def completes_column_types(s: Session) -> tuple[bool, str]:
    labels = s.completion_labels("columns:\n  - name: a\n    column_type: §\n")
    return set(labels) == set(COLUMN_TYPES), f"offered {sorted(labels)}"


def completes_sampler_types(s: Session) -> tuple[bool, str]:
    labels = s.completion_labels("columns:\n  - name: a\n    column_type: sampler\n    sampler_type: §\n")
    return set(labels) == set(SAMPLER_TYPES), f"offered {sorted(labels)}"


def completes_only_uniform_params(s: Session) -> tuple[bool, str]:
    text = "columns:\n  - name: a\n    column_type: sampler\n    sampler_type: uniform\n    params:\n      §\n"
    keys = set(s.completion_labels(text, kind=PROPERTY))
    ok = {"low", "high", "decimal_places"} <= keys <= {"low", "high", "decimal_places", "sampler_type"}
    return ok, f"offered keys {sorted(keys)}"


def offers_a_snippet_per_column_type(s: Session) -> tuple[bool, str]:
    uri, line, character = s.document("columns:\n  - §\n")
    items = s.client.completion(uri, line, character)
    texts = [f"{item['label']}\n{item.get('insertText', '')}" for item in items]
    missing = [t for t in COLUMN_TYPES if not any(re.search(rf"column_type: {t}\b", x) for x in texts)]
    missing += [
        f"sampler {t}" for t in SAMPLER_TYPES if not any(re.search(rf"sampler_type: {t}\s*$", x, re.M) for x in texts)
    ]
    class_names = sorted({i["label"] for i in items if CLASS_NAME.search(i["label"].split()[-1])})
    ok = not missing and not class_names
    return ok, f"{len(items)} items; class-name labels {class_names}; no snippet for {missing}"


def hover_shows_model_alias_description(s: Session) -> tuple[bool, str]:
    text = "columns:\n  - name: a\n    column_type: llm-text\n    prompt: hi\n    mod§el_alias: writer\n"
    uri, line, character = s.document(text)
    hover = s.client.hover(uri, line, character)
    described = [ln for ln in hover.split("\n") if "alias" in ln.lower() and not ln.startswith("#")]
    return bool(described), f"hover: {hover[:160]!r}"


def flags_unknown_key(s: Session) -> tuple[bool, str]:
    diagnostics, lines = s.diagnostics(
        "columns:\n  - name: a\n    column_type: expression\n    expr: x\n    colour: red\n"
    )
    want = lines.index("    colour: red")
    hits = [d for d in diagnostics if d["range"]["start"]["line"] == want and "colour" in d["message"]]
    return bool(hits), _describe(diagnostics)


def flags_wrong_enum_naming_valid_values(s: Session) -> tuple[bool, str]:
    diagnostics, lines = s.diagnostics(
        "columns:\n  - name: a\n    column_type: sampler\n    sampler_type: unifrom\n    params: {low: 0, high: 1}\n"
    )
    want = lines.index("    sampler_type: unifrom")
    hits = [
        d
        for d in diagnostics
        if d["range"]["start"]["line"] == want and all(t in d["message"] for t in ("uniform", "gaussian", "person"))
    ]
    return bool(hits), _describe(diagnostics)


def flags_wrong_column_type_naming_valid_values(s: Session) -> tuple[bool, str]:
    diagnostics, lines = s.diagnostics("columns:\n  - name: a\n    column_type: llm_text\n    prompt: hi\n")
    want = lines.index("    column_type: llm_text")
    hits = [
        d
        for d in diagnostics
        if d["range"]["start"]["line"] == want and all(t in d["message"] for t in ("llm-text", "expression"))
    ]
    return bool(hits), _describe(diagnostics)


def flags_other_sampler_key_in_params(s: Session) -> tuple[bool, str]:
    diagnostics, lines = s.diagnostics(
        "columns:\n  - name: a\n    column_type: sampler\n    sampler_type: uniform\n"
        "    params:\n      low: 0\n      high: 1\n      stddev: 2\n"
    )
    want = lines.index("      stddev: 2")
    hits = [d for d in diagnostics if d["range"]["start"]["line"] == want and "stddev" in d["message"]]
    return bool(hits), _describe(diagnostics)


def accepts_the_official_wrapped_form(s: Session) -> tuple[bool, str]:
    wrapped = "data_designer:\n" + "".join(f"  {line}\n" if line else "\n" for line in VALID_EXAMPLE.split("\n")[:-1])
    diagnostics, _ = s.diagnostics(wrapped + "library_version: 0.9.6\n")
    return diagnostics == [], _describe(diagnostics)


def flags_missing_required_field(s: Session) -> tuple[bool, str]:
    diagnostics, lines = s.diagnostics(
        "columns:\n  - name: a\n    column_type: expression\n    expr: x\n"
        "  - name: b\n    column_type: llm-text\n    prompt: hi\n"
    )
    want = lines.index("  - name: b")
    hits = [d for d in diagnostics if d["range"]["start"]["line"] == want and "model_alias" in d["message"]]
    return bool(hits), _describe(diagnostics)


def valid_example_has_no_diagnostics(s: Session) -> tuple[bool, str]:
    diagnostics, _ = s.diagnostics(VALID_EXAMPLE)
    return diagnostics == [], _describe(diagnostics)


def _describe(diagnostics: list[dict[str, Any]]) -> str:
    return "; ".join(f"line {d['range']['start']['line']}: {d['message'][:120]}" for d in diagnostics) or "none"


CHECKS: dict[str, Check] = {
    "completion at column_type lists all column types": completes_column_types,
    "completion at sampler_type lists all sampler types": completes_sampler_types,
    "params of a uniform sampler offer only low/high/decimal_places": completes_only_uniform_params,
    "new column item offers a snippet per column type, no class names": offers_a_snippet_per_column_type,
    "hover on model_alias shows its description": hover_shows_model_alias_description,
    "unknown key flagged on its line": flags_unknown_key,
    "wrong enum flagged on its line, naming the valid values": flags_wrong_enum_naming_valid_values,
    "missing required field flagged on the item's line": flags_missing_required_field,
    "wrong column_type flagged, naming the valid column types": flags_wrong_column_type_naming_valid_values,
    "another sampler's key inside uniform params flagged on its line": flags_other_sampler_key_in_params,
    "official wrapped form (data_designer: + library_version) is accepted": accepts_the_official_wrapped_form,
    "valid example spec has zero diagnostics": valid_example_has_no_diagnostics,
}


def run_checks(client: LspClient, schema: Path, workdir: Path) -> dict[str, tuple[bool, str]]:
    session = Session(client, schema, workdir)
    return {name: check(session) for name, check in CHECKS.items()}
