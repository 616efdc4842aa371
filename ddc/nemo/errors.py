"""Errors of talking to NeMo Services, each mapped to the exit code the commands promise.

ServiceError (2)              HTTP, auth or connection problems (ddc.errors)
└── ServiceHTTPError (2)      an HTTP error status; ``status`` says which
SubmitError (3)               (ddc.errors)
└── ConfigRejectedError (1)   the service refused the config (HTTP 422); the detail is shown
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
