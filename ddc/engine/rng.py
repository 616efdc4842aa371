"""Random streams keyed by global row index, so data never depends on how rows are batched.

Rows are grouped in fixed blocks of ``BLOCK`` rows (a constant of the output format, not the batch
size). The stream of (run seed, column, tags, block) is a Philox generator derived with
``SeedSequence``; a draw for a set of rows generates each touched block whole and picks the rows'
positions in it. Therefore the value of row r depends only on (seed, column, tags, r):

* identical across runs with the same seed, across batch sizes, thread counts, ``--resume`` points
  and ``--partition`` shards (shard i of n holds exactly rows lo..hi of the unpartitioned run);
* independent between columns, tags (condition branches, rejection rounds) and blocks.

Rejection rounds after the first few redraw few rows, so they use smaller blocks (a function of the
round only).
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

BLOCK = 4096

Sampler = Callable[["np.random.Generator", int], Any]


def new_seed() -> int:
    """A fresh seed for runs without ``random_seed`` (recorded in metadata so they can be replayed)."""
    return secrets.randbits(63)


def _name_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")


class ColumnRng:
    """The random streams of one column (or of another named consumer such as a seed shuffle).

    Keeps the last few generated blocks, so consecutive batches that share a block draw it once."""

    _CACHE_SIZE = 8

    def __init__(self, seed: int, name: str) -> None:
        self.seed = seed
        self.name = name
        self._key = _name_key(name)
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._keys: dict[tuple[Any, ...], Any] = {}

    def generator(self, block: int, *tags: int, block_size: int = BLOCK) -> np.random.Generator:
        """Philox keyed by (seed, name, tags, block size); the block number is the counter's high word."""
        import numpy as np

        return np.random.Generator(np.random.Philox(key=self._stream_key(tags, block_size), counter=[0, block, 0, 0]))

    def _stream_key(self, tags: tuple[int, ...], block_size: int) -> np.ndarray:
        import numpy as np

        stream = (tags, block_size)
        key = self._keys.get(stream)
        if key is None:
            sequence = np.random.SeedSequence(self.seed, spawn_key=(self._key, *tags, block_size))
            key = self._keys[stream] = sequence.generate_state(2, np.uint64)
        return key

    def _block(self, sample: Sampler, tags: tuple[int, ...], block_size: int, block: int) -> Any:
        import numpy as np

        key = (sample, tags, block_size, block)
        values = self._cache.get(key)
        if values is None:
            values = np.asarray(sample(self.generator(block, *tags, block_size=block_size), block_size))
            self._cache[key] = values
            if len(self._cache) > self._CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
        return values

    def draw(self, rows: np.ndarray, sample: Sampler, *tags: int, block_size: int = BLOCK) -> np.ndarray:
        """``sample(generator, block_size)`` per touched block, picked at ``rows``.

        ``rows`` are global row indices in increasing order. ``sample`` must be the same function
        object for the same distribution (it keys the block cache)."""
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.asarray(sample(self.generator(0, *tags, block_size=block_size), 0))
        blocks = rows // block_size
        first, last = int(blocks[0]), int(blocks[-1])
        if first == last:
            return self._block(sample, tags, block_size, first)[rows - first * block_size]
        bounds = [0, *(np.flatnonzero(np.diff(blocks)) + 1).tolist(), len(rows)]  # runs of one block each
        if len(bounds) - 1 > self._CACHE_SIZE:
            return self._many_blocks(rows, blocks, bounds, sample, tags, block_size)
        parts = []
        for lo, hi in itertools.pairwise(bounds):
            block = int(blocks[lo])
            values = self._block(sample, tags, block_size, block)
            parts.append(values[rows[lo:hi] - block * block_size])
        return np.concatenate(parts)

    def _many_blocks(
        self, rows: np.ndarray, blocks: np.ndarray, bounds: list[int], sample: Sampler, tags: tuple[int, ...], size: int
    ) -> np.ndarray:
        """``draw`` over many blocks (rejection tails touch one small block per row): one Philox whose
        state is set to each block's start -- the same numbers as a new generator per block at a third
        of the cost -- and no cache (these blocks are not drawn again)."""
        import numpy as np

        key = self._stream_key(tags, size)
        bits = np.random.Philox(key=key)
        generator = np.random.Generator(bits)
        stream: dict[str, Any] = {"key": key}
        # A new Philox's state: the counter at the block, an empty buffer.
        start: Any = {"bit_generator": "Philox", "state": stream, "buffer": np.zeros(4, np.uint64), "buffer_pos": 4,
                 "has_uint32": 0, "uinteger": 0}  # fmt: skip
        values = []
        for block in blocks[bounds[:-1]].tolist():
            stream["counter"] = np.array([0, block, 0, 0], dtype=np.uint64)
            bits.state = start
            values.append(np.asarray(sample(generator, size)))
        stacked = np.stack(values)
        flat = stacked.reshape(len(values) * size, *stacked.shape[2:])
        run = np.repeat(np.arange(len(values)), np.diff(bounds))
        return flat[run * size + (rows - blocks * size)]

    def permutation(self, rows: np.ndarray, size: int, *tags: int) -> np.ndarray:
        """A keyed bijection of row indices onto ``[0, size)``: rows ``k*size .. (k+1)*size - 1`` get
        distinct values (each cycle ``k`` has its own key, see ``permute``), so draws "without
        replacement" stay a function of the global row alone, like every other draw."""
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        cycles, offsets = np.divmod(rows, size)
        out = np.empty(len(rows), dtype=np.uint64)
        for cycle in np.unique(cycles).tolist():
            chosen = cycles == cycle
            generator = self.generator(cycle, PERMUTATION_TAG, *tags, block_size=size)
            keys = [int(k) for k in generator.integers(0, 1 << 63, size=4, dtype=np.uint64)]
            out[chosen] = permute(offsets[chosen], size, keys)
        return out.astype(np.int64)

    def uniform(self, rows: np.ndarray, *tags: int) -> np.ndarray:
        """One float in [0, 1) per row."""
        return self.draw(rows, _uniform, *tags)

    def child(self, suffix: str) -> ColumnRng:
        return ColumnRng(self.seed, f"{self.name}\x00{suffix}")


