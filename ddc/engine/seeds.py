"""Seed datasets on DuckDB, streamed in Arrow record batches and never pulled whole into Python.

Dataset row r takes seed position ``r mod S`` of pass ``p = r div S`` (S = rows in the selection):

* ``ordered``: the selection's rows in file order, cycling;
* ``shuffle``: a fresh seeded order each pass, reproducible on any thread count (DuckDB's
  ``random()`` is not). For a Parquet seed, position q of pass p is seed row ``perm_p(q)``, a keyed
  bijection (Feistel network with cycle walking) computed in numpy for just the positions needed;
  DuckDB fetches those rows by (file, row number) in one streaming scan per chunk of 262,144
  positions, so a 10-million-row seed is never sorted or held in memory. Other seeds (CSV, JSON, a
  query) are ordered by ``hash(row, random_seed, p)``; identical rows tie, and their order cannot
  change the output.

A query seed runs in a locked-down connection (``ddc.spec.seed_sql``) whose configuration, threads
included, cannot change once open. Reads that depend on the query's row order (``ordered``, the
in-memory head, a ``selection_strategy``) run on a single-thread connection, whose order is one fixed
order, unless DuckDB documents the query's order as thread-independent (``ddc.spec.seed_order``:
scans, filters, projections, ``UNION ALL``, ``LIMIT``); then, and for reads that do not depend on the
order (the count, the hash-ordered shuffle of a query whose rows are a fixed multiset: joins,
``GROUP BY`` with exact aggregates), a second locked connection with DuckDB's default thread count
runs them.

Selections of up to ``IN_MEMORY_ROWS`` rows (and ``IN_MEMORY_BYTES``) are read once, in their pass-0
order, and served from memory: ``ordered`` by position, ``shuffle`` by the same keyed permutation for
every format (for Parquet the same rows as the streamed path; CSV, JSON and query seeds this small
are permuted rather than hash-ordered). A small seed cycled over many records then costs no query per
pass.

So the seed rows of any row range are a pure function of (seed data, random_seed, range): batches,
``--resume`` and ``--partition`` shards all see the same rows as one uninterrupted run.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddc.engine.rng import permute
from ddc.errors import RunError
from ddc.spec.seed_order import Parallelism

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from ddc.spec.seeds import SeedConfig

_ROW_FILE = "__ddc_seed_file"
_ROW_NUMBER = "file_row_number"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _parquet_with_row_keys(path: str | Sequence[str]) -> str:
    """A Parquet reader that also yields (file name, row number in file): the shuffle's row key."""
    from ddc.spec.seed_files import sql_paths

    return (
        f"read_parquet({sql_paths(path)}, union_by_name = true, file_row_number = true, filename = {_quote(_ROW_FILE)})"
    )


@dataclass(frozen=True)
class _Relation:
    sql: str  # selects the seed rows (plus key columns when ``keys`` is set)
    keys: tuple[str, ...]  # columns identifying a row; () means hash the whole row
    parquet: str | Sequence[str] | None = None  # the Parquet file or glob (or files), when the seed is one
    query: bool = False  # a query seed: read in its single-thread order, counted only when needed


