"""The runner: spec -> plan -> generation -> files. The library entry points ``run`` and ``preview``.

A run covers the dataset rows ``[lo, hi)`` (all rows, or one ``--partition`` shard), cut into batches
of ``batch_size`` rows. The pieces, in the order a run uses them:

* ``resume``: may the output directory be written; can an earlier run there be continued;
* ``seeds`` / ``seed_inputs``: the seed reader and the stamp of the seed data it reads;
* ``scheduling``: batches in flight, start-up checks (the LLM health check), the coroutine driver;
* ``batches``: one batch through every column (``BatchEngine``);
* ``artifacts``: batch files, ``builder_config.json``, and at the end statistics and ``metadata.json``.

Progress goes to a ``ddc.engine.progress.RunObserver``; nothing here prints.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ddc.engine.artifacts import RunResult, concat_tables, finish_run
from ddc.engine.kinds import ColumnKind, RunContext
from ddc.engine.progress import RunObserver, as_observer
from ddc.engine.registry import column_kinds
from ddc.engine.resume import check_compatible, check_target, new_metadata
from ddc.engine.rng import new_seed
from ddc.engine.scheduling import drive, generate, waits_on_io
from ddc.engine.warm_up import in_background
from ddc.errors import RunError, UsageError

if TYPE_CHECKING:
    from ddc.compile.plan import Plan
    from ddc.engine.hfhub import HubSeed
    from ddc.engine.interrupts import SignalGuard
    from ddc.engine.llm.early_check import EarlyHealthCheck
    from ddc.engine.seeds import SeedReader
    from ddc.nemo.resources import NemoAccess
    from ddc.spec.load import LoadedSpec

__all__ = ["RunResult", "default_batch_size", "parse_partition", "partition_rows", "preview", "run"]

Progress = RunObserver | Callable[[int, int], None]

#: The most records one run may ask for: a trillion rows is years of generation on one machine, and row
#: numbers (int64, with the seeds derived from them) stay far from overflowing.
MAX_RECORDS = 10**12


# --- loading -----------------------------------------------------------------------------------------


def _load(spec: str | Path | LoadedSpec) -> LoadedSpec:
    from ddc.spec.load import LoadedSpec, load_spec

    if isinstance(spec, LoadedSpec):
        return spec
    return load_spec(spec)


def _open_seed(
    loaded: LoadedSpec, random_seed: int, warn: Callable[[str], None], *, stamp: bool = False
) -> tuple[SeedReader | None, dict[str, Any] | None]:
    """The seed's reader and, with ``stamp``, the ``seed_inputs`` it reads (``ddc.engine.seed_inputs``)."""
    from ddc.engine.seeds import SeedReader

    config = loaded.spec.seed_config
    if config is None:
        return None, None
    hub, hub_files = None, None
    if config.source.seed_type == "nmp":
        config = _local_fileset_seed(loaded, config)
    elif config.source.seed_type in ("directory", "file_contents") and "#" in config.source.path:
        config = _local_fileset_directory(loaded, config)
    elif config.source.seed_type == "hf":
        hub, hub_files = _local_hf_seed(loaded, warn)
    files = [str(p) for p in hub_files] if hub_files is not None else None
    reader = SeedReader(config, loaded.base_dir, random_seed, files=files, frame=loaded.seed_data)
    with contextlib.ExitStack() as on_error:
        on_error.callback(reader.close)
        declared = {c.name for c in loaded.spec.columns if c.column_type != "seed-dataset"}
        clash = sorted(declared & set(reader.columns))
        if clash:
            raise RunError(f"column {clash[0]!r} is also a column of the seed dataset; rename one of them")
        inputs = None
        if stamp:
            from ddc.engine.seed_inputs import stamp_seed

            inputs = stamp_seed(config, loaded.base_dir, reader.stamped_rows, hub=hub, hub_files=hub_files or ())
        on_error.pop_all()
    return reader, inputs


def _local_fileset_seed(loaded: LoadedSpec, config: Any) -> Any:
    """A fileset seed, downloaded into the local cache (reused by later runs), as a local seed."""
    from ddc.nemo.resources import fetch_fileset_seed
    from ddc.spec.seeds import LocalFileSeedSource

    local, _ = fetch_fileset_seed(_nemo_access(loaded, f"the fileset seed {config.source.path!r}"), config.source.path)
    return config.model_copy(update={"source": LocalFileSeedSource(path=local)})


def _local_fileset_directory(loaded: LoadedSpec, config: Any) -> Any:
    """A ``directory``/``file_contents`` seed over a fileset directory, downloaded into the local cache."""
    from ddc.nemo.resources import fetch_fileset_directory

    access = _nemo_access(loaded, f"the fileset directory {config.source.path!r}")
    local = fetch_fileset_directory(access, config.source.path)
    return config.model_copy(update={"source": config.source.model_copy(update={"path": str(local)})})


