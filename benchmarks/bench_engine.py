"""Engine benchmarks: speed and memory of `ddc run`, with a plain numpy + DuckDB baseline.

    PYTHONPATH=. python benchmarks/bench_engine.py            # all
    PYTHONPATH=. python benchmarks/bench_engine.py a c        # some

(a) a 13-column sampler + expression + constraint spec, 20,000 records (side by side with the official
    `data-designer create` when it is installed);
(b) the same spec, 1,000,000 records: time and peak RSS (targets: < 20 s, < 1 GiB);
(c) a 10,000,000-row Parquet seed, shuffled, 100,000 records: time to first batch and peak RSS
    (targets: < 1 s, < 600 MiB);
(d) a plain numpy + DuckDB script producing the same columns for 1,000,000 and 10,000,000 rows: the
    CPU of the whole `ddc run` process as a multiple of the script's whole process (bar: <= 1.8x);
(e) a query seed joining a 10,000,000-row Parquet with a 1,000,000-row one, 100,000 ordered records,
    against the same query with the LIMIT written in, in DuckDB: whole processes (bar: <= 2x its time
    and peak RSS). Paired runs, ratios of the medians; the machine may be shared;
(f) query seeds that DuckDB runs on many threads (``ddc.spec.seed_order``): the 10M JOIN 1M query
    shuffled (100,000 records: time to first batch); a 200,000-row filtered join and a 200,000-row
    filter of the 10M table, each cycled over 300,000 ordered records (so counted).

DDC_BENCH_REPO=<checkout> measures another checkout's ddc with this script (before/after pairs).

Every measurement runs in a fresh subprocess so that peak RSS belongs to that measurement alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(os.environ.get("DDC_BENCH_REPO") or Path(__file__).resolve().parents[1]).resolve()

SPEC = """
name: bench13
random_seed: 2024
columns:
  - {name: region, column_type: sampler, sampler_type: category,
     params: {values: [EU, US, ASIA], weights: [3, 5, 2]}}
  - {name: country, column_type: sampler, sampler_type: subcategory,
     params: {category: region, values: {EU: [FR, DE, IT], US: [US], ASIA: [JP, IN, SG]}}}
  - {name: age, column_type: sampler, sampler_type: uniform, params: {low: 18, high: 90}, convert_to: int}
  - {name: income, column_type: sampler, sampler_type: gaussian,
     params: {mean: 50000, stddev: 15000, decimal_places: 2}}
  - {name: budget, column_type: sampler, sampler_type: uniform, params: {low: 30000, high: 120000, decimal_places: 2}}
  - {name: visits, column_type: sampler, sampler_type: poisson, params: {mean: 3}}
  - {name: is_member, column_type: sampler, sampler_type: bernoulli, params: {p: 0.3}}
  - {name: signup, column_type: sampler, sampler_type: datetime, params: {start: '2020-01-01', end: '2025-01-01'}}
  - {name: id, column_type: sampler, sampler_type: uuid, params: {prefix: 'C-', short_form: true}}
  - {name: greeting, column_type: expression, expr: "{{ region|lower }}-{{ country }}"}
  - {name: age_group, column_type: expression,
     expr: "{% if age >= 65 %}senior{% elif age >= 30 %}adult{% else %}young{% endif %}"}
  - {name: headroom, column_type: expression, expr: "{{ budget - income }}", dtype: float}
  - {name: label, column_type: expression, expr: "{{ id }}:{{ visits + 1 }}"}
constraints:
  - {target_column: income, constraint_type: scalar_inequality, operator: gt, rhs: 20000}
  - {target_column: income, constraint_type: column_inequality, operator: lt, rhs: budget}
"""

SEED_SPEC = """
name: seeded
random_seed: 7
seed_config:
  source: {seed_type: local, path: big.parquet}
  sampling_strategy: shuffle
columns:
  - {name: tag, column_type: sampler, sampler_type: category, params: {values: [a, b, c]}}
  - {name: line, column_type: expression, expr: "{{ name }}/{{ tag }}"}