def _relation(
    con: duckdb.DuckDBPyConnection,
    config: SeedConfig,
    base_dir: Path,
    files: Sequence[str] | None = None,
    frame: Any = None,
) -> _Relation:
    """Register the seed's views (paths resolved by ``ddc.spec.seed_files``) and say how to key rows.

    ``files`` are the local copies of a remote seed (Hugging Face), read like a local glob over them."""
    from ddc.spec.seed_files import SeedFileError, reader_sql, seed_relation

    source = config.source
    if source.seed_type == "df":
        return _frame_relation(con, frame)
    if files is not None:
        try:
            keyed = all(f.lower().endswith(".parquet") for f in files)
            reader = _parquet_with_row_keys(files) if keyed else reader_sql(files)
        except SeedFileError as exc:
            raise RunError(f"seed data: {exc}") from exc
        con.execute(f"CREATE OR REPLACE TEMP VIEW ddc_seed AS SELECT * FROM {reader}").fetchall()
        return _Relation("SELECT * FROM ddc_seed", (_ROW_FILE, _ROW_NUMBER) if keyed else (), files if keyed else None)
    if source.seed_type in ("directory", "file_contents"):
        con.register("ddc_seed_files", directory_manifest(source, base_dir))
        return _Relation("SELECT * FROM ddc_seed_files", ())
    if source.seed_type not in ("local", "query"):
        raise RunError(
            f"seed data: ddc run reads local, query, hf, nmp, directory and file_contents seeds, not seed_type "
            f"{source.seed_type!r}",
            hint="download the data and use seed_type: local, or run the spec with `ddc submit`",
        )
    try:
        relation = seed_relation(source, base_dir)
        if source.seed_type == "query":  # its views are in the locked-down connection (``_query_connection``)
            return _Relation(relation.sql, (), query=True)
        paths = list(relation.tables.values())
        keyed = source.seed_type == "local" and paths[0].lower().endswith(".parquet")
        for name, path in relation.tables.items():
            reader = _parquet_with_row_keys(path) if keyed else reader_sql(path)
            con.execute(f"CREATE OR REPLACE TEMP VIEW {_ident(name)} AS SELECT * FROM {reader}").fetchall()
    except SeedFileError as exc:
        raise RunError(f"seed data: {exc}") from exc
    if keyed:
        return _Relation(relation.sql, (_ROW_FILE, _ROW_NUMBER), paths[0])
    if source.seed_type == "query":
        return _Relation(relation.sql, (), query=True)
    return _Relation(relation.sql, ())


def _query_connection(
    config: SeedConfig, base_dir: Path
) -> tuple[duckdb.DuckDBPyConnection, Parallelism, Callable[[], duckdb.DuckDBPyConnection]]:
    """A query seed's connection, locked down to its declared tables (``ddc.spec.seed_sql``) so the
    query can read nothing else, with one thread so its rows come in one fixed order (what ``ordered``
    seeds and cycling need); how much of the query may run on many threads; and an opener of a second
    connection, locked down the same way, with DuckDB's default thread count. ``threads`` is set when
    the connection opens, before ``lock_configuration``, and neither connection can change it after."""
    import duckdb

    from ddc.spec.seed_files import SeedFileError, open_seed, seed_relation
    from ddc.spec.seed_order import query_parallelism

    try:
        relation = seed_relation(config.source, base_dir)
        con = open_seed(relation, threads=1)
    except (SeedFileError, duckdb.Error) as exc:
        raise RunError(f"seed data: {exc}") from exc
    try:
        parallelism = query_parallelism(con, relation.sql, relation.tables)
    except duckdb.Error:
        parallelism = Parallelism.SERIAL

    def open_wide() -> duckdb.DuckDBPyConnection:
        try:
            return open_seed(relation, threads=QUERY_THREADS)
        except (SeedFileError, duckdb.Error) as exc:
            raise RunError(f"seed data: {exc}") from exc

    return con, parallelism, open_wide


def _frame_relation(con: duckdb.DuckDBPyConnection, frame: Any) -> _Relation:
    """In-memory rows from Python (``ddc.spec.memory_seed``), scanned in place: never written to a file."""
    from ddc.spec.memory_seed import scannable

    if frame is None:
        raise RunError("seed data: seed_type df needs the DataFrame", hint="pass it as seed_data= from Python")
    con.register("ddc_seed_frame", scannable(frame))
    return _Relation("SELECT * FROM ddc_seed_frame", ())


def connect() -> duckdb.DuckDBPyConnection:
    """The seed reader's DuckDB connection: the one place where it is opened and configured."""
    import duckdb

    # no progress bar: DuckDB prints one on stdout for queries over 2 s (a large query seed's count)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false").fetchall()
    return con


def directory_files(source: Any, base_dir: Path) -> tuple[Path, list[Path]]:
    """The directory of a ``directory``/``file_contents`` seed and its matching files, in path order."""
    import fnmatch

    root = Path(source.path).expanduser()
    if not root.is_absolute():
        root = base_dir / root
    if not root.is_dir():
        raise RunError(f"seed data: {source.path!r} is not a directory (looked for {root})")
    candidates = root.rglob("*") if source.recursive else root.glob("*")
    files = sorted(p for p in candidates if p.is_file() and fnmatch.fnmatch(p.name, source.file_pattern))
    if not files:
        raise RunError(f"seed data: no file matching {source.file_pattern!r} under {root}")
    return root, files


