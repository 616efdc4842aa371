"""Submit-specific refinements of the error tree, each mapped to the exit code ``ddc submit`` promises.

SubmitError (3)           the job ended in error or was cancelled
├── ConfigRejectedError (1)   the service refused the config (HTTP 422); the detail is shown
└── ServiceError (2)          HTTP, auth or connection problems
    └── ServiceHTTPError (2)  an HTTP error status; ``status`` says which
"""

from __future__ import annotations

from ddc.errors import ServiceError, SubmitError


class ConfigRejectedError(SubmitError):
    """NeMo Services answered 422: the config (or the request) was rejected before anything ran."""

    exit_code = 1


class ServiceHTTPError(ServiceError):
    """An HTTP error status from NeMo Services other than 422."""

    def __init__(self, message: str, *, status: int, hint: str = "") -> None:
        self.status = status
        super().__init__(message, hint=hint)


class JobFailedError(SubmitError):
    """The job reached ``error`` or ``cancelled``."""

    def __init__(self, message: str, *, job: str, status: str, hint: str = "") -> None:
        self.job = job
        self.status = status
        super().__init__(message, hint=hint)