"""

# Runs inside the measured subprocess: prints one JSON line.
_RUN_DDC = """
import json, resource, sys, time
started = time.perf_counter()
def _cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
from ddc.engine import run
first = []
t0 = time.perf_counter()
def progress(done, total):
    if done and not first:  # the first call, at done 0, marks the start of generation
        first.append(time.perf_counter() - t0)
result = run(sys.argv[1], num_records=int(sys.argv[2]), output_dir=sys.argv[3], batch_size=int(sys.argv[4]) or None,
             progress=progress)
elapsed = time.perf_counter() - t0
print(json.dumps({"seconds": elapsed, "with_imports": time.perf_counter() - started, "first_batch": first[0],
                  "rows": result.metadata["actual_num_records"], "cpu": _cpu(),
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

# The hand-written limit: what a careful numpy + DuckDB script does for the same columns (dictionary codes
# for categories, hex digits by table lookup, expressions in one DuckDB query, the same Parquet settings).
_BASELINE = """
import json, resource, sys, time
import duckdb, numpy as np, pyarrow as pa, pyarrow.parquet as pq
n, out = int(sys.argv[1]), sys.argv[2]
t0 = time.perf_counter()
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu0 = usage.ru_utime + usage.ru_stime
g = np.random.default_rng(2024)


def strings(width, data):  # fixed-width ASCII rows (an (n, width) uint8 array) as Arrow strings, no copy
    offsets = np.arange(0, (len(data) + 1) * width, width, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), len(data), [None, pa.py_buffer(offsets), pa.py_buffer(data)])


region_codes = np.searchsorted(np.cumsum([0.3, 0.5, 0.2]), g.random(n), side="right").astype(np.int8)
region = pa.DictionaryArray.from_arrays(region_codes, ["EU", "US", "ASIA"])
options = [["FR", "DE", "IT"], ["US"], ["JP", "IN", "SG"]]
first = np.array([0, 3, 4])
sizes = np.array([3, 1, 3])
country_codes = (first[region_codes] + (g.random(n) * sizes[region_codes]).astype(np.int64)).astype(np.int8)
country = pa.DictionaryArray.from_arrays(country_codes, sum(options, []))
age = np.round(g.uniform(18, 90, n)).astype(np.int64)
budget = np.round(g.uniform(30000, 120000, n), 2)
income = np.round(g.normal(50000, 15000, n), 2)
bad = np.flatnonzero((income <= 20000) | (income >= budget))
while len(bad):
    income[bad] = np.round(g.normal(50000, 15000, len(bad)), 2)
    bad = bad[(income[bad] <= 20000) | (income[bad] >= budget[bad])]
visits = g.poisson(3, n)
is_member = (g.random(n) < 0.3).astype(np.int64)
start, end = np.datetime64("2020-01-01", "D").astype(np.int64), np.datetime64("2025-01-01", "D").astype(np.int64)
signup = g.integers(start, end, n).astype("datetime64[D]")
hex_digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
raw = g.integers(0, 2**32, n, dtype=np.uint64)
id_bytes = np.empty((n, 10), dtype=np.uint8)
id_bytes[:, 0], id_bytes[:, 1] = ord("C"), ord("-")
id_bytes[:, 2:] = hex_digits[(raw[:, None] >> np.arange(28, -1, -4, dtype=np.uint64)) & np.uint64(15)]
table = pa.table({"region": region, "country": country, "age": age, "income": income, "budget": budget,
                  "visits": visits, "is_member": is_member, "signup": pa.array(signup),
                  "id": strings(10, id_bytes)})
con = duckdb.connect()
con.register("t", table)
result = con.sql(
    "SELECT region::VARCHAR AS region, country::VARCHAR AS country, age, income, budget, visits, is_member, "
    "strftime(signup, '%Y-%m-%dT%H:%M:%S') AS signup, id, "
    "lower(region) || '-' || country AS greeting, "
    "CASE WHEN age >= 65 THEN 'senior' WHEN age >= 30 THEN 'adult' ELSE 'young' END AS age_group, "
    "budget - income AS headroom, id || ':' || CAST(visits + 1 AS VARCHAR) AS label FROM t"
).to_arrow_table()
pq.write_table(result, out, compression="zstd", use_dictionary=False)
elapsed = time.perf_counter() - t0
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": elapsed, "rows": result.num_rows, "cpu": usage.ru_utime + usage.ru_stime - cpu0,
                  "rss_mib": usage.ru_maxrss / 1024}))
"""


def _python(code: str, *args: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


# Measures one whole child process from a fresh parent, so that the children's peak RSS is that child's.
_MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": time.perf_counter() - started, "cpu": usage.ru_utime + usage.ru_stime,
                  "rss_mib": usage.ru_maxrss / 1024}))
"""


def _whole_process(*argv: str) -> dict[str, float]:
    """Wall time, CPU (user + system, all threads) and peak RSS of one whole process, start-up included.
    Bytecode caches are allowed, as an installed package has them."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    done = subprocess.run([sys.executable, "-c", _MEASURE, *argv], env=env, capture_output=True, text=True,
                          check=False)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ddc_cli(spec: Path, n: int, out: Path, batch_size: int = 0) -> dict[str, float]:
    """`ddc run` as a user runs it: the whole executable's process."""
    shutil.rmtree(out, ignore_errors=True)
    batch = ["--batch-size", str(batch_size)] if batch_size else []
    return _whole_process(sys.executable, "-m", "ddc", "run", str(spec), "-n", str(n), "-o", str(out), "-q", *batch)


