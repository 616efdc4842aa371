"""Model replies as storable text: whatever bytes a server sends, a cell gets valid Unicode.

Replies of weak or random models hold U+FFFD, control characters and, in JSON escapes, lone UTF-16
surrogates (``"\\ud800"``); servers may even send bytes that are not UTF-8. Control characters and
U+FFFD are kept as they are (every writer stores them: Parquet and JSONL exactly, CSV quoted).
Invalid UTF-8 bytes and lone surrogates, which no UTF-8 file can hold, become U+FFFD, as
llama.cpp's server does itself, so no writer ever fails on a reply.
"""

from __future__ import annotations

import json
from typing import Any


def decode_payload(raw: bytes) -> Any:
    """The JSON of a response body; invalid UTF-8 and lone surrogates in strings become U+FFFD."""
    value = json.loads(raw.decode("utf-8", errors="replace"))
    return _scrub(value) if b"\\u" in raw or b"\\U" in raw else value


def clean_reply(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD (pairs joined into their code point)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return clean_reply(value)
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {clean_reply(k): _scrub(v) for k, v in value.items()}
    return value
