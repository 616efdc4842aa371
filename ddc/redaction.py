"""The secrets ddc knows, and their removal from everything it prints or writes.

Wherever ddc resolves a secret (a provider's API key, ``$NMP_ACCESS_TOKEN``, a Secrets API value, a
Hugging Face token) it calls ``register``; the boundaries that print or write (the CLI's stdout and
stderr, ``metadata.json``, ``errors.jsonl`` and every other file of a dataset) call ``redact``. So an
endpoint that echoes a wrong key back in its error message, or a traceback that shows a header, never
puts the key on a terminal, in a log or on disk. Values shorter than ``MIN_LENGTH`` are not treated
as secrets (``EMPTY`` and ``none``, common placeholder keys of local servers, would otherwise be
blanked out of every message). A password written into a URL (``http://user:password@host``), in a
spec, an option or an environment variable, is masked wherever the URL is shown, whatever its length;
so is userinfo without a password (``https://TOKEN@host``), which is a token as often as a name.
"""

from __future__ import annotations

import re
import threading
from typing import Any, TextIO

MASK = "***"
MIN_LENGTH = 8
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+")
#: ``scheme://user:`` then the password, up to the last ``@`` of the authority (a password may hold one)
#: (the lookbehind starts a scheme only where a word starts: linear time on long runs of letters)
_URL_PASSWORD = re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:]*:)[^\s/?#]*(?=@)")
#: ``scheme://token@``: userinfo with no password is a token as often as a name (``https://TOKEN@host``)
_URL_TOKEN = re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#@:]+(?=@)")

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()  # longest first, so a secret containing another is masked whole


def register(*values: str | None) -> None:
    """Remember secret values (from now on they are redacted everywhere)."""
    global _secrets
    new = {v for v in values if v and len(v) >= MIN_LENGTH} - set(_secrets)
    if new:
        with _lock:
            _secrets = tuple(sorted({*_secrets, *new}, key=lambda s: (-len(s), s)))


def known() -> tuple[str, ...]:
    """The registered secrets, longest first."""
    return _secrets


def redact(text: str) -> str:
    """``text`` with every registered secret and any ``Bearer`` credential replaced by ``***``: what is
    applied to data (files a run writes, what ``show`` and ``build`` print), where only a known secret
    may be changed."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return _BEARER.sub(r"\1" + MASK, text) if "Bearer" in text else text


def hide_url_credentials(text: str) -> str:
    """``text`` with the userinfo of every URL in it masked (``http://user:***@host``, ``https://***@host``):
    for URLs ddc shows in messages, never for data, where ``ssh://git@host`` is a value like any other."""
    if "@" in text and "://" in text:
        return _URL_TOKEN.sub(r"\1" + MASK, _URL_PASSWORD.sub(r"\1" + MASK, text))
    return text


def redact_message(text: str) -> str:
    """A message or diagnostic: ``redact`` plus ``hide_url_credentials``."""
    return hide_url_credentials(redact(text))


def redact_data(value: Any) -> Any:
    """A JSON-like value with every string in it redacted (dict keys included)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(v) for v in value]
    return value


class RedactingStream:
    """A text stream that redacts what is written to it (the CLI wraps stdout and stderr in one). With
    ``messages`` (stderr: progress, warnings, errors) URL credentials are hidden too; stdout carries data
    (``show --jsonl``, ``build`` without -o), which only loses registered secrets."""

    def __init__(self, stream: TextIO, *, messages: bool = False) -> None:
        self._stream = stream
        self._messages = messages

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # bytes: whatever the wrapped stream does with them
            return int(self._stream.write(text))
        if self._messages and "@" in text:
            text = redact_message(text)
        elif _secrets or "Bearer" in text:
            text = redact(text)
        self._stream.write(text)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding, buffer ...
        return getattr(self._stream, name)
