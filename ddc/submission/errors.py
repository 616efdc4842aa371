"""Submit-specific errors; service-level ones (422, HTTP, connection) live in ``ddc.nemo.errors``.

SubmitError (3)
└── JobFailedError (3)   the job reached ``error`` or ``cancelled``
"""

from __future__ import annotations

from ddc.errors import SubmitError
from ddc.nemo.errors import ConfigRejectedError, ServiceHTTPError

__all__ = ["ConfigRejectedError", "JobFailedError", "ServiceHTTPError"]


class JobFailedError(SubmitError):
    """The job reached ``error`` or ``cancelled``."""

    def __init__(self, message: str, *, job: str, status: str, hint: str = "") -> None:
        self.job = job
        self.status = status
        super().__init__(message, hint=hint)