def _nemo_access(loaded: LoadedSpec, what: str) -> NemoAccess:
    """How to reach NeMo Services for a seed a local run downloads; a one-line error when unset."""
    from ddc.nemo.resources import NemoAccess

    access = NemoAccess.for_spec(loaded.spec)
    if access is None:
        raise RunError(
            f"seed data: {what} needs NeMo Services",
            hint="set NMP_BASE_URL (and NMP_ACCESS_TOKEN), or `ddc migrate --to local` to download it once",
        )
    return access


def _local_hf_seed(loaded: LoadedSpec, warn: Callable[[str], None]) -> tuple[HubSeed, list[Path]]:
    """A Hugging Face seed's files, downloaded into the local cache (reused while unchanged on the Hub)."""
    from ddc.engine.hfhub import fetch_hf_seed, hub_seed

    seed = hub_seed(loaded)
    paths, _ = fetch_hf_seed(seed, warn=warn)
    return seed, paths


def default_batch_size(plan: Plan) -> int:
    """1000 rows when any column calls a model or a validator (the official buffer size: progress and resume
    stay fine-grained); 20,000 otherwise, where per-batch overhead would dominate vectorised work."""
    from ddc.spec.columns import MODEL_COLUMN_TYPES

    slow = MODEL_COLUMN_TYPES | {"validation"}
    return 1000 if any(c.column_type in slow for c in plan.columns) else 20_000


def parse_partition(text: str) -> tuple[int, int]:
    """``I/N`` -> (I, N) with 0 <= I < N."""
    try:
        index_text, count_text = text.split("/")
        index, count = int(index_text), int(count_text)
    except ValueError:
        raise UsageError(f"--partition must look like I/N, e.g. 0/4 (got {text!r})") from None
    if count < 1 or not 0 <= index < count:
        raise UsageError(f"--partition {text}: need 0 <= I < N")
    return index, count


def partition_rows(num_records: int, partition: tuple[int, int] | None) -> tuple[int, int]:
    if partition is None:
        return 0, num_records
    index, count = partition
    return num_records * index // count, num_records * (index + 1) // count


# --- run / preview ----------------------------------------------------------------------------------


def _context(
    plan: Plan, random_seed: int, num_records: int, batch_size: int, warn: Callable[[str], None]
) -> RunContext:
    return RunContext(
        plan=plan,
        random_seed=random_seed,
        num_records=num_records,
        batch_size=batch_size,
        settings=plan.run,
        base_dir=plan.base_dir,
        warn=warn,
    )


def _resolve_seed(plan: Plan, seed: int | None) -> tuple[int, str]:
    if seed is not None:
        return seed, "option"
    if plan.random_seed is not None:
        return plan.random_seed, "spec"
    return new_seed(), "generated"


def preview(
    spec: str | Path | LoadedSpec,
    num_records: int = 10,
    *,
    seed: int | None = None,
    batch_size: int | None = None,
) -> RunResult:
    """Generate ``num_records`` rows in memory; nothing is written."""
    return run(spec, num_records=num_records, seed=seed, batch_size=batch_size, return_table=True, write=False)


def _import_batch_modules() -> None:
    """What a batch imports on first use (samplers, statistics, the batch writer)."""
    import numpy.random  # noqa: F401
    import pyarrow.compute
    import pyarrow.parquet  # noqa: F401

    from ddc.engine import processors  # noqa: F401


def _early_health_check(
    loaded: LoadedSpec, kinds: Mapping[str, ColumnKind] | None
) -> contextlib.AbstractContextManager[EarlyHealthCheck | None]:
    """The models' start-up probes, sent from now on, for a spec with model columns run by ddc's own
    kinds (with ``kinds`` given, the runtime probes when its checks start, if at all)."""
    from ddc.spec.columns import MODEL_COLUMN_TYPES

    if kinds is not None or not any(c.column_type in MODEL_COLUMN_TYPES for c in loaded.spec.columns):
        return contextlib.nullcontext()
    from ddc.engine.llm.early_check import early_health_check

    return early_health_check(loaded.spec)


def _warm_up_beside_the_seed() -> threading.Thread:
    """pyarrow imported (its pandas probe answered), the batch modules imported and the statistics'
    DuckDB connection opened while the main thread opens the seed: DuckDB reads a seed with the GIL
    released, so on a second core this work (about 0.25 s) costs little wall time. Joined before an
    event loop starts (no import inside it)."""

    def warm() -> None:
        from ddc.engine.process_tuning import skip_pandas_probe

        skip_pandas_probe()
        _import_batch_modules()
        from ddc.engine.sketches import open_connection

        open_connection()

    return in_background("ddc-warm-up", warm)


