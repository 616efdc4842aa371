"""Dependent LLM columns and connection behaviour at high concurrency, side by side with the official engine.

    PYTHONPATH=. python benchmarks/bench_llm_chain.py                 # chain + retries
    PYTHONPATH=. python benchmarks/bench_llm_chain.py chain --pairs 3 # paired runs, ddc then official
    PYTHONPATH=. python benchmarks/bench_llm_chain.py retries

chain: three dependent ``llm-text`` columns (each prompt reads the previous column) over 400 records,
``max_parallel_requests: 64``, server latency 0.2 s. Bar: ddc's whole process <= the official engine's in
the same run. Each pair runs ddc and ``data-designer create`` (when on PATH) one after the other against
fresh servers; the server counts requests, the mean number in flight (requests x latency / span) and the
TCP connections it accepted. The machine is shared: compare the ratios of pairs, not absolute seconds.

retries: one ``llm-text`` column, 1,000 cells at 16 / 64 / 256 in flight against the asyncio test server
(listen backlog 1024); retries and connections per 1,000 cells from metadata.json and the server.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_llm import run_ddc, run_official, start_server

CHAIN = """
random_seed: 1
num_records: {records}
providers:
  - name: local
    endpoint: {base_url}
model_configs:
  - alias: text
    model: mock-model
    provider: local
    inference_parameters: {{max_parallel_requests: {parallel}, timeout: 30, temperature: 0.7}}
columns:
  - name: topic
    column_type: sampler
    sampler_type: category
    params: {{values: [cats, dogs, birds, fish]}}
  - name: idea
    column_type: llm-text
    model_alias: text
    prompt: "Give one idea about {{{{ topic }}}}"
  - name: draft
    column_type: llm-text
    model_alias: text
    prompt: "Expand: {{{{ idea }}}}"
  - name: title
    column_type: llm-text
    model_alias: text
    prompt: "Title for: {{{{ draft }}}}"
"""

SINGLE = CHAIN.split("  - name: draft")[0]


def _server_figures(stats_file: Path, latency: float) -> dict[str, float]:
    stats = json.loads(stats_file.read_text())
    count = stats["chat_requests"]
    span = (stats["last"] - stats["first"]) + latency if count else float("inf")
    return {
        "requests": count,
        "rate": count / span,
        "mean_in_flight": count * latency / span,
        "max_in_flight": stats.get("max_in_flight", 0),
        "connections": stats.get("connections", 0),
    }


def one(engine: str, template: str, records: int, parallel: int, latency: float, tmp: Path, official: str | None
        ) -> tuple[float, dict[str, float], dict]:  # fmt: skip
    stats = tmp / f"stats-{engine}.json"
    server, base_url = start_server(latency, stats_file=stats)
    try:
        spec = tmp / f"{engine}.yaml"
        spec.write_text(template.format(records=records, base_url=base_url, parallel=parallel))
        if engine == "ddc":
            wall, meta, _, _ = run_ddc(spec, tmp)
        else:
            assert official is not None
            wall, meta = run_official(official, spec, base_url, records, tmp), {}
    finally:
        server.terminate()
        server.wait()
    return wall, _server_figures(stats, latency), meta


def scenario_chain(args: argparse.Namespace, tmp: Path) -> None:
    official = shutil.which("data-designer")
    engines = ["ddc", "official"] if official else ["ddc"]
    print(f"[chain] 3 dependent llm-text columns x {args.records} records, {args.parallel} in flight, "
          f"{args.latency * 1000:.0f} ms latency; bound {args.parallel / args.latency:.0f} req/s")  # fmt: skip
    ratios = []
    for pair in range(args.pairs):
        walls = {}
        for engine in engines:
            wall, figures, _ = one(engine, CHAIN, args.records, args.parallel, args.latency, tmp, official)
            walls[engine] = wall
            print(f"    pair {pair + 1} {engine:<9} whole process {wall:6.2f} s  {figures['requests']:5.0f} requests  "
                  f"{figures['rate']:6.1f} req/s  mean in flight {figures['mean_in_flight']:5.1f}  "
                  f"max {figures['max_in_flight']:3.0f}  connections {figures['connections']:.0f}")  # fmt: skip
        if official:
            ratios.append(walls["ddc"] / walls["official"])
    if ratios:
        print(f"    ddc / official whole process: median {statistics.median(ratios):.2f} "
              f"(pairs: {', '.join(f'{r:.2f}' for r in ratios)}; bar <= 1.0)")  # fmt: skip
    else:
        print("    official engine (data-designer) not on PATH: no side-by-side ratio")


def scenario_retries(args: argparse.Namespace, tmp: Path) -> None:
    cells = 1000
    print(f"[retries] one llm-text column, {cells} cells, {args.latency * 1000:.0f} ms latency, asyncio test "
          "server with listen backlog 1024")  # fmt: skip
    for parallel in (16, 64, 256):
        wall, figures, meta = one("ddc", SINGLE, cells, parallel, args.latency, tmp, None)
        usage = meta.get("model_usage", {}).get("text", {})
        retries = meta.get("column_metrics", {}).get("idea.retries", 0)
        print(f"    {parallel:3d} in flight: {retries / cells * 1000:5.1f} retries / 1,000 cells, "
              f"{figures['connections']:.0f} connections, max {figures['max_in_flight']:.0f} in flight at the server, "
              f"p50 {usage.get('latency_p50_s', 0):.3f} s p95 {usage.get('latency_p95_s', 0):.3f} s, "
              f"whole process {wall:.2f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", choices=["chain", "retries", []], default=[])
    parser.add_argument("--records", type=int, default=400)
    parser.add_argument("--parallel", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    chosen = args.scenarios or ["chain", "retries"]
    with tempfile.TemporaryDirectory(prefix="ddc-bench-chain-") as tmp:
        if "chain" in chosen:
            scenario_chain(args, Path(tmp))
        if "retries" in chosen:
            scenario_retries(args, Path(tmp))


if __name__ == "__main__":
    main()
