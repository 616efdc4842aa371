"""``--upload-seeds``: materialise a local seed (a file, or the DuckDB query over local tables) to Parquet,
upload it to a fileset and return the ``nmp`` seed source that replaces it in the submitted config.

The file name carries a hash of its content, so uploading the same seed twice is harmless and the
config of a dry run names exactly the file a real run would upload. The spec itself is never changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ddc.errors import RunError, SpecError
from ddc.nemo.client import NemoClient
from ddc.spec.load import LoadedSpec

DEFAULT_SEED_FILESET = "ddc-seeds"


@dataclass(frozen=True)
class MaterialisedSeed:
    path: Path  # local Parquet file
    remote_name: str  # file name inside the fileset
    num_rows: int


def _open_seed(source: Any, base_dir: Path, target: Path, frame: Any = None) -> tuple[Any, str]:
    """A locked-down connection over the seed's tables and the SQL selecting the seed rows (shared
    rules with validation and the engine: it reads the declared files, writes only in ``target``'s
    private directory).
    One thread: a parallel hash join emits rows in a varying order (measured: three runs of a 1M-row
    join gave three different files); one thread is deterministic and as fast on 2 cores."""
    from ddc.spec.seed_files import SeedFileError, open_seed, seed_relation

    if source.seed_type == "df":  # in-memory rows from Python (ddc.spec.memory_seed): no file to read
        from ddc.spec.memory_seed import scannable
        from ddc.spec.seed_sql import sandboxed_connection

        con = sandboxed_connection({}, [], threads=1, writable=[str(target.parent)])
        con.register("ddc_seed_frame", scannable(frame))
        return con, "SELECT * FROM ddc_seed_frame"
    try:
        relation = seed_relation(source, base_dir)
    except SeedFileError as exc:
        raise RunError(f"cannot read the seed: {exc}") from exc
    return open_seed(relation, threads=1, writable=[str(target.parent)]), relation.sql


def materialise_seed(loaded: LoadedSpec, directory: Path) -> MaterialisedSeed:
    """Write the spec's local or query seed as one Parquet file in ``directory``.

    This is the documented seed-materialising entry point submit shares with local runs: the rows are
    what DuckDB reads locally, in the order it reads them."""
    import duckdb

    seed = loaded.spec.seed_config
    if seed is None or seed.source.seed_type not in ("local", "query", "df"):
        raise SpecError("the spec has no local seed to upload")
    span = loaded.source.map.span(("seed_config", "source"))
    private = Path(tempfile.mkdtemp(prefix=".ddc-seed-", dir=directory))  # the only place the query may write
    tmp = private / "seed.parquet"
    con: Any = None
    try:
        con, sql = _open_seed(seed.source, loaded.base_dir, tmp, loaded.seed_data)
        quoted = str(tmp).replace("'", "''")
        con.execute(f"COPY ({sql}) TO '{quoted}' (FORMAT parquet)")
        num_rows = int(con.execute(f"SELECT count(*) FROM read_parquet('{quoted}')").fetchone()[0])  # type: ignore[index]
    except duckdb.Error as exc:
        shutil.rmtree(private, ignore_errors=True)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RunError(f"{span}: cannot materialise the seed: {first}") from exc
    except BaseException:
        shutil.rmtree(private, ignore_errors=True)
        raise
    finally:
        if con is not None:
            con.close()
    digest = _sha256(tmp)
    stem = _safe_stem(loaded.spec.name or (loaded.source.path.stem if loaded.source.path else "seed"))
    remote_name = f"{stem}-{digest[:16]}.parquet"
    final = directory / remote_name
    os.replace(tmp, final)
    shutil.rmtree(private, ignore_errors=True)
    return MaterialisedSeed(final, remote_name, num_rows)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _safe_stem(text: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in text.lower()).strip("-.")
    return (cleaned or "seed")[:40]


def fileset_seed_source(workspace: str, fileset: str, remote_name: str) -> dict[str, Any]:
    """The ``nmp`` seed source the service reads: ``workspace/fileset#file``."""
    return {"seed_type": "nmp", "path": f"{workspace}/{fileset}#{remote_name}"}


def upload_seed(
    client: NemoClient,
    seed: MaterialisedSeed,
    *,
    fileset: str = DEFAULT_SEED_FILESET,
    report: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Create the fileset if missing, upload the seed file, and return its ``nmp`` seed source."""
    created = client.create_fileset(fileset)
    if report is not None:
        report(f"{'created' if created else 'using'} fileset {client.workspace}/{fileset}")
    client.upload_file(fileset, seed.remote_name, seed.path)
    if report is not None:
        report(f"uploaded seed ({seed.num_rows} rows) to {client.workspace}/{fileset}#{seed.remote_name}")
    return fileset_seed_source(client.workspace, fileset, seed.remote_name)