def run(
    spec: str | Path | LoadedSpec,
    *,
    num_records: int | None = None,
    output_dir: str | Path | None = None,
    fmt: str | None = None,
    seed: int | None = None,
    resume: bool = False,
    partition: tuple[int, int] | None = None,
    batch_size: int | None = None,
    return_table: bool = False,
    write: bool = True,
    progress: Progress | None = None,
    kinds: Mapping[str, ColumnKind] | None = None,
    use_cache: bool = True,
    adaptive_concurrency: bool = False,
) -> RunResult:
    """Run a spec locally. Returns the dataset directory and, with ``return_table``, the rows.

    ``progress`` is a ``RunObserver`` or a plain ``progress(done, total)`` callable, called when
    generation starts (``done``: the rows a resumed run had already written) and after each batch."""
    from ddc.compile.plan import plan_spec
    from ddc.spec.document import dataset_name_problem

    loaded = _load(spec)
    probe = plan_spec(loaded)
    n_total = num_records if num_records is not None else probe.num_records
    if n_total < 1:
        raise UsageError("the number of records must be at least 1")
    if n_total > MAX_RECORDS:  # row numbers are int64 and seeds derive from them; no local run gets near
        raise UsageError(f"the number of records must be at most {MAX_RECORDS:,} (got {n_total:,})")
    size = batch_size or probe.run.batch_size or default_batch_size(probe)
    if size < 1:
        raise UsageError("--batch-size must be at least 1")
    fmt = fmt or probe.run.format
    name = probe.spec.name or (loaded.source.path.stem.split(".")[0] if loaded.source.path else "dataset")
    if partition is not None:
        name = f"{name}-part{partition[0]}of{partition[1]}"
    if dataset_name_problem(name):  # validated for specs; a file stem or a partition suffix stays one component
        raise UsageError(f"dataset name {name!r} {dataset_name_problem(name)}")
    dataset_dir = Path(output_dir or probe.run.output_dir) / name if write else None
    # One run per dataset directory (ddc.engine.lock); SIGINT/SIGTERM stop it cleanly (ddc.engine.interrupts).
    from ddc.engine.interrupts import stop_on_signals
    from ddc.engine.lock import dataset_lock

    # The models' probes go out first, while the rest of start-up runs (ddc.engine.llm.early_check).
    with (
        _early_health_check(loaded, kinds) as early,
        stop_on_signals(dataset_dir) as guard,
        dataset_lock(dataset_dir) if dataset_dir else contextlib.nullcontext(),
    ):
        previous = check_target(dataset_dir, resume) if dataset_dir is not None else None
        with _discarded_on_failure(dataset_dir if previous is None else None):
            return _run_into(
                loaded, probe, dataset_dir, name, n_total, size, fmt, seed, previous, partition,
                return_table, progress, kinds, use_cache, adaptive_concurrency, guard, early,
            )  # fmt: skip


#: What a run writes before any of its batches is complete: nothing a later run could use.
_START_FILES = frozenset({"metadata.json", "builder_config.json"})


@contextlib.contextmanager
def _discarded_on_failure(dataset_dir: Path | None) -> Iterator[None]:
    """Around a fresh run into ``dataset_dir`` (None: a resumed run, or nothing written): on an error,
    not an interrupt (an interrupted run is resumed with the same spec), ``_discard_unfinished``."""
    try:
        yield
    except Exception:
        if dataset_dir is not None:
            _discard_unfinished(dataset_dir)
        raise