def directory_manifest(source: Any, base_dir: Path) -> pa.Table:
    """One row per file under a directory (the official columns), in path order.

    ``file_contents`` adds ``content``, the file decoded with the source's encoding."""
    import pyarrow as pa

    root, files = directory_files(source, base_dir)
    kind = "file_contents" if source.seed_type == "file_contents" else "directory_file"
    columns: dict[str, list[str]] = {
        "source_kind": [kind] * len(files),
        "source_path": [str(p) for p in files],
        "relative_path": [p.relative_to(root).as_posix() for p in files],
        "file_name": [p.name for p in files],
    }
    if kind == "file_contents":
        try:
            columns["content"] = [p.read_text(encoding=source.encoding) for p in files]
        except (UnicodeDecodeError, LookupError) as exc:
            raise RunError(f"seed data: cannot read a file under {root} as {source.encoding}: {exc}") from exc
    return pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})


class SeedReader:
    """One DuckDB connection over the seed; ``stream(start, end)`` yields the rows of a dataset range."""

    def __init__(
        self,
        config: SeedConfig,
        base_dir: Path,
        random_seed: int,
        *,
        chunk_rows: int = 8192,
        files: Sequence[str] | None = None,
        frame: Any = None,
    ) -> None:
        import duckdb

        self.config = config
        self.random_seed = random_seed
        self.chunk_rows = chunk_rows
        #: how much of a query seed may run on many threads (``ddc.spec.seed_order``)
        self.parallelism = Parallelism.SERIAL
        self._wide: duckdb.DuckDBPyConnection | None = None
        self._open_wide: Callable[[], duckdb.DuckDBPyConnection] | None = None
        if files is None and config.source.seed_type == "query":
            self.con, self.parallelism, self._open_wide = _query_connection(config, base_dir)
        else:
            self.con = connect()
        try:
            relation = _relation(self.con, config, base_dir, files, frame)
            described = self.con.execute(f"DESCRIBE {relation.sql}").fetchall()
        except duckdb.Error as exc:
            self.con.close()
            raise RunError(f"seed data: {_first_line(exc)}") from exc
        self.keys = relation.keys
        self.query = relation.query
        self.columns = tuple(str(r[0]) for r in described if str(r[0]) not in relation.keys)
        self.base_sql = relation.sql
        self._total: int | None = None
        self.head: pa.Table | None = None  # a large query seed's first rows, read while sizing it
        self.memory: pa.Table | None = None
        self.files: list[str] = []
        self.offsets: Any = None
        if self.query and config.selection_strategy is None:
            # a query seed is not counted up front (that would run the whole query): its first rows are
            # read (all of them when it is small), and the rest is streamed, counted only when cycling
            self.lo, self.size = 0, 0
            self._read_head()
            return
        try:
            self._total = self._count()
        except duckdb.Error as exc:
            self.con.close()
            raise RunError(f"seed data: {_first_line(exc)}") from exc
        self.lo, self.size = self._selection()
        if relation.parquet is not None:
            self._index_files(relation.parquet)
        self.memory = self._load_small() if self.size <= IN_MEMORY_ROWS else None

    @property
    def total(self) -> int:
        """Rows of the whole seed; a large query seed is counted on first use (DuckDB's parallel count)."""
        if self._total is None:
            import duckdb

            try:
                self._total = self._count()
            except duckdb.Error as exc:
                raise RunError(f"seed data: {_first_line(exc)}") from exc
            self._sized(self._total)
        return self._total

    @property
    def stamped_rows(self) -> int | None:
        """The row count for ``seed_inputs``: None for a large query seed, which is not counted up front
        (its files' hashes still tell a changed seed)."""
        return self._total if self.query and self.config.selection_strategy is None else self.total

    def _count(self) -> int:
        con = self._reader(in_order=False)
        return int(con.execute(f"SELECT count(*) FROM ({self.base_sql})").fetchall()[0][0])

    def _reader(self, *, in_order: bool) -> duckdb.DuckDBPyConnection:
        """The connection for a read whose result depends on the seed's row order (``in_order``) or not.

        A query seed's single-thread connection unless the query allows more (``ddc.spec.seed_order``):
        ``ORDERED`` for any read, ``UNORDERED`` for reads that do not depend on the order. Other seeds
        have one connection (file readers keep file order on any number of threads)."""
        if self._open_wide is None or self.parallelism is Parallelism.SERIAL:
            return self.con
        if in_order and self.parallelism is not Parallelism.ORDERED:
            return self.con
        if self._wide is None:
            self._wide = self._open_wide()
        return self._wide

    def _sized(self, total: int) -> None:
        if total == 0:
            raise RunError("seed data: the seed dataset has no rows")
        self._total = total
        self.lo, self.size = 0, total

    def _read_head(self) -> None:
        """The first IN_MEMORY_ROWS + 1 rows of a query seed, in its single-thread order: all of a small
        seed (then served from memory, as before), or the head of a large one (served from here)."""
        import duckdb
        import pyarrow as pa

        cols = ", ".join(_ident(c) for c in self.columns)
        sql = f"SELECT {cols} FROM ({self.base_sql}) LIMIT {IN_MEMORY_ROWS + 1}"
        batches, size, rows = [], 0, 0
        try:
            for batch in self._reader(in_order=True).sql(sql).to_arrow_reader(self.chunk_rows):
                size += batch.nbytes
                if size > IN_MEMORY_BYTES:
                    return
                batches.append(batch)
                rows += batch.num_rows
        except duckdb.Error as exc:
            self.close()
            raise RunError(f"seed data: {_first_line(exc)}") from exc
        schema = batches[0].schema if batches else None
        table = pa.Table.from_batches(batches, schema=schema).combine_chunks() if schema is not None else None
        if rows <= IN_MEMORY_ROWS:
            self._sized(rows)
            self.memory = table
        else:
            self.head = table

    def _load_small(self) -> pa.Table | None:
        """A small selection, read once in its pass-0 order (file order for Parquet, scan order else),
        or None when its bytes pass IN_MEMORY_BYTES (it then streams like a large one)."""
        import duckdb
        import pyarrow as pa

        cols = ", ".join(_ident(c) for c in self.columns)
        if self.keys and self.config.sampling_strategy == "shuffle":
            # a shuffled Parquet seed: row i = global row index lo + i (files by name, then row number)
            keys = ", ".join(_ident(k) for k in self.keys)
            sql = f"SELECT {cols} FROM ({self.base_sql}) ORDER BY {keys} LIMIT {self.size} OFFSET {self.lo}"
        else:
            sql = self._pass_sql(0, 0, self.size, ordered=True)
        batches, size = [], 0
        try:
            for batch in self._reader(in_order=True).sql(sql).to_arrow_reader(self.chunk_rows):
                size += batch.nbytes
                if size > IN_MEMORY_BYTES:
                    return None
                batches.append(batch)
        except duckdb.Error as exc:
            raise RunError(f"seed data: {_first_line(exc)}") from exc
        schema = batches[0].schema if batches else None
        table = pa.Table.from_batches(batches, schema=schema) if schema is not None else None
        return table.combine_chunks() if table is not None else None

    def _index_files(self, pattern: str | Sequence[str]) -> None:
        """Global row index = row offset of its file + row number in the file (files in name order)."""
        import numpy as np

        from ddc.spec.seed_files import sql_paths

        rows = self.con.execute(
            f"SELECT file_name, num_rows FROM parquet_file_metadata({sql_paths(pattern)}) ORDER BY file_name"
        ).fetchall()
        self.files = [str(r[0]) for r in rows]
        self.offsets = np.concatenate([[0], np.cumsum([int(r[1]) for r in rows])]).astype(np.int64)

    def _selection(self) -> tuple[int, int]:
        from ddc.spec.seeds import IndexRange, PartitionBlock

        selection = self.config.selection_strategy
        total = self.total
        if total == 0:
            raise RunError("seed data: the seed dataset has no rows")
        if isinstance(selection, IndexRange):
            if selection.end >= total:
                raise RunError(f"seed data: selection_strategy end {selection.end} is past the last row ({total - 1})")
            return selection.start, selection.end - selection.start + 1
        if isinstance(selection, PartitionBlock):
            if selection.num_partitions > total:
                raise RunError(
                    f"seed data: {selection.num_partitions} partitions of a {total}-row seed leave some empty"
                )
            per = total // selection.num_partitions
            lo = selection.index * per
            hi = total if selection.index == selection.num_partitions - 1 else lo + per
            return lo, hi - lo
        return 0, total

    def _pass_sql(self, pass_index: int, offset: int, limit: int, *, ordered: bool = False) -> str:
        cols = ", ".join(_ident(c) for c in self.columns)
        selected = self.base_sql
        if (self.lo, self.size) != (0, self.total):
            selected = f"SELECT * FROM ({self.base_sql}) LIMIT {self.size} OFFSET {self.lo}"
        if ordered or self.config.sampling_strategy == "ordered":
            return f"SELECT {cols} FROM ({selected}) LIMIT {limit} OFFSET {offset}"
        seed = self.random_seed % (2**63)
        if self.keys:
            keys = ", ".join(_ident(k) for k in self.keys)
            order = f"hash({keys}, {seed}, {pass_index}), {keys}"
        else:
            order = f"hash(ddc_row, {seed}, {pass_index})"
        return f"SELECT {cols} FROM ({selected}) AS ddc_row ORDER BY {order} LIMIT {limit} OFFSET {offset}"

    def stream(self, start: int, end: int) -> Iterator[pa.RecordBatch]:
        """Record batches holding the seed rows of dataset rows [start, end), in order."""
        import duckdb

        if self.memory is not None:
            yield from self._stream_memory(start, end)
            return
        if self._total is None and self.config.sampling_strategy == "ordered":
            start = yield from self._stream_query_head(start, end)
            if start >= end:
                return
        if self._total is None:
            _ = self.total  # a shuffled or cycled query seed: counted now
        row = start
        while row < end:
            pass_index, offset = divmod(row, self.size)
            limit = min(self.size, end - pass_index * self.size) - offset
            try:
                if self.offsets is not None and self.config.sampling_strategy == "shuffle":
                    yield from self._shuffled_parquet(pass_index, offset, limit)
                else:
                    # a shuffle orders by a hash of each row's values: it depends on the rows, not on their
                    # order, unless a selection (LIMIT/OFFSET over the query) picks them by position
                    in_order = self.config.sampling_strategy == "ordered" or (self.lo, self.size) != (0, self.total)
                    sql = self._pass_sql(pass_index, offset, limit)
                    yield from self._reader(in_order=in_order).sql(sql).to_arrow_reader(self.chunk_rows)
            except duckdb.Error as exc:
                raise RunError(f"seed data: {_first_line(exc)}") from exc
            row += limit

    def _stream_query_head(self, start: int, end: int) -> Generator[pa.RecordBatch, None, int]:
        """Rows of pass 0 of a large, ordered, not yet counted query seed: from the head read at start-up,
        then by one streaming single-thread query with LIMIT/OFFSET, so 100,000 rows of a 10M-row join
        cost what the pushed-down query costs. Returns the first row not served (the seed's end)."""
        import duckdb

        if self.head is not None and start < self.head.num_rows:
            stop = min(end, self.head.num_rows)
            yield from self.head.slice(start, stop - start).to_batches(self.chunk_rows)
            start = stop
        if start >= end:
            return start
        cols = ", ".join(_ident(c) for c in self.columns)
        sql = f"SELECT {cols} FROM ({self.base_sql}) LIMIT {end - start} OFFSET {start}"
        served = 0
        try:
            for batch in self._reader(in_order=True).sql(sql).to_arrow_reader(self.chunk_rows):
                served += batch.num_rows
                yield batch
        except duckdb.Error as exc:
            raise RunError(f"seed data: {_first_line(exc)}") from exc
        if served < end - start and (served or start == 0):
            self._sized(start + served)  # the query ended inside this range
        return start + served

    def _stream_memory(self, start: int, end: int) -> Iterator[pa.RecordBatch]:
        """Rows of a small seed by position: ``ordered`` cycles, ``shuffle`` permutes each pass with the
        keyed permutation a streamed Parquet seed uses, so a Parquet seed gives the same rows either way."""
        import numpy as np
        import pyarrow as pa

        assert self.memory is not None
        shuffle = self.config.sampling_strategy == "shuffle"
        for first in range(start, end, SHUFFLE_CHUNK):
            rows = np.arange(first, min(first + SHUFFLE_CHUNK, end), dtype=np.int64)
            passes, positions = np.divmod(rows, self.size)
            if shuffle:
                for pass_index in np.unique(passes).tolist():
                    chosen = passes == pass_index
                    keys = _permutation_keys(self.random_seed, pass_index)
                    positions[chosen] = permute(positions[chosen], self.size, keys).astype(np.int64)
            yield from self.memory.take(pa.array(positions)).to_batches(self.chunk_rows)

    def _shuffled_parquet(self, pass_index: int, offset: int, limit: int) -> Iterator[pa.RecordBatch]:
        """Shuffle positions map to seed rows by a keyed permutation, computed in numpy; DuckDB then
        fetches those rows in one streaming scan per chunk (a hash join on the row key)."""
        import numpy as np
        import pyarrow as pa

        keys = _permutation_keys(self.random_seed, pass_index)
        cols = ", ".join(f"s.{_ident(c)}" for c in self.columns)
        for first in range(offset, offset + limit, SHUFFLE_CHUNK):
            count = min(SHUFFLE_CHUNK, offset + limit - first)
            positions = np.arange(first, first + count, dtype=np.uint64)
            rows = self.lo + permute(positions, self.size, keys).astype(np.int64)
            file_index = np.searchsorted(self.offsets, rows, side="right") - 1
            wanted = pa.table(
                {
                    "f": pa.array(self.files, pa.string()).take(pa.array(file_index)),
                    "r": pa.array(rows - self.offsets[file_index], pa.int64()),
                    "q": pa.array(np.arange(count, dtype=np.int64)),
                }
            )
            self.con.register("ddc_wanted", wanted)
            try:
                join = f"s.{_ident(_ROW_NUMBER)} = k.r"
                if len(self.files) > 1:
                    join += f" AND s.{_ident(_ROW_FILE)} = k.f"
                sql = f"SELECT {cols} FROM ({self.base_sql}) AS s JOIN ddc_wanted AS k ON {join} ORDER BY k.q"
                yield from self.con.sql(sql).to_arrow_reader(self.chunk_rows)
            finally:
                self.con.unregister("ddc_wanted")

    def close(self) -> None:
        self.con.close()
        if self._wide is not None:
            self._wide.close()


