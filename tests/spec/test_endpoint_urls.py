"""URLs in a spec are checked whole when it loads: a bad port or host is an error at its field, not a
traceback when ``ddc run`` or ``ddc submit`` first connects to it."""

from __future__ import annotations

import pytest

from ddc.errors import SpecError
from ddc.spec.load import load_spec
from ddc.spec.urls import http_url_problem

SAMPLER = "{name: x, column_type: sampler, sampler_type: uniform, params: {low: 0, high: 1}}"


def error_of(text: str) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(text)
    return str(info.value)


def provider_spec(endpoint: str) -> str:
    return f"columns: [{SAMPLER}]\nproviders:\n  - name: local\n    endpoint: '{endpoint}'\n"


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        ("http://127.0.0.1:99999/v1", "port out of range 0-65535"),
        ("http://127.0.0.1:-1/v1", "port could not be cast to integer value as '-1'"),
        ("http://[::1", "invalid IPv6 URL"),
        ("http:///v1", "it has no host"),
        ("http://exa mple.com/v1", "it contains whitespace or control characters"),
        ("ftp://127.0.0.1/v1", "it does not start with http:// or https://"),
        ("127.0.0.1:8000/v1", "it does not start with http:// or https://"),
    ],
)
def test_a_provider_endpoint_that_cannot_be_connected_to_is_an_error_at_its_field(endpoint: str, reason: str) -> None:
    assert error_of(provider_spec(endpoint)) == (
        f"<string>:4:15: providers[0].endpoint: {endpoint!r} is not a valid URL: {reason} "
        "(expected http(s)://host[:port][/path])"
    )


@pytest.mark.parametrize(
    "endpoint", ["http://127.0.0.1:8000/v1", "https://api.example.com/v1", "http://[::1]:8000/v1", "http://localhost"]
)
def test_usable_endpoints_still_load(endpoint: str) -> None:
    assert load_spec(provider_spec(endpoint)).spec.providers[0].endpoint == endpoint  # type: ignore[index]


def test_the_error_about_an_endpoint_hides_the_password_in_it() -> None:
    message = error_of(provider_spec("http://user:hunter2@[::1/v1"))
    assert "'http://user:***@[::1/v1' is not a valid URL" in message and "hunter2" not in message


def test_a_remote_validator_url_with_a_bad_port_is_an_error_at_its_field() -> None:
    text = (
        f"columns:\n  - {SAMPLER}\n  - name: v\n    column_type: validation\n    validator_type: remote\n"
        "    target_columns: [x]\n    validator_params:\n      endpoint_url: http://127.0.0.1:99999/x\n"
    )
    assert error_of(text).startswith(
        "<string>:8:21: columns[1].validator_params.endpoint_url: 'http://127.0.0.1:99999/x' is not a valid URL: "
        "port out of range"
    )


def test_an_mcp_endpoint_with_a_bad_port_is_an_error_at_its_field() -> None:
    text = f"columns: [{SAMPLER}]\nmcp_providers:\n  - {{name: geo, endpoint: 'http://127.0.0.1:70000/mcp'}}\n"
    assert error_of(text).startswith("<string>:3:27: mcp_providers[0].endpoint: 'http://127.0.0.1:70000/mcp' is not")


def test_a_submit_base_url_that_is_not_a_url_is_an_error_at_its_field() -> None:
    text = f"columns: [{SAMPLER}]\nsubmit:\n  base_url: nemo.example.com\n"
    assert error_of(text).startswith(
        "<string>:3:13: submit.base_url: 'nemo.example.com' is not a valid URL: it does not start with http://"
    )


def test_a_url_with_credentials_is_usable() -> None:
    assert http_url_problem("https://user:p%40ss@nemo.example.com:8443/base") == ""
