"""The NeMo Services base URL (``--base-url``, ``submit.base_url``, ``$NMP_BASE_URL``) is checked before
any request: an invalid one is a usage error naming where it came from, not httpx's traceback or a
"connection broke, try again"; and its password is never printed."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ddc.errors import UsageError
from ddc.nemo.client import resolve_base_url

EXPECTED = "(expected http(s)://host[:port][/path])"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::1", "invalid IPv6 URL"),
        ("notaurl", "it does not start with http:// or https://"),
        ("ftp://x", "it does not start with http:// or https://"),
        ("http://127.0.0.1:99999", "port out of range 0-65535"),
    ],
)
def test_an_invalid_base_url_option_is_a_usage_error(
    ddc, simple_spec: Path, token_env: str, url: str, reason: str
) -> None:
    result = ddc("submit", str(simple_spec), "--base-url", url)
    assert (result.exit_code, result.err) == (2, f"error: --base-url {url!r} is not a valid URL: {reason} {EXPECTED}\n")


def test_an_invalid_nmp_base_url_is_a_usage_error_naming_the_variable(
    ddc, token_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NMP_BASE_URL", "nemo.example.com:8080")
    result = ddc("jobs", "list")
    assert result.exit_code == 2
    assert result.err.startswith("error: NMP_BASE_URL 'nemo.example.com:8080' is not a valid URL: it does not start")


def test_the_base_url_is_checked_in_the_order_it_is_chosen() -> None:
    env = {"NMP_BASE_URL": "not a url"}
    assert resolve_base_url("http://cli:1", None, env) == "http://cli:1"
    with pytest.raises(UsageError, match=r"^NMP_BASE_URL 'not a url' is not a valid URL"):
        resolve_base_url(None, None, env)


def test_a_password_in_the_base_url_is_not_printed(ddc, simple_spec: Path, token_env: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = ddc("submit", str(simple_spec), "--base-url", f"http://user:hunter2@127.0.0.1:{port}")
    assert result.exit_code == 4
    assert f"cannot connect to NeMo Services at http://user:***@127.0.0.1:{port}" in result.err
    assert "hunter2" not in result.err + result.out