def _discard_unfinished(dataset_dir: Path) -> None:
    """After a fresh run failed: when it completed nothing a later run could use (only its start files,
    temporaries and empty folders; no batch, no errors file, no image), remove it all, so that the same
    command with the spec fixed starts afresh instead of meeting "already holds a dataset" (and a
    ``--resume`` refused because the spec changed). The lock then removes the directory it created."""
    import json

    from ddc.engine.lock import LOCK_NAME
    from ddc.engine.writer import BATCH_STATS_DIR, TMP_MARK

    removable: list[Path] = []
    folders: list[Path] = []

    def collect(directory: Path) -> bool:
        for entry in directory.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                if not collect(entry):
                    return False
                folders.append(entry)
            elif (
                TMP_MARK in entry.name
                or (directory == dataset_dir and entry.name in _START_FILES)
                or directory.name == BATCH_STATS_DIR  # a batch's tallies, written just before its batch file
            ):
                removable.append(entry)
            elif not (directory == dataset_dir and entry.name == LOCK_NAME):
                return False
        return True

    try:
        meta = json.loads((dataset_dir / "metadata.json").read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or meta.get("state") != "running" or not collect(dataset_dir):
            return
        for entry in removable:
            entry.unlink()
        for folder in folders:  # deepest first: collect appends a folder after its contents
            folder.rmdir()
    except (OSError, ValueError):
        return  # a directory that cannot be read or emptied stays as it is: the error above is the news


def _run_into(
    loaded: LoadedSpec,
    probe: Plan,
    dataset_dir: Path | None,
    name: str,
    n_total: int,
    size: int,
    fmt: str,
    seed: int | None,
    previous: dict[str, Any] | None,
    partition: tuple[int, int] | None,
    return_table: bool,
    progress: Progress | None,
    kinds: Mapping[str, ColumnKind] | None,
    use_cache: bool,
    adaptive_concurrency: bool,
    guard: SignalGuard,
    early: EarlyHealthCheck | None,
) -> RunResult:
    """``run`` once the dataset directory is locked, checked and signals are handled: ``previous`` is the
    metadata of the run resumed."""
    from ddc.compile.plan import plan_spec
    from ddc.engine.process_tuning import skip_pandas_probe

    if loaded.spec.seed_config is None:  # else beside the seed (_warm_up_beside_the_seed)
        skip_pandas_probe()  # only in the ddc executable's own process, after a Python spec had its imports

    random_seed, seed_source = _resolve_seed(probe, seed)
    if previous is not None:
        if seed is not None and seed != previous.get("random_seed"):
            raise RunError(
                f"cannot resume {dataset_dir} with --seed {seed}: "
                f"it was started with seed {previous.get('random_seed')}"
            )
        random_seed, seed_source = int(previous["random_seed"]), previous.get("random_seed_source", "resumed")
    from ddc.compile.canonical import fingerprint

    lo, hi = partition_rows(n_total, partition)
    meta = new_metadata(
        name, fingerprint(loaded.spec), random_seed, seed_source, n_total, (lo, hi), partition, size, fmt
    )
    if previous is not None:
        check_compatible(previous, meta, dataset_dir)

    observer = as_observer(progress)
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        observer.warning(message)

    warm_up = None
    if loaded.spec.seed_config is not None:
        observer.phase("seed")
        warm_up = _warm_up_beside_the_seed()
    reader, seed_inputs = _open_seed(loaded, random_seed, warn, stamp=dataset_dir is not None)
    try:
        if seed_inputs is not None:
            meta["seed_inputs"] = seed_inputs
            if previous is not None:
                from ddc.engine.seed_inputs import check_unchanged

                check_unchanged(previous, seed_inputs, cast(Path, dataset_dir))
        plan = plan_spec(loaded, seed_columns=reader.columns if reader else None)
        context = _context(plan, random_seed, n_total, size, warn)
        chosen = kinds if kinds is not None else column_kinds()
        event_loop = waits_on_io(plan, chosen)
        if event_loop:  # model-backed columns: nothing of the LLM stack is imported for the others
            from ddc.engine.llm.kinds import LLMOptions, configure_llm, import_llm_stack

            import_llm_stack(use_cache=use_cache)
            if warm_up is not None:
                warm_up.join()
            configure_llm(
                context,
                LLMOptions(
                    use_cache=use_cache,
                    artifacts_dir=dataset_dir,
                    adaptive_concurrency=adaptive_concurrency,
                    send_seed=seed_source != "generated",  # a chosen seed makes replies repeatable too
                    warm_up=None if warm_up is not None else _import_batch_modules,
                    early_check=early,
                ),
            )
        started = time.perf_counter()
        from ddc.engine.stats import StatisticsAccumulator

        statistics = StatisticsAccumulator(expected_rows=hi - lo)  # fed batch by batch: bounded memory
        coroutine = generate(
            plan, context, reader, dataset_dir, meta, lo, hi, size, return_table, statistics, observer, chosen
        )
        # under an event loop, a signal cancels the generation task (ddc.engine.interrupts)
        generated = drive(guard.cancellable(coroutine) if event_loop else coroutine, event_loop=event_loop)
    finally:
        if reader is not None:
            reader.close()
    tables, engine_timings, dropped_rows, extra_stats = generated
    if event_loop:
        from ddc.engine.llm.kinds import llm_usage

        if usage := llm_usage(context):
            meta["model_usage"] = usage
    elapsed = time.perf_counter() - started
    table = concat_tables(tables) if tables is not None else None
    run_result = finish_run(
        plan,
        loaded,
        dataset_dir,
        meta,
        table,
        fmt,
        elapsed,
        engine_timings,
        dropped_rows,
        extra_stats,
        warnings,
        return_table,
        observer,
        statistics,
    )
    if event_loop:
        from ddc.engine.llm.failures import EarlyShutdown
        from ddc.engine.llm.kinds import llm_stopped_early

        if reason := llm_stopped_early(context):  # after every artifact is written: the failures are listed
            raise EarlyShutdown(reason)
    return run_result
