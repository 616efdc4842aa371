"""Validation columns: Python linted with ruff, SQL parsed per dialect, remote validators over HTTP.

Python (as the official validator): every value is linted with ``ruff check --select
E,F6,F7,F8,SIM,PLC,PLE,PLR,PLW`` (one ruff process per batch); a value that does not compile is
``fatal``. Severity per rule: syntax -> fatal; F6/F7/F82 (undefined names, misplaced return/break ...)
and PLE -> error; other F and PLW -> warning; E and PLC -> convention; SIM and PLR -> refactor. The
score is pylint's ``10 - 10 * (5*errors + warnings + refactors + conventions) / statements`` (0 when
fatal, floored at 0); ``is_valid`` is false only for fatal or error. Without ruff, only ``compile()``.

SQL: DuckDB's parser (PostgreSQL grammar, strict) for ``sql:postgres`` and ``sql:ansi``; sqlglot for
the other dialects (sqlite, mysql, tsql, bigquery), whose syntax DuckDB would wrongly reject (``TOP``,
backticks, ``ON DUPLICATE KEY``); a top-level bare expression (``SELEC a``) is refused since sqlglot
is lenient there. Plus the official check that ``DECIMAL(p)`` has a scale. Output
``{is_valid, error_messages}``.
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ddc.engine.llm.generate import Cell, CellError

RUFF_SELECT = "E,F6,F7,F8,SIM,PLC,PLE,PLR,PLW"
_SEVERITY_ORDER = ("none", "refactor", "convention", "warning", "error", "fatal")


def _ruff_binary() -> str | None:
    beside = Path(sys.executable).parent / "ruff"
    if beside.is_file():
        return str(beside)
    return shutil.which("ruff")


def _severity(code: str | None) -> str:
    if not code or code in {"E999", "invalid-syntax"}:
        return "fatal"
    if code.startswith(("F6", "F7", "F82", "PLE")):
        return "error"
    if code.startswith(("F", "PLW", "W")):
        return "warning"
    if code.startswith(("E", "PLC", "C")):
        return "convention"
    return "refactor"


def _statements(code: str) -> int:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return 0
    return sum(isinstance(node, ast.stmt) for node in ast.walk(tree))


def _python_result(code: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    counts = {s: 0 for s in _SEVERITY_ORDER}
    for message in messages:
        counts[message["type"]] += 1
    worst = max((m["type"] for m in messages), key=_SEVERITY_ORDER.index, default="none")
    if worst == "fatal":
        score = 0.0
    else:
        weighted = 5 * counts["error"] + counts["warning"] + counts["refactor"] + counts["convention"]
        score = max(0.0, 10.0 - 10.0 * weighted / max(1, _statements(code)))
    return {
        "is_valid": worst not in {"fatal", "error"},
        "python_linter_score": round(score, 2),
        "python_linter_severity": worst,
        "python_linter_messages": messages,
    }


def _compile_messages(code: str) -> list[dict[str, Any]]:
    try:
        compile(code, "<code>", "exec")
    except SyntaxError as exc:
        where = {"line": exc.lineno or 1, "column": exc.offset or 0}
        return [{"type": "fatal", "symbol": "syntax-error", **where, "message": exc.msg}]
    return []


def validate_python(codes: Sequence[str]) -> list[dict[str, Any]]:
    """One result per code string; ruff runs once over the whole batch."""
    messages: list[list[dict[str, Any]]] = [_compile_messages(c) for c in codes]
    ruff = _ruff_binary()
    if ruff is not None and codes:
        with tempfile.TemporaryDirectory(prefix="ddc-lint-") as tmp:
            paths = []
            for i, code in enumerate(codes):
                path = Path(tmp) / f"cell_{i}.py"
                path.write_text(code, encoding="utf-8")
                paths.append(path)
            completed = subprocess.run(
                [ruff, "check", "--isolated", "--no-cache", "--output-format", "json",
                 "--select", RUFF_SELECT, "--exit-zero", *map(str, paths)],
                capture_output=True, text=True, check=False, cwd=tmp,
            )  # fmt: skip
            findings = json.loads(completed.stdout or "[]") if completed.returncode == 0 else []
            index = {str(p.resolve()): i for i, p in enumerate(paths)}
            linted: list[list[dict[str, Any]]] = [[] for _ in codes]
            for finding in findings:
                position = index.get(str(Path(finding["filename"]).resolve()))
                if position is None:
                    continue
                code = finding.get("code")
                location = finding.get("location") or {}
                linted[position].append({"type": _severity(code), "symbol": code or "syntax-error",
                                  "line": location.get("row", 0), "column": location.get("column", 0),
                                  "message": finding.get("message", "")})  # fmt: skip
            messages = [lint if lint else compiled for lint, compiled in zip(linted, messages, strict=True)]
    return [_python_result(code, m) for code, m in zip(codes, messages, strict=True)]


_DECIMAL_NO_SCALE = re.compile(r"\b(?:DECIMAL|NUMERIC)\s*\(\s*\d+\s*\)", re.IGNORECASE)
_SQLGLOT_DIALECT = {"sqlite": "sqlite", "mysql": "mysql", "tsql": "tsql", "bigquery": "bigquery"}


def _parse_sql(code: str, dialect: str) -> str:
    """'' when the SQL parses, else the parser's message."""
    if dialect not in ("postgres", "ansi"):
        try:
            return _parse_sql_dialect(code, dialect)
        except ModuleNotFoundError:  # sqlglot is not installed: DuckDB's grammar is the best left
            pass
    import duckdb

    try:
        duckdb.extract_statements(code)
    except duckdb.Error as exc:
        return " ".join(str(exc).split())
    return ""


