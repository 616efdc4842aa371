"""Random streams keyed by global row index, so data never depends on how rows are batched.

Rows are grouped in fixed blocks of ``BLOCK`` rows (a constant of the output format, not the batch
size). The stream of (run seed, column, tags, block) is a Philox generator derived with
``SeedSequence``; a draw for a set of rows generates each touched block whole and picks the rows'
positions in it. Therefore the value of row r depends only on (seed, column, tags, r):

* identical across runs with the same seed, across batch sizes, thread counts, ``--resume`` points
  and ``--partition`` shards (shard i of n holds exactly rows lo..hi of the unpartitioned run);
* independent between columns, tags (condition branches, rejection rounds) and blocks.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ColumnRng:
    """The random streams of one column (or of another named consumer such as a seed shuffle)."""

    seed: int
    name: str

    def generator(self, block: int, *tags: int) -> np.random.Generator:
        import numpy as np

        sequence = np.random.SeedSequence(self.seed, spawn_key=(_name_key(self.name), *tags, block))
        return np.random.Generator(np.random.Philox(sequence))

    def draw(self, rows: np.ndarray, sample: Sampler, *tags: int) -> np.ndarray:
        """``sample(generator, BLOCK)`` per touched block (an array of BLOCK rows), picked at ``rows``.

        ``rows`` are global row indices in increasing order."""
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.asarray(sample(self.generator(0, *tags), 0))
        blocks = rows // BLOCK
        first, last = int(blocks[0]), int(blocks[-1])
        if first == last:
            values = np.asarray(sample(self.generator(first, *tags), BLOCK))
            return values[rows - first * BLOCK]
        parts = []
        bounds = np.searchsorted(blocks, np.arange(first, last + 2))
        for block in range(first, last + 1):
            lo, hi = bounds[block - first], bounds[block - first + 1]
            if lo == hi:
                continue
            values = np.asarray(sample(self.generator(block, *tags), BLOCK))
            parts.append(values[rows[lo:hi] - block * BLOCK])
        return np.concatenate(parts)

    def uniform(self, rows: np.ndarray, *tags: int) -> np.ndarray:
        """One float in [0, 1) per row."""
        return self.draw(rows, lambda g, n: g.random(n), *tags)

    def child(self, suffix: str) -> ColumnRng:
        return ColumnRng(self.seed, f"{self.name}\x00{suffix}")
