"""Run with the conformance python: ddc's column_statistics validate in the official profiler's models.

argv: JSON files, each {"num_records", "target_num_records", "column_statistics"}; an output folder.
Prints one JSON line per file: {"file", "status": ok|fail, "detail", "types": [column types validated]}.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

from data_designer.config.analysis.dataset_profiler import DatasetProfilerResults


def main() -> None:
    *files, out_dir = sys.argv[1:]
    for name in files:
        data = json.loads(Path(name).read_text())
        try:
            results = DatasetProfilerResults.model_validate(data)
            report = Path(out_dir) / (Path(name).stem + ".html")
            results.to_report(save_path=str(report))
            types = sorted({type(c).__name__ for c in results.column_statistics})
            status = "ok" if report.stat().st_size > 0 else "fail"
            print(json.dumps({"file": name, "status": status, "detail": "", "types": types}))
        except Exception:
            print(json.dumps({"file": name, "status": "fail", "detail": traceback.format_exc()[-3000:], "types": []}))


if __name__ == "__main__":
    main()
