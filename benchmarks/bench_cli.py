"""Whole-process timings of the CLI against the issue's bars.

    ddc validate / ddc build of a 200-column spec: < 0.5 s
    ddc --help:                                     < 0.3 s
    data-designer validate of a 13-column spec:     ~3 s (side by side, when `data-designer` is on PATH)

Each command runs as a fresh process (``python -m ddc`` with this checkout on PYTHONPATH, or the ``ddc``
console script with --installed); the median of N runs is reported. Run: ``python benchmarks/bench_cli.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLERS = [
    "sampler_type: uniform\n    params: {low: 0, high: 100}",
    "sampler_type: gaussian\n    params: {mean: 10, stddev: 2}",
    "sampler_type: category\n    params: {values: [a, b, c], weights: [1, 2, 3]}",
    "sampler_type: poisson\n    params: {mean: 3}",
    "sampler_type: bernoulli\n    params: {p: 0.4}",
    "sampler_type: uuid\n    params: {short_form: true}",
    "sampler_type: datetime\n    params: {start: '2020-01-01', end: '2024-01-01'}",
    "sampler_type: binomial\n    params: {n: 10, p: 0.5}",
]


def make_spec(columns: int, llm_every: int = 40) -> str:
    """Mixed samplers, expressions reading earlier columns, and a few llm-text columns."""
    lines = [
        "name: bench",
        "num_records: 100",
        "random_seed: 1",
        "model_configs:",
        "  - {alias: m, model: meta/llama, provider: nvidia, inference_parameters: {temperature: 0.5}}",
        "columns:",
    ]
    samplers: list[str] = []
    for i in range(columns):
        name = f"c{i:03d}"
        if i % 3 == 0 or len(samplers) < 2:
            lines.append(f"  - name: {name}\n    column_type: sampler\n    {SAMPLERS[i % len(SAMPLERS)]}")
            samplers.append(name)
        elif i % llm_every == 0:
            lines.append(
                f"  - name: {name}\n    column_type: llm-text\n    model_alias: m\n"
                f"    prompt: 'Describe {{{{ {samplers[-1]} }}}} and {{{{ {samplers[-2]} }}}}'"
            )
        else:
            a, b = samplers[-1], samplers[(i * 7) % len(samplers)]
            lines.append(f"  - name: {name}\n    column_type: expression\n    expr: '{{{{ {a} }}}}-{{{{ {b} }}}}'")
    return "\n".join(lines) + "\n"


def official_yaml(spec: Path) -> str:
    """The same 13 columns in the official wrapped form (ddc's canonical config; no ddc extensions)."""
    import yaml

    sys.path.insert(0, str(ROOT))
    from ddc.compile.canonical import dd_config
    from ddc.spec.load import load_spec

    return yaml.safe_dump({"data_designer": dd_config(load_spec(spec).spec)}, sort_keys=False)


def time_command(argv: list[str], runs: int, env: dict[str, str], cwd: Path) -> tuple[float, int]:
    times = []
    code = 0
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        code = done.returncode
        if code != 0:
            sys.stderr.write(done.stderr.decode(errors="replace")[-2000:])
    return statistics.median(times), code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=7, help="runs per command (median reported)")
    parser.add_argument("--columns", type=int, default=200)
    parser.add_argument("--installed", action="store_true", help="time the `ddc` console script instead")
    args = parser.parse_args()

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    ddc = [shutil.which("ddc") or "ddc"] if args.installed else [sys.executable, "-m", "ddc"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        spec = work / "bench.ddc.yaml"
        spec.write_text(make_spec(args.columns), encoding="utf-8")
        small = work / "small.ddc.yaml"
        small.write_text(make_spec(13, llm_every=5), encoding="utf-8")
        cases = [
            ("ddc --help", [*ddc, "--help"], 0.3),
            (f"ddc validate ({args.columns} columns)", [*ddc, "validate", str(spec)], 0.5),
            (f"ddc build ({args.columns} columns)", [*ddc, "build", str(spec), "-o", str(work / "out.py")], 0.5),
            ("ddc build --target data-designer", [*ddc, "build", str(spec), "--target", "data-designer"], 0.5),
            ("ddc validate (13 columns)", [*ddc, "validate", str(small)], 0.5),
        ]
        table: list[tuple[str, float, float | None, int]] = []
        floor, _ = time_command([sys.executable, "-c", "pass"], args.runs, env, work)
        table.append(("python -c pass (interpreter floor)", floor, None, 0))
        for label, argv, target in cases:
            median, code = time_command(argv, args.runs, env, work)
            table.append((label, median, target, code))
        dd = shutil.which("data-designer")
        if dd:
            official = work / "small.official.yaml"
            official.write_text(official_yaml(small), encoding="utf-8")
            dd_env = {**env, "DATA_DESIGNER_HOME": str(work / "dd-home"), "NEMO_TELEMETRY_ENABLED": "false"}
            median, code = time_command([dd, "validate", str(official)], max(3, args.runs // 2), dd_env, work)
            table.append(("data-designer validate (13 columns)", median, None, code))
        else:
            table.append(("data-designer validate (13 columns)", float("nan"), None, -1))

    width = max(len(r[0]) for r in table)
    print(f"{'command':<{width}}  {'median':>8}  {'target':>7}  result")
    for label, median, target, code in table:
        if code == -1:
            print(f"{label:<{width}}  {'n/a':>8}  {'':>7}  data-designer not on PATH")
            continue
        verdict = f"exit {code}" if code else ("ok" if target is None or median < target else "MISSED")
        shown = f"{target:.1f} s" if target else ""
        print(f"{label:<{width}}  {median:>6.3f} s  {shown:>7}  {verdict}")
    by_label = {label: (median, code) for label, median, _, code in table}
    ours, theirs = by_label["ddc validate (13 columns)"], by_label["data-designer validate (13 columns)"]
    if theirs[1] == 0 and ours[1] == 0:
        print(f"\nside by side: ddc validate is {theirs[0] / ours[0]:.1f}x faster than data-designer validate")
    print(f"\n{args.runs} runs each, median; {sys.executable} ({sys.version.split()[0]})")


if __name__ == "__main__":
    main()
