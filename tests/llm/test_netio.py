"""The asyncio network backend under the model client: TLS, keep-alive, large bodies, timeouts."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ddc.engine.llm.client import ModelCallError, ModelClient, RetryPolicy
from ddc.engine.llm.wire import chat_body, chat_messages
from tests.llm.helpers import models_for
from tests.servers.openai_server import Fault, OpenAIServer

NO_RETRY = RetryPolicy(max_retries=0)
ONE_RETRY = RetryPolicy(max_retries=1, base_delay=0.01, max_delay=0.01)


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, written as PEM files."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    """An HTTPS server whose self-signed certificate the client trusts through ``SSL_CERT_FILE``."""
    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))
    server = OpenAIServer().start(tls=context)
    try:
        yield server
    finally:
        server.stop()


def _chat(server: OpenAIServer, count: int, *, retry: RetryPolicy = NO_RETRY, pause: float = 0.0, **params: Any):
    """``count`` chat calls one after another (``pause`` seconds apart); returns replies and the client."""

    async def main() -> tuple[list[Any], ModelClient]:
        client = ModelClient(models_for(server.base_url, **params), retry=retry)
        replies = []
        try:
            for index in range(count):
                if index and pause:
                    await asyncio.sleep(pause)
                body = chat_body(client.model("text"), chat_messages(f"hello {index}"))
                replies.append(await client.post("text", "chat/completions", body))
        finally:
            await client.aclose()
        return replies, client

    return asyncio.run(main())


def test_https_requests_verify_the_certificate_and_reuse_one_connection(tls_server: OpenAIServer) -> None:
    replies, _ = _chat(tls_server, 3)
    assert tls_server.base_url.startswith("https://")
    assert [r["choices"][0]["message"]["content"][:6] for r in replies] == ["reply "] * 3
    assert tls_server.connections == 1


def test_an_untrusted_certificate_is_a_connection_error(tls_server: OpenAIServer, monkeypatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")
    with pytest.raises(ModelCallError) as failure:
        _chat(tls_server, 1)
    assert failure.value.kind == "connection"


def test_a_connection_the_server_closed_while_idle_is_replaced_without_a_retry(openai_server: OpenAIServer) -> None:
    openai_server.idle_timeout = 0.05
    _, client = _chat(openai_server, 2, retry=ONE_RETRY, pause=0.3)
    assert openai_server.connections == 2
    assert client.usage["text"].retries == 0


def test_a_body_larger_than_the_read_buffer_arrives_whole(openai_server: OpenAIServer) -> None:
    text = "x" * (3 << 20)  # past the 1 MiB high-water mark: reading pauses and resumes
    openai_server.chat_reply = lambda request: text
    replies, _ = _chat(openai_server, 1)
    assert replies[0]["choices"][0]["message"]["content"] == text


def test_no_answer_within_the_timeout_is_a_timeout(openai_server: OpenAIServer) -> None:
    openai_server.schedule(Fault.timeout(4.0))
    started = time.monotonic()
    with pytest.raises(ModelCallError) as failure:
        _chat(openai_server, 1, timeout=1)
    assert failure.value.kind == "timeout"
    assert time.monotonic() - started < 3.0


def test_a_dropped_connection_is_a_connection_error(openai_server: OpenAIServer) -> None:
    openai_server.schedule(Fault.drop())
    with pytest.raises(ModelCallError) as failure:
        _chat(openai_server, 1)
    assert failure.value.kind == "connection"


def test_a_refused_connection_is_a_connection_error() -> None:
    with OpenAIServer() as server:
        url = server.base_url  # nothing listens there once the server stops
    with pytest.raises(ModelCallError) as failure:
        asyncio.run(_post_once(url))
    assert failure.value.kind == "connection"


async def _post_once(url: str) -> Any:
    client = ModelClient(models_for(url), retry=NO_RETRY)
    try:
        return await client.post("text", "chat/completions", chat_body(client.model("text"), chat_messages("hi")))
    finally:
        await client.aclose()
