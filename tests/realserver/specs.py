"""Specs of the real-server tier: providers pointing at the llama-server fixtures, a few columns."""

from __future__ import annotations

from pathlib import Path

from tests.realserver.server import KEY_ENV, LlamaServer

TOPIC = """
  - name: topic
    column_type: sampler
    sampler_type: category
    params: {values: [cats, dogs, owls]}
"""

TEXT = """
  - name: essay
    column_type: llm-text
    model_alias: chat
    prompt: "Write about {{ topic }}"
"""

CODE = """
  - name: query
    column_type: llm-code
    model_alias: chat
    code_lang: python
    prompt: "Python code about {{ topic }}"
"""

STRUCTURED = """
  - name: info
    column_type: llm-structured
    model_alias: chat
    prompt: "Describe {{ topic }}"
    output_format:
      type: object
      properties: {name: {type: string}, legs: {type: integer}, wild: {type: boolean}}
      required: [name, legs, wild]
"""

JUDGE = """
  - name: grade
    column_type: llm-judge
    model_alias: chat
    prompt: "Grade this text about {{ topic }}"
    scores:
      - name: quality
        description: How good it is
        options: {"1": bad, "2": fair, "3": good}
"""

EMBEDDING = """
  - name: vec
    column_type: embedding
    model_alias: embed
    target_column: topic
"""


def spec_text(
    chat: LlamaServer,
    columns: str,
    *,
    embed: LlamaServer | None = None,
    max_tokens: int = 16,
    max_parallel: int = 4,
    seed: int | None = 7,
    provider: str = "",
    run: str = "",
    records: int = 4,
) -> str:
    """A spec whose ``chat`` model (and ``embed`` model, with an embedding server) are llama-server's."""
    embed_provider = (
        f"""
  - name: llama-embed
    endpoint: {embed.base_url}
    api_key: {KEY_ENV}
"""
        if embed
        else ""
    )
    embed_model = (
        """
  - alias: embed
    model: tiny-embed
    provider: llama-embed
    inference_parameters: {generation_type: embedding, timeout: 30}
"""
        if embed
        else ""
    )
    return f"""
name: real
num_records: {records}
{f"random_seed: {seed}" if seed is not None else ""}
providers:
  - name: llama
    endpoint: {chat.base_url}
    api_key: {KEY_ENV}
{provider}{embed_provider}
model_configs:
  - alias: chat
    model: tiny
    provider: llama
    inference_parameters:
      max_parallel_requests: {max_parallel}
      timeout: 60
      max_tokens: {max_tokens}
      temperature: 1.0
{embed_model}
{run}
columns:
{TOPIC}{columns}
"""  # fmt: skip


def write_spec(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path
