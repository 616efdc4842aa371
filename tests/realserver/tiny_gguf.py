"""Write a tiny LLaMA-architecture GGUF with random weights: the model the real-server tier serves.

Two blocks, 64-wide, four heads, a byte-level vocabulary (the 256 ``<0xNN>`` byte tokens, printable
ASCII, the SentencePiece space and a few words) with ChatML markers, all tensors float32. The weights
are normal draws from a fixed seed, so the same arguments give the same bytes (about 0.5 MB). With
``pooling="mean"`` the file is an embedding model (llama-server ``--embeddings``).

Usage: ``python tests/realserver/tiny_gguf.py OUT.gguf [--seed N] [--pooling mean]``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

WIDTH = 64
BLOCKS = 2
HEADS = 4
FEED_FORWARD = 128
CONTEXT = 4096
WORDS = ("the", "and", "data", "name", "value", "score", "text", "code", "json", "true", "false")
CHATML = (
    "{% for message in messages %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def vocabulary() -> tuple[list[str], list[float], list[int]]:
    """Tokens, scores and types: specials, 256 byte tokens, the space, printable ASCII, a few words."""
    from gguf import TokenType

    tokens = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
    types = [TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL, TokenType.CONTROL, TokenType.CONTROL]
    scores = [0.0] * len(tokens)
    for byte in range(256):
        tokens.append(f"<0x{byte:02X}>")
        types.append(TokenType.BYTE)
        scores.append(0.0)
    singles = ["\u2581", *(chr(c) for c in range(0x21, 0x7F))]
    for text in singles:
        tokens.append(text)
        types.append(TokenType.NORMAL)
        scores.append(-1.0)
    for word in WORDS:
        tokens.append("\u2581" + word)
        types.append(TokenType.NORMAL)
        scores.append(-0.5)
    return tokens, scores, [int(t) for t in types]


def write_model(path: Path, *, seed: int = 0, pooling: str | None = None) -> Path:
    """Write the model to ``path`` (atomically) and return it."""
    import gguf
    import numpy as np

    tokens, scores, types = vocabulary()
    rng = np.random.default_rng(seed)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # parallel test workers may write it at once
    writer = gguf.GGUFWriter(str(tmp), "llama")
    writer.add_name("ddc-tiny-embed" if pooling else "ddc-tiny-chat")
    writer.add_context_length(CONTEXT)
    writer.add_embedding_length(WIDTH)
    writer.add_block_count(BLOCKS)
    writer.add_feed_forward_length(FEED_FORWARD)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(HEADS)
    writer.add_rope_dimension_count(WIDTH // HEADS)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    if pooling:
        writer.add_pooling_type(gguf.PoolingType[pooling.upper()])
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(tokens.index("<|im_end|>"))
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(CHATML)

    def tensor(name: str, *shape: int, ones: bool = False) -> None:
        data = np.ones(shape, np.float32) if ones else (rng.standard_normal(shape) * 0.2).astype(np.float32)
        writer.add_tensor(name, data)

    vocab = len(tokens)
    tensor("token_embd.weight", vocab, WIDTH)
    for block in range(BLOCKS):
        prefix = f"blk.{block}"
        tensor(f"{prefix}.attn_norm.weight", WIDTH, ones=True)
        for part in ("attn_q", "attn_k", "attn_v", "attn_output"):
            tensor(f"{prefix}.{part}.weight", WIDTH, WIDTH)
        tensor(f"{prefix}.ffn_norm.weight", WIDTH, ones=True)
        tensor(f"{prefix}.ffn_gate.weight", FEED_FORWARD, WIDTH)
        tensor(f"{prefix}.ffn_up.weight", FEED_FORWARD, WIDTH)
        tensor(f"{prefix}.ffn_down.weight", WIDTH, FEED_FORWARD)
    tensor("output_norm.weight", WIDTH, ones=True)
    tensor("output.weight", vocab, WIDTH)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pooling", choices=["mean", "cls", "last"], default=None)
    args = parser.parse_args(argv)
    write_model(args.out, seed=args.seed, pooling=args.pooling)


if __name__ == "__main__":
    main()