def _parse_sql_dialect(code: str, dialect: str) -> str:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    try:
        statements = sqlglot.parse(code, read=_SQLGLOT_DIALECT[dialect], error_level=sqlglot.ErrorLevel.RAISE)
    except (ParseError, TokenError) as exc:
        return " ".join(re.sub(r"\x1b\[\d+m", "", str(exc)).split())
    for statement in statements:
        if isinstance(statement, (exp.Alias, exp.Condition)):  # "SELEC a" parses as an aliased column
            return f"not a SQL statement: {statement.sql()[:60]!r}"
    return ""


def validate_sql(codes: Sequence[str], code_lang: str) -> list[dict[str, Any]]:
    dialect = code_lang.split(":", 1)[1] if ":" in code_lang else "ansi"
    results = []
    for code in codes:
        problems = []
        if not code.strip():
            problems.append("empty SQL")
        else:
            parsed = _parse_sql(code, dialect)
            if parsed:
                problems.append(parsed)
            if _DECIMAL_NO_SCALE.search(code):
                problems.append("DECIMAL/NUMERIC types must give a scale, e.g. DECIMAL(10, 2)")
        results.append({"is_valid": not problems, "error_messages": "; ".join(problems)})
    return results


def validate_code(codes: Sequence[Any], code_lang: str) -> list[dict[str, Any]]:
    texts = ["" if c is None else str(c) for c in codes]
    return validate_python(texts) if code_lang == "python" else validate_sql(texts, code_lang)


def generate_code_validation(column: Any, records: Sequence[Mapping[str, Any]]) -> list[Cell]:
    """One ``{is_valid, ...}`` per row, or ``{target: {...}}`` per row with several targets."""
    lang = column.validator_params.code_lang
    targets = list(column.target_columns)
    per_target = {t: validate_code([r.get(t) for r in records], lang) for t in targets}
    if len(targets) == 1:
        return [Cell(result) for result in per_target[targets[0]]]
    return [Cell({t: per_target[t][i] for t in targets}) for i in range(len(records))]


async def generate_remote_validation(column: Any, records: Sequence[Mapping[str, Any]]) -> list[Cell]:
    """POST ``{"data": [rows]}`` in batches of ``batch_size``; expects ``{"data": [{is_valid ...}]}``."""
    import httpx

    params = column.validator_params
    cells: list[Cell] = [Cell()] * len(records)
    gate = asyncio.Semaphore(params.max_parallel_requests)
    size = column.batch_size
    async with httpx.AsyncClient(timeout=params.timeout) as http:

        async def run(start: int) -> None:
            chunk = [{t: r.get(t) for t in column.target_columns} for r in records[start : start + size]]
            error = ""
            for attempt in range(params.max_retries + 1):
                try:
                    async with gate:
                        response = await http.post(params.endpoint_url, json={"data": chunk})
                except httpx.HTTPError as exc:
                    error = f"remote validator {params.endpoint_url}: {type(exc).__name__}"
                else:
                    if response.status_code in (429, 500, 502, 503, 504):
                        error = f"remote validator {params.endpoint_url}: HTTP {response.status_code}"
                    elif response.status_code >= 400:
                        error = f"remote validator {params.endpoint_url}: HTTP {response.status_code}"
                        break
                    else:
                        results = _remote_results(response, len(chunk))
                        if isinstance(results, str):
                            error = f"remote validator {params.endpoint_url}: {results}"
                            break
                        for i, result in enumerate(results):
                            cells[start + i] = Cell(result)
                        return
                if attempt < params.max_retries:
                    await asyncio.sleep(min(30.0, 0.1 * params.retry_backoff**attempt))
            for i in range(len(chunk)):
                cells[start + i] = Cell(error=CellError("remote_validator", error))

        await asyncio.gather(*(run(s) for s in range(0, len(records), size)))
    return cells


def _remote_results(response: Any, expected: int) -> list[dict[str, Any]] | str:
    try:
        payload = response.json()
    except ValueError:
        return "the response is not JSON"
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list) or len(data) != expected or not all(isinstance(d, dict) for d in data):
        return f"expected {{'data': [...]}} with {expected} results"
    return [{"is_valid": d.get("is_valid"), **{k: v for k, v in d.items() if k != "is_valid"}} for d in data]
