"""The one exception tree for user-facing errors, and source positions.

    DdcError                      anything the user can fix; the CLI prints it and exits 1
    ├── SpecError                 the spec: syntax, schema, references, templates (carries Diagnostics)
    ├── CompileError              a valid spec that cannot be compiled for the chosen target
    ├── RunError                  local execution: seed data, model endpoints, generation
    │   └── ModelEndpointError    an LLM endpoint failed or is unreachable
    ├── OutputError               a file ddc was asked to write cannot be written (a directory, no space)
    ├── SubmitError               NeMo Services: rejected config, job failure (exit 3)
    │   ├── JobWaitTimeout        still running when --wait-timeout passed (exit 5)
    │   └── ServiceError          HTTP, auth or connection problems talking to the service (exit 4)
    └── UsageError                bad command-line usage (exit 2)
    RunInterrupted                a run stopped by SIGINT/SIGTERM (a KeyboardInterrupt; exit 130/143)
    InternalError                 our bug; never raised for bad input

Every user error reads like a compiler message: ``file:line:col: path: message (hint)``.

Exit codes of the ``ddc`` command, in one place (``ExitCode``; README "Exit codes"):
0 success, 1 a user error (DdcError), 2 bad command-line usage (click's, UsageError), 3 a NeMo Services
job that failed or was cancelled, 4 an HTTP, auth or connection error talking to NeMo Services, 5 a job
still running when ``--wait-timeout`` passed (it keeps running), 70 an internal error (a ddc bug:
traceback, please report), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path


class ExitCode(enum.IntEnum):
    """What the ``ddc`` process exit status means (the shell sees the number)."""

    OK = 0
    USER_ERROR = 1  # DdcError: the spec, the data, a model endpoint; the message says what to do
    USAGE = 2  # bad options or arguments (click, UsageError)
    JOB_FAILED = 3  # a NeMo Services job ended in error or was cancelled
    SERVICE_ERROR = 4  # HTTP, auth or connection errors talking to NeMo Services: retry, or check credentials
    WAIT_TIMEOUT = 5  # --wait-timeout passed while the job was still running (it keeps running)
    INTERNAL = 70  # a bug in ddc (BSD sysexits EX_SOFTWARE); printed with its traceback
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


@dataclass(frozen=True, order=True)
class SourceSpan:
    """A position in a source file; line and column are 1-based."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a spec. ``path`` is a JSON path such as ``columns[3].params.low``."""

    message: str
    span: SourceSpan | None = None
    path: str = ""
    hint: str = ""
    severity: str = "error"  # "error" | "warning" | "info"
    code: str = "invalid"

    def format(self) -> str:
        parts = []
        if self.span is not None:
            parts.append(f"{self.span}:")
        if self.severity != "error":
            parts.append(f"{self.severity}:")
        if self.path:
            parts.append(f"{self.path}:")
        parts.append(self.message)
        text = " ".join(parts)
        if self.hint:
            text += f" ({self.hint})"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "file": self.span.file if self.span else None,
            "line": self.span.line if self.span else None,
            "column": self.span.column if self.span else None,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


class DdcError(Exception):
    """Base of every error a user can act on."""

    exit_code: int = ExitCode.USER_ERROR

    def __init__(self, message: str, *, span: SourceSpan | None = None, hint: str = "") -> None:
        from ddc.redaction import redact_message

        message, hint = redact_message(message), redact_message(hint)  # no secret, no URL password
        self.message = message
        self.span = span
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"{self.span}: {self.message}" if self.span else self.message
        return f"{text} ({self.hint})" if self.hint else text

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [Diagnostic(self.message, self.span, hint=self.hint, code=type(self).__name__)]


class SpecError(DdcError):
    """The spec is invalid. Holds every diagnostic found, in source order."""

    def __init__(
        self, diagnostics: list[Diagnostic] | Diagnostic | str, *, span: SourceSpan | None = None, hint: str = ""
    ) -> None:
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(diagnostics, span, hint=hint)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self._diagnostics = sorted(diagnostics, key=_diagnostic_order)
        first = self._diagnostics[0] if self._diagnostics else Diagnostic("invalid spec")
        super().__init__(first.message, span=first.span, hint=first.hint)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return list(self._diagnostics)

    def __str__(self) -> str:
        return "\n".join(d.format() for d in self._diagnostics if d.severity == "error") or "invalid spec"


class CompileError(DdcError):
    """The spec is valid but cannot be compiled as asked (for example for an older target version)."""


class RunError(DdcError):
    """Local generation failed."""


class ModelEndpointError(RunError):
    """An LLM endpoint failed, refused or could not be reached."""


class OutputError(DdcError):
    """A file cannot be written where it was asked for: its target is a directory or a device, a parent
    is a file, the disk is full, permission is denied. Nothing is left half-written (``ddc.fsutil``)."""


class SubmitError(DdcError):
    """NeMo Services rejected the job or the job ended badly."""

    exit_code: int = ExitCode.JOB_FAILED


class ServiceError(SubmitError):
    """HTTP, auth or connection error talking to NeMo Services."""

    exit_code: int = ExitCode.SERVICE_ERROR


class UsageError(DdcError):
    """Bad command-line usage."""

    exit_code: int = ExitCode.USAGE


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by SIGINT or SIGTERM (``ddc.engine.interrupts``). A ``KeyboardInterrupt``, so code
    that lets Ctrl-C through lets this through too; the CLI exits with 128 + the signal number."""

    def __init__(self, signum: int, dataset_dir: Path | None = None) -> None:
        super().__init__(signum)
        self.signum = signum
        self.dataset_dir = dataset_dir  # set when the run had a dataset directory to resume
        self.exit_code = 128 + signum

    @property
    def signal_name(self) -> str:
        import signal

        try:
            return signal.Signals(self.signum).name
        except ValueError:
            return f"signal {self.signum}"


class TemplateProblem(ValueError):
    """A template that cannot be used; ``lineno`` is 1-based within the template. Raised by
    ``ddc.templating`` and turned into diagnostics by its callers; defined here so that a module catching
    it does not import jinja2 (40 ms) for specs without templates."""

    def __init__(self, message: str, lineno: int | None = None) -> None:
        self.lineno = lineno
        super().__init__(message)


class InternalError(Exception):
    """A bug in ddc. Not a DdcError on purpose: the CLI shows a traceback and asks for a report."""


def _diagnostic_order(d: Diagnostic) -> tuple[str, int, int]:
    if d.span is None:
        return ("\uffff", 0, 0)
    return (d.span.file, d.span.line, d.span.column)


def diagnostics_to_json(diagnostics: list[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in diagnostics], indent=2, ensure_ascii=False)
