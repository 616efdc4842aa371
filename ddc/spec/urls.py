"""HTTP(S) URLs that users give ddc (spec endpoints, ``--base-url``, environment variables): checked whole.

``urlsplit`` accepts almost anything and only complains about a bad port or an unclosed ``[`` when the
parts are read, and clients then fail far from the spec (a ``ValueError`` in a connection pool, an
``OverflowError`` in ``connect()``). Reading the parts here, once, turns that into an error that names
the field or option. Messages that show a URL hide its password: ``ddc.redaction`` masks
``scheme://user:password@`` in everything ddc prints or writes.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ddc.redaction import redact_message

#: What a valid URL looks like, for hints.
HTTP_URL_FORM = "http(s)://host[:port][/path]"


def http_url_problem(url: str) -> str:
    """Why ``url`` is not an http(s) URL with a host and a valid port ('' when it is)."""
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "it contains whitespace or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it is the check (out of range, not a number)
        host = parts.hostname
    except ValueError as exc:
        message = str(exc)
        return message[:1].lower() + message[1:]
    if parts.scheme not in ("http", "https"):
        return "it does not start with http:// or https://"
    return "" if host else "it has no host"


def checked_http_url(value: str, *, name: str = "") -> str:
    """``value`` when it is a usable http(s) URL; else a ``ValueError`` saying why, with the expected form
    (``name``, an option or an environment variable, starts the message when given)."""
    problem = http_url_problem(value)
    if problem:  # the URL's password masked here too: diagnostics reach --json and files, not only stderr
        shown = redact_message(repr(value))
        subject = f"{name} {shown}" if name else shown
        raise ValueError(f"{subject} is not a valid URL: {problem} (expected {HTTP_URL_FORM})")
    return value
