from __future__ import annotations

import numpy as np

from ddc.engine.rng import BLOCK, ColumnRng


def test_a_rows_value_does_not_depend_on_which_other_rows_are_drawn() -> None:
    rng = ColumnRng(42, "age")
    all_rows = rng.uniform(np.arange(0, 3 * BLOCK))
    some_rows = rng.uniform(np.array([5, BLOCK + 7, 2 * BLOCK + 1]))
    assert list(some_rows) == [all_rows[5], all_rows[BLOCK + 7], all_rows[2 * BLOCK + 1]]


def test_columns_get_independent_streams() -> None:
    rows = np.arange(100)
    assert not np.array_equal(ColumnRng(42, "a").uniform(rows), ColumnRng(42, "b").uniform(rows))


def test_tags_give_independent_streams() -> None:
    rows = np.arange(100)
    rng = ColumnRng(42, "a")
    assert not np.array_equal(rng.uniform(rows, 0, 0), rng.uniform(rows, 0, 1))


def test_the_same_seed_gives_the_same_values() -> None:
    rows = np.arange(10)
    assert np.array_equal(ColumnRng(7, "a").uniform(rows), ColumnRng(7, "a").uniform(rows))


def test_another_seed_gives_other_values() -> None:
    rows = np.arange(10)
    assert not np.array_equal(ColumnRng(7, "a").uniform(rows), ColumnRng(8, "a").uniform(rows))


def test_a_permutation_gives_each_row_of_a_cycle_its_own_value() -> None:
    for size in (1, 2, 3, 7, 1000, 4097):
        values = ColumnRng(5, "p").permutation(np.arange(size), size)
        assert sorted(values.tolist()) == list(range(size))


def test_each_cycle_of_a_permutation_has_its_own_order() -> None:
    values = ColumnRng(5, "p").permutation(np.arange(200), 100)
    assert sorted(values[100:].tolist()) == list(range(100))
    assert values[:100].tolist() != values[100:].tolist()


def test_a_permuted_rows_value_does_not_depend_on_the_other_rows() -> None:
    rng = ColumnRng(5, "p")
    everything = rng.permutation(np.arange(5000), 1 << 32)
    assert rng.permutation(np.array([17, 4242]), 1 << 32).tolist() == everything[[17, 4242]].tolist()


def test_a_permutation_changes_with_the_seed() -> None:
    rows = np.arange(50)
    assert ColumnRng(5, "p").permutation(rows, 50).tolist() != ColumnRng(6, "p").permutation(rows, 50).tolist()


def _normal(generator: np.random.Generator, n: int) -> np.ndarray:
    return generator.normal(0.0, 1.0, n)


def test_values_stay_those_of_earlier_versions() -> None:
    """A seeded dataset reproduces across ddc versions: these draws (one block each; a rejection tail's
    one small block per row) are pinned."""
    rng = ColumnRng(2024, "income")
    assert rng.draw(np.array([0, 5000, 10**6 + 3]), _normal).tolist() == [
        -1.697119811876087,
        0.02342736987985312,
        1.728287374740351,
    ]
    tail = rng.draw((np.arange(40) * 1000 + 7) * 32 + 31, _normal, 0, 16, block_size=32)
    assert tail[[0, 13, 39]].tolist() == [0.3595657384073845, -1.1136285983638918, -0.0927629167801317]


def test_a_draw_over_many_blocks_gives_each_blocks_own_stream() -> None:
    """Each block is ``sample(Philox(key, counter=[0, block, 0, 0]), block_size)``, however many blocks
    one draw touches."""
    rng = ColumnRng(9, "g")
    rows = np.array([3, 40, 41, 95, 200, 333, 334, 500, 777, 901, 999])
    expected = [rng.generator(int(r) // 10, 1, block_size=10).normal(0.0, 1.0, 10)[r % 10] for r in rows]
    assert rng.draw(rows, _normal, 1, block_size=10).tolist() == expected
