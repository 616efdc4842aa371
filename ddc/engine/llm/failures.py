"""Failures never vanish: per-cell errors, their errors.jsonl records, and early shutdown.

Early shutdown arithmetic (the official engine's is reported wrong upstream, NVIDIA-NeMo/DataDesigner
#185 and #200, where 21 failures of 512 stopped a run at threshold 0.5 and a threshold of 1.0 still
stopped one): the monitor keeps the outcomes of the last ``window`` model-backed cells that reached a
model (a success, or a failure after all its retries; template errors are the spec's fault and do
not count). Once the window is
full, the run stops when ``failures_in_window / window > max_error_rate``: strictly greater, so
``max_error_rate: 1.0`` never stops a run, and 0.5 stops it only when more than half of the last
``window`` calls failed. Before the window is full no decision is taken (a small run always finishes
and reports every failure). Once tripped, requests not yet sent fail at once with kind
``early_shutdown`` (so they are listed in errors.jsonl), a warning is recorded, and the next batch
raises ``EarlyShutdown``; the batches already written stay, and ``ddc run --resume`` continues.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from ddc.errors import RunError

DEFAULT_WINDOW = 20
NOT_A_MODEL_FAILURE = frozenset({"template", "media", "early_shutdown", "tool", "upstream"})


class EarlyShutdown(RunError):
    """Too many recent model calls failed: raised for the batches after the one that tripped."""

    def __init__(self, message: str) -> None:
        super().__init__(message, hint="check the endpoint (see errors.jsonl) or raise run.max_error_rate")


class ErrorRateMonitor:
    """Sliding window over final cell outcomes (True = failed)."""

    def __init__(self, max_error_rate: float, window: int = DEFAULT_WINDOW) -> None:
        self.max_error_rate = max_error_rate
        self.window = window
        self._outcomes: deque[bool] = deque(maxlen=window)
        self.reason: str | None = None
        self._last_error = ""

    def record(self, failed: bool, kind: str | None = None, message: str = "") -> None:
        if kind in NOT_A_MODEL_FAILURE:
            return
        if failed and message:
            self._last_error = f"{kind}: {message}" if kind else message
        self._outcomes.append(failed)
        if self.reason is None and len(self._outcomes) == self.window:
            failures = sum(self._outcomes)
            if failures / self.window > self.max_error_rate:
                self.reason = (
                    f"stopped early: {failures} of the last {self.window} model calls failed "
                    f"({failures / self.window:.0%} > run.max_error_rate {self.max_error_rate:g}); "
                    f"last error: {self._last_error}"
                )

    @property
    def tripped(self) -> bool:
        return self.reason is not None


def error_records(
    column: str, column_type: str, rows: Iterable[int], errors: Mapping[int, str]
) -> list[dict[str, Any]]:
    """errors.jsonl records ``{row, column, kind, message}`` of a batch (positions -> global rows)."""
    rows = list(rows)
    records = []
    for position, text in sorted(errors.items()):
        kind, _, message = text.partition(": ")
        records.append({"row": int(rows[position]), "column": column, "kind": kind or column_type,
                        "message": message or text})  # fmt: skip
    return records


def write_jsonl_line(handle: Any, record: Mapping[str, Any]) -> None:
    handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