def _ddc(spec: Path, n: int, out: Path, batch_size: int) -> dict[str, float]:
    shutil.rmtree(out, ignore_errors=True)
    return _python(_RUN_DDC, str(spec), str(n), str(out), str(batch_size))


def _ddc_process(spec: Path, n: int, out: Path) -> float:
    """Wall time of a whole `ddc run` process, as `data-designer create` is timed. Bytecode caches are
    allowed (an installed package has them; the official one does too)."""
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ddc", "run", str(spec), "-n", str(n), "-o", str(out)],
                   env=env, capture_output=True, check=True)  # fmt: skip
    return time.perf_counter() - started


def bench_a(work: Path) -> None:
    spec = work / "bench13.yaml"
    runs = [_ddc(spec, 20_000, work / "out-a", 0) for _ in range(3)]
    figures = min(runs, key=lambda f: f["with_imports"])
    whole = min(_ddc_process(spec, 20_000, work / "out-a") for _ in range(5))
    print(
        f"(a) 13 columns x 20,000 records (default batching): whole process {whole:.3f} s (best of 5); "
        f"{figures['with_imports']:.2f} s from the first import, {figures['seconds']:.2f} s in run() "
        f"({figures['rows'] / figures['seconds']:,.0f} rows/s), peak RSS {figures['rss_mib']:.0f} MiB"
    )
    official = shutil.which("data-designer")
    if official is None:
        print("    official engine not installed (data-designer create): no side-by-side ratio")
        print(f"    against the issue's reference figure (118 s, 170 rows/s): {118 / whole:,.0f}x as a whole process")
        return
    seconds = _official_create(official, spec, work)
    print(
        f"    official data-designer create, same spec: {seconds:.1f} s "
        f"({20_000 / seconds:,.0f} rows/s) -> ddc is {seconds / whole:,.0f}x faster, process to process  "
        f"[target >= 100x: {'OK' if seconds / whole >= 100 else 'MISSED'}]"
    )