#: Tag of the permutation keys' stream (far above conditional-branch and rejection-round tags).
PERMUTATION_TAG = 1 << 40


def permute(positions: Any, size: int, keys: list[int]) -> np.ndarray:
    """A keyed bijection of ``[0, size)`` applied to ``positions``: a 4-round Feistel network over the
    smallest even bit width holding ``size``, with cycle walking (values >= ``size`` are permuted again;
    fewer than 2 passes on average). Shared by ``ColumnRng.permutation`` and the seed shuffle."""
    import numpy as np

    half_bits = max(1, (max(size - 1, 1).bit_length() + 1) // 2)
    out = _feistel(np.asarray(positions, dtype=np.uint64), half_bits, keys)
    outside = out >= np.uint64(size)
    while outside.any():
        out[outside] = _feistel(out[outside], half_bits, keys)
        outside = out >= np.uint64(size)
    return out


def _feistel(values: Any, half_bits: int, keys: list[int]) -> Any:
    import numpy as np

    mask = np.uint64((1 << half_bits) - 1)
    shift = np.uint64(half_bits)
    left, right = values >> shift, values & mask
    for key in keys:
        left, right = right, left ^ (_mix(right, key) & mask)
    return (left << shift) | right


def _mix(values: Any, key: int) -> Any:
    """A 64-bit avalanche mix (splitmix64 finaliser) of ``values ^ key``; numpy uint64 wraps."""
    import numpy as np

    z = values ^ np.uint64(key)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _uniform(generator: np.random.Generator, n: int) -> np.ndarray:
    return generator.random(n)
