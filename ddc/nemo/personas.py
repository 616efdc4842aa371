"""Local Nemotron-Personas datasets for the ``person`` sampler: where they live and how to install one.

``ddc run`` reads ``<assets>/datasets/<locale>.parquet`` with ``<assets>`` from
``$DATA_DESIGNER_MANAGED_ASSETS_PATH`` or ``~/.data-designer/managed-assets`` (the official engine's
location, so one install serves both). Installing copies a local Parquet file there, or downloads the
locale's persona fileset ``system/nemotron-personas-dataset-<locale>`` from NeMo Services.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ddc.compile.resources import persona_dataset_paths
from ddc.errors import RunError
from ddc.fsutil import write_atomic
from ddc.nemo.resources import NemoAccess
from ddc.spec.vocab import PERSONA_LOCALES


def persona_fileset(locale: str) -> tuple[str, str, str]:
    """(workspace, fileset, file) of the NeMo persona fileset for ``locale``."""
    return "system", f"nemotron-personas-dataset-{locale.lower()}", f"{locale}.parquet"


def installed_persona_path(locale: str) -> Path | None:
    return next((p for p in persona_dataset_paths(locale) if p.is_file()), None)


def install_personas(locale: str, *, source: Path | None = None, access: NemoAccess | None = None) -> Path:
    """Put the persona dataset for ``locale`` where ``ddc run`` finds it; return its path."""
    if locale not in PERSONA_LOCALES:
        raise RunError(f"no persona dataset exists for locale {locale!r}", hint="one of: " + ", ".join(PERSONA_LOCALES))
    target = persona_dataset_paths(locale)[0]
    if source is not None:
        if not source.is_file():
            raise RunError(f"{source}: no such file")
        _check_parquet(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".parquet.tmp")
        shutil.copyfile(source, tmp)
        tmp.replace(target)
        return target
    if access is None:
        raise RunError(
            f"no persona source for {locale}: pass --from FILE, or set NMP_BASE_URL to download the fileset "
            f"{'/'.join(persona_fileset(locale)[:2])}",
        )
    workspace, fileset, name = persona_fileset(locale)
    with access.client(workspace) as client:
        write_atomic(target, client.download_file(fileset, name, workspace=workspace))
    _check_parquet(target)
    return target


def _check_parquet(path: Path) -> None:
    import pyarrow.parquet as pq

    try:
        pq.read_schema(path)
    except (OSError, ValueError) as exc:  # ArrowInvalid is a ValueError; unreadable files are OSErrors
        raise RunError(f"{path}: not a readable Parquet file ({exc})") from exc
