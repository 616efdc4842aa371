"""Measure the share of structured and judge cells that parse, per structured-output mode, against
llama-server serving the tiny random model: ``python -m tests.realserver.measure_structured [-n 20]``.

Prints one line per mode (json_schema, json_object, prompt) with the parsed cells of each column."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from tests.realserver.conftest import model_file
from tests.realserver.helpers import rows, run
from tests.realserver.server import API_KEY, KEY_ENV, LlamaServer, find_binary
from tests.realserver.specs import JUDGE, STRUCTURED, spec_text, write_spec


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--records", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=1024)
    args = parser.parse_args(argv)
    binary = find_binary()
    if binary is None:
        raise SystemExit("no llama-server: set LLAMA_SERVER")
    os.environ[KEY_ENV] = API_KEY
    work = Path(tempfile.mkdtemp(prefix="ddc-measure-"))
    os.environ["DDC_HOME"] = str(work / "home")
    with LlamaServer(binary, model_file(None), work / "server.log", alias="tiny", parallel=4) as server:
        for mode in ("json_schema", "json_object", "prompt"):
            text = spec_text(server, STRUCTURED + JUDGE, max_tokens=args.max_tokens, records=args.records,
                             provider=f"    structured_output: {mode}\n", run="run: {max_error_rate: 1.0}")  # fmt: skip
            values = rows(run(write_spec(work, text, f"{mode}.yaml"), work / mode))
            parsed = {c: sum(1 for r in values if r[c] is not None) for c in ("info", "grade")}
            print(f"{mode}: " + ", ".join(f"{c} {k}/{len(values)}" for c, k in parsed.items()), flush=True)


if __name__ == "__main__":
    main()
