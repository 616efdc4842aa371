"""The ``schema_transform`` processor: an extra dataset whose rows are a JSON template over each row.

As in the official engine the whole template is ``json.dumps``'d into one Jinja template, rendered
per record (JSON strings in the record decoded first) with every printed value JSON-escaped, then
parsed back with ``json.loads``; so a leaf ``"{{ x }}"`` is always a string and literals keep their
type. ``drop_columns`` needs no code here: the runner splits dropped columns off every batch.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ddc.errors import RunError

if TYPE_CHECKING:
    import pyarrow as pa


class SchemaTransform:
    def __init__(self, processor: Any) -> None:
        from ddc.templating import TemplateProblem, compile_json_template

        self.name: str = processor.name
        self.text = json.dumps(processor.template, ensure_ascii=False)
        self.keys = list(processor.template)
        try:
            self.template = compile_json_template(self.text)
        except TemplateProblem as exc:
            raise RunError(f"processor {self.name!r}: {exc}") from exc

    def apply(self, table: pa.Table) -> pa.Table:
        import pyarrow as pa

        from ddc.engine.expressions import decode_json_values
        from ddc.templating import RenderError, render

        rows: list[dict[str, Any]] = []
        for index, record in enumerate(table.to_pylist()):
            context = {k: decode_json_values(v) for k, v in record.items()}
            try:
                rows.append(json.loads(render(self.template, context)))
            except (RenderError, ValueError) as exc:
                raise RunError(f"processor {self.name!r}, row {index} of the batch: {exc}") from exc
        if not rows:
            return pa.table({k: pa.array([], pa.null()) for k in self.keys})
        return pa.Table.from_pylist(rows)
