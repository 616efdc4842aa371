"""Submit-specific errors; service-level ones (422, HTTP, connection) live in ``ddc.nemo.errors``.

SubmitError (3)
├── JobFailedError (3)   the job reached ``error`` or ``cancelled``
└── JobWaitTimeout (5)   the job was still running when the wait's deadline passed
"""

from __future__ import annotations

from ddc.errors import ExitCode, SubmitError
from ddc.nemo.errors import ConfigRejectedError, ServiceHTTPError

__all__ = ["ConfigRejectedError", "JobFailedError", "JobWaitTimeout", "ServiceHTTPError"]


class JobFailedError(SubmitError):
    """The job reached ``error`` or ``cancelled``."""

    def __init__(self, message: str, *, job: str, status: str, hint: str = "") -> None:
        self.job = job
        self.status = status
        super().__init__(message, hint=hint)


class JobWaitTimeout(SubmitError):
    """The wait's deadline passed with the job not finished; the job itself goes on."""

    exit_code: int = ExitCode.WAIT_TIMEOUT

    def __init__(self, *, job: str, status: str, seconds: float) -> None:
        self.job = job
        self.status = status
        super().__init__(
            f"job {job} is still {status} after {seconds:g} s of waiting; it keeps running on NeMo Services",
            hint=f"wait again with `ddc jobs wait {job}`, or stop it with `ddc jobs cancel {job}`",
        )