def _official_create(executable: str, spec: Path, work: Path) -> float:
    """Time `data-designer create` on the official config compiled from the spec (whole process)."""
    import time

    from ddc.compile.canonical import dd_config
    from ddc.spec.load import load_spec

    config = work / "bench13.official.json"
    config.write_text(json.dumps({"data_designer": dd_config(load_spec(spec).spec)}))
    out = work / "out-official"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(
        [executable, "create", str(config), "-n", "20000", "-o", str(out), "-d", "bench13"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def bench_b(work: Path) -> dict[str, float]:
    spec = work / "bench13.yaml"
    results = {}
    for batch in (1000, 100_000):
        figures = _ddc(spec, 1_000_000, work / "out-b", batch)
        results[batch] = figures
        verdict = "OK" if figures["seconds"] < 20 and figures["rss_mib"] < 1024 else "MISSED"
        print(
            f"(b) 13 columns x 1,000,000 records, batch {batch:,}: {figures['seconds']:.2f} s, "
            f"peak RSS {figures['rss_mib']:.0f} MiB  [target < 20 s, < 1 GiB: {verdict}]"
        )
    return results[100_000]


def bench_c(work: Path) -> None:
    _big_parquet(work)
    spec = work / "seeded.yaml"
    figures = _ddc(spec, 100_000, work / "out-c", 1000)
    verdict = "OK" if figures["first_batch"] < 1 and figures["rss_mib"] < 600 else "MISSED"
    print(
        f"(c) 10M-row parquet seed, shuffle, 100,000 records: first batch {figures['first_batch']:.2f} s, "
        f"total {figures['seconds']:.2f} s, peak RSS {figures['rss_mib']:.0f} MiB  "
        f"[target < 1 s, < 600 MiB: {verdict}]"
    )


def bench_d(work: Path, pairs: int = 3) -> None:
    """CPU seconds (user + system, every thread) of the whole `ddc run` process against the whole process
    of the hand-written script, at 1M and 10M rows: both pay their interpreter and imports. (Until
    2026-12-05 the script's figure left its imports out while ddc's kept them.) Paired runs, medians."""
    import statistics

    for n in (1_000_000, 10_000_000):
        rounds = pairs if n == 1_000_000 else 1
        bases, ddcs = [], []
        for _ in range(rounds):
            bases.append(_whole_process(sys.executable, "-c", _BASELINE, str(n), str(work / "baseline.parquet")))
            ddcs.append(_ddc_cli(work / "bench13.yaml", n, work / "out-d", 100_000))
        base = {k: statistics.median(b[k] for b in bases) for k in ("seconds", "cpu", "rss_mib")}
        ddc = {k: statistics.median(d[k] for d in ddcs) for k in ("seconds", "cpu", "rss_mib")}
        ratio = ddc["cpu"] / base["cpu"]
        verdict = "OK" if ratio <= 1.8 else "MISSED"
        print(
            f"(d) plain numpy + DuckDB, same 13 columns x {n:,} (whole processes, median of {rounds}): "
            f"{base['seconds']:.2f} s, CPU {base['cpu']:.2f} s, peak RSS {base['rss_mib']:.0f} MiB; "
            f"ddc run (batch 100,000) {ddc['seconds']:.2f} s, CPU {ddc['cpu']:.2f} s, peak RSS "
            f"{ddc['rss_mib']:.0f} MiB = {ratio:.2f}x the CPU  [bar <= 1.8x: {verdict}]"
        )
        shutil.rmtree(work / "out-d", ignore_errors=True)


QUERY_SPEC = """
name: joined
random_seed: 7
seed_config:
  source:
    seed_type: query
    tables: {big: big.parquet, small: small.parquet}
    query: "SELECT big.id, big.name, big.value, small.label FROM big JOIN small ON big.id % 1000000 = small.k"
columns:
  - {name: label, column_type: seed-dataset}
"""

_PUSHED_DOWN = """
import json, resource, sys, time
t0 = time.perf_counter()
import duckdb, pyarrow.parquet as pq
con = duckdb.connect()
table = con.sql(
    f"SELECT big.id, big.name, big.value, small.label FROM read_parquet('{sys.argv[1]}/big.parquet') big "
    f"JOIN read_parquet('{sys.argv[1]}/small.parquet') small ON big.id % 1000000 = small.k LIMIT 100000"
).to_arrow_table()
pq.write_table(table, sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - t0, "rows": table.num_rows,
                  "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _big_parquet(work: Path) -> None:
    big = work / "big.parquet"
    if not big.exists():
        _python(
            textwrap.dedent("""
            import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
            n = 10_000_000
            g = np.random.default_rng(0)
            ids = np.arange(n)
            table = pa.table({"id": ids, "name": pa.array(np.char.add("name-", (ids % 100_003).astype(str))),
                              "value": g.random(n), "group": pa.array((ids % 97).astype(np.int32))})
            pq.write_table(table, sys.argv[1], row_group_size=1_000_000)
            print("{}")
        """),
            str(big),
        )
    small = work / "small.parquet"
    if not small.exists():
        _python(
            textwrap.dedent("""
            import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
            k = np.arange(1_000_000)
            pq.write_table(pa.table({"k": k, "label": pa.array(np.char.add("L", (k % 1009).astype(str)))}),
                           sys.argv[1])
            print("{}")
        """),
            str(small),
        )


def bench_e(work: Path, pairs: int = 5) -> None:
    """Whole processes on both sides: `ddc run` and `python` running the pushed-down query (interpreter
    and imports included in both). Paired runs, ratios of the medians."""
    import statistics

    _big_parquet(work)
    spec = work / "joined.yaml"
    spec.write_text(QUERY_SPEC)
    ddc_runs, hand_runs = [], []
    for _ in range(pairs):
        ddc_runs.append(_ddc_cli(spec, 100_000, work / "out-e"))
        hand_runs.append(_whole_process(sys.executable, "-c", _PUSHED_DOWN, str(work), str(work / "pushed.parquet")))
    ddc_s = statistics.median(r["seconds"] for r in ddc_runs)
    ddc_m = statistics.median(r["rss_mib"] for r in ddc_runs)
    hand_s = statistics.median(r["seconds"] for r in hand_runs)
    hand_m = statistics.median(r["rss_mib"] for r in hand_runs)
    verdict = "OK" if ddc_s <= 2 * hand_s and ddc_m <= 2 * hand_m else "MISSED"
    print(
        f"(e) query seed 10M JOIN 1M, 100,000 ordered records (whole processes, median of {pairs} pairs): "
        f"ddc run {ddc_s:.2f} s, {ddc_m:.0f} MiB; the query with LIMIT 100000 written in {hand_s:.2f} s, "
        f"{hand_m:.0f} MiB -> {ddc_s / hand_s:.2f}x time, {ddc_m / hand_m:.2f}x memory  [bar <= 2x: {verdict}]"
    )


QUERY_SEED_SPEC = """
name: {name}
random_seed: 7
seed_config:
  source:
    seed_type: query
    tables: {{big: big.parquet, small: small.parquet}}
    query: "{query}"
  sampling_strategy: {strategy}
columns:
  - {{name: mark, column_type: expression, expr: "x"}}
"""

_JOIN = "SELECT big.id, big.name, big.value, small.label FROM big JOIN small ON big.id % 1000000 = small.k"
QUERY_SEEDS = [
    ("shuffled join (10M rows), 100,000 records", _JOIN, "shuffle", 100_000),
    ("filtered join (200k rows) cycled, 300,000 ordered", _JOIN + " WHERE big.id % 50 = 0", "ordered", 300_000),
    (
        "filter (200k rows) cycled, 300,000 ordered",
        "SELECT id, name, value FROM big WHERE id % 50 = 0",
        "ordered",
        300_000,
    ),
]


def bench_f(work: Path) -> None:
    _big_parquet(work)
    for index, (what, query, strategy, n) in enumerate(QUERY_SEEDS):
        spec = work / f"query-{index}.yaml"
        spec.write_text(QUERY_SEED_SPEC.format(name=f"query{index}", query=query, strategy=strategy))
        figures = _ddc(spec, n, work / "out-f", 0)
        print(
            f"(f) query seed, {what}: first batch {figures['first_batch']:.2f} s, total {figures['seconds']:.2f} s, "
            f"CPU {figures['cpu']:.2f} s, peak RSS {figures['rss_mib']:.0f} MiB"
        )


def main(argv: list[str]) -> None:
    wanted = set(argv) or {"a", "b", "c", "d", "e", "f"}
    work = Path(os.environ.get("DDC_BENCH_DIR") or tempfile.mkdtemp(prefix="ddc-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "bench13.yaml").write_text(SPEC)
    (work / "seeded.yaml").write_text(SEED_SPEC)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, work dir {work}")
    if "a" in wanted:
        bench_a(work)
    if "b" in wanted:
        bench_b(work)
    if "c" in wanted:
        bench_c(work)
    if "d" in wanted:
        bench_d(work)
    if "e" in wanted:
        bench_e(work)
    if "f" in wanted:
        bench_f(work)
    if not os.environ.get("DDC_BENCH_DIR"):
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
