"""Names NeMo Services accepts for jobs and filesets, checked before anything is sent.

Entity names follow one rule (lower case letters, digits and ``- . _ @ +``, starting with a letter, no
``--``, not ending in ``-``, at most 63 characters). A Data Designer job also creates a fileset
``job-fileset-<job name>`` for its results, so a job name may have at most 63 - 12 = 51 characters:
nemo-platform 0.6.0 answers a longer one with a 409 that only its log explains (0.3.0: a 422 about
``job-fileset-...``), and may leave that fileset behind.
"""

from __future__ import annotations

import re

ENTITY_NAME = re.compile(r"^[a-z](?!.*--)[a-z0-9\-@.+_]{1,62}(?<!-)$")
ENTITY_RULE = "lower case letters, digits and - . _ @ +, starting with a letter, at most 63 characters"
JOB_FILESET_PREFIX = "job-fileset-"
MAX_ENTITY_NAME = 63
MAX_JOB_NAME = MAX_ENTITY_NAME - len(JOB_FILESET_PREFIX)


def job_fileset(job: str) -> str:
    """The fileset the service creates for the results of job ``job``."""
    return JOB_FILESET_PREFIX + job


def job_name_problem(name: str) -> str | None:
    """Why the service would refuse ``name`` as a job name, or None."""
    if not ENTITY_NAME.match(name):
        return f"use {ENTITY_RULE}"
    if len(name) > MAX_JOB_NAME:
        return (
            f"a job name may have at most {MAX_JOB_NAME} characters (this one has {len(name)}): the service "
            f"stores the results in a fileset named {JOB_FILESET_PREFIX}<name>, and fileset names have at most "
            f"{MAX_ENTITY_NAME}"
        )
    return None
