"""Write fixtures/official.schema.json: the schema pydantic generates from the official library's models.

It is the baseline the editor checks compare ddc's schema with. Run with the interpreter that has
data-designer-config installed (here /work/ddvenv/bin/python):

    /work/ddvenv/bin/python tests/editor/make_official_schema.py
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

from data_designer.config.data_designer_config import DataDesignerConfig

OUT = Path(__file__).resolve().parent / "fixtures" / "official.schema.json"

if __name__ == "__main__":
    schema = DataDesignerConfig.model_json_schema()
    schema["$comment"] = (
        f"DataDesignerConfig.model_json_schema() of data-designer-config {version('data-designer-config')}"
    )
    OUT.write_text(json.dumps(schema, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