SHUFFLE_CHUNK = 262_144
#: threads of a query seed's parallel connection; None is DuckDB's default (the machine's cores)
QUERY_THREADS: int | None = None
#: Selections up to this many rows (and IN_MEMORY_BYTES) are read once and served from memory: a
#: 3-row seed cycled over 60,000 records was 20,000 DuckDB queries (150 s) and is now 0.1 s.
IN_MEMORY_ROWS = 100_000
IN_MEMORY_BYTES = 256 << 20


def _permutation_keys(random_seed: int, pass_index: int) -> list[int]:
    import numpy as np

    sequence = np.random.SeedSequence(random_seed, spawn_key=(0x5EED, pass_index))
    return [int(k) for k in sequence.generate_state(4, np.uint64)]


class SeedStream:
    """Cuts a record batch stream into tables of exactly the requested sizes."""

    def __init__(self, batches: Iterator[pa.RecordBatch], schema_columns: tuple[str, ...]) -> None:
        self.batches = batches
        self.pending: list[Any] = []
        self.pending_rows = 0
        self.columns = schema_columns

    def take(self, n: int) -> pa.Table:
        import pyarrow as pa

        while self.pending_rows < n:
            try:
                batch = next(self.batches)
            except StopIteration:
                raise RunError(f"seed data: expected {n - self.pending_rows} more rows") from None
            if batch.num_rows:
                self.pending.append(batch)
                self.pending_rows += batch.num_rows
        table = pa.Table.from_batches(self.pending)
        head, tail = table.slice(0, n), table.slice(n)
        self.pending = tail.to_batches() if tail.num_rows else []
        self.pending_rows = tail.num_rows
        return head.combine_chunks()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
