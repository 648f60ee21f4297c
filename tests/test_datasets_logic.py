"""Boolean data sets: MONK's problems, truth tables and binarized tables, each
checked against an independent recomputation."""

import itertools
import sys

import numpy as np
import pytest

from catlearn.datasets import (
    MONK_SIZES,
    DatasetError,
    adder,
    binarize,
    boolean_cube,
    load_breast_cancer_binary,
    load_digits_binary,
    load_iris,
    load_iris_binary,
    load_monk,
    monk_attributes,
    multiplexer,
    one_hot,
    parity,
)

# ---------------------------------------------------------------- MONK's problems


def rule(problem, a1, a2, a3, a4, a5, a6):
    """Thrun et al.'s rules, written out again from the attribute values."""
    if problem == 1:
        return a1 == a2 or a5 == 1
    if problem == 2:
        return [a1, a2, a3, a4, a5, a6].count(1) == 2
    return (a5 == 3 and a4 == 1) or (a5 != 4 and a2 != 3)


ALL_ROBOTS = list(itertools.product(*(range(1, s + 1) for s in MONK_SIZES)))


def decode(X):
    """One-hot rows back to 1-based attribute values, checking one bit a block."""
    blocks = np.split(X, np.cumsum(MONK_SIZES)[:-1], axis=1)
    for block in blocks:
        assert (block.sum(axis=1) == 1).all()
    return np.stack([block.argmax(axis=1) + 1 for block in blocks], axis=1)


@pytest.mark.parametrize("problem", [1, 2, 3])
def test_monk_test_split_is_every_robot_in_order_with_rule_labels(problem):
    X, y = load_monk(problem, split="test")
    assert X.shape == (432, 17) and X.dtype == bool
    assert y.shape == (432,) and y.dtype == np.int32
    assert len(np.unique(X, axis=0)) == 432
    attributes = decode(X)
    assert attributes.tolist() == [list(r) for r in ALL_ROBOTS]
    np.testing.assert_array_equal(attributes, monk_attributes())
    expected = [int(rule(problem, *robot)) for robot in ALL_ROBOTS]
    assert y.tolist() == expected


def test_monk_class_balance_on_all_robots():
    counts = {p: sum(rule(p, *r) for r in ALL_ROBOTS) for p in (1, 2, 3)}
    # the class counts of the UCI monks-{1,2,3}.test files
    assert counts == {1: 216, 2: 142, 3: 228}
    for problem, positives in counts.items():
        assert int(load_monk(problem, split="test")[1].sum()) == positives


@pytest.mark.parametrize(("problem", "size"), [(1, 124), (2, 169), (3, 122)])
def test_monk_train_sample_sizes_determinism_and_labels(problem, size):
    X, y = load_monk(problem, split="train", seed=7)
    assert X.shape == (size, 17) and X.dtype == bool and y.dtype == np.int32
    assert len(np.unique(X, axis=0)) == size  # drawn without replacement
    again = load_monk(problem, seed=7)
    np.testing.assert_array_equal(again[0], X)
    np.testing.assert_array_equal(again[1], y)
    other = load_monk(problem, seed=8)[0]
    assert not np.array_equal(other, X)
    clean = np.array([rule(problem, *a) for a in decode(X)], dtype=np.int32)
    flips = int((clean != y).sum())
    assert flips == (6 if problem == 3 else 0)  # round(0.05 * 122) for MONK-3


def test_monk3_noise_is_six_flips_for_every_seed_and_noise_overrides():
    for seed in range(5):
        X, y = load_monk(3, seed=seed)
        clean = np.array([rule(3, *a) for a in decode(X)], dtype=np.int32)
        assert int((clean != y).sum()) == 6
    X, y = load_monk(3, seed=0, noise=0)
    assert [int(rule(3, *a)) for a in decode(X)] == y.tolist()
    X, y = load_monk(1, seed=0, noise=0.1)
    clean = np.array([rule(1, *a) for a in decode(X)], dtype=np.int32)
    assert int((clean != y).sum()) == 12  # round(0.1 * 124)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"problem": 0}, "[1, 2, 3]"),
        ({"problem": 4}, "[1, 2, 3]"),
        ({"problem": True}, "[1, 2, 3]"),
        ({"problem": "1"}, "[1, 2, 3]"),
        ({"problem": 1, "split": "valid"}, "'train', 'test'"),
        ({"problem": 1, "seed": -1}, "non-negative"),
        ({"problem": 1, "noise": 2.0}, "from 0 to 1"),
        ({"problem": 3, "split": "test", "noise": 0.05}, "noise-free"),
    ],
)
def test_monk_bad_arguments_name_the_valid_values(kwargs, words):
    with pytest.raises(DatasetError, match="load_monk") as info:
        load_monk(**kwargs)
    assert words in str(info.value) and "Fix" in str(info.value)


# ------------------------------------------------------------------ truth tables


def test_boolean_cube_counts_in_binary_lsb_first():
    X = boolean_cube(5)
    assert X.shape == (32, 5) and X.dtype == bool
    for i, row in enumerate(X):
        assert "".join("1" if b else "0" for b in row[::-1]) == format(i, "05b")


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_parity_is_the_popcount_mod_two(n):
    X, Y = parity(n)
    assert X.shape == (2**n, n) and Y.shape == (2**n, 1) and Y.dtype == bool
    assert Y[:, 0].tolist() == [bin(i).count("1") % 2 == 1 for i in range(2**n)]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_adder_adds_on_every_row(n):
    X, Y = adder(n)
    assert X.shape == (4**n, 2 * n) and Y.shape == (4**n, n + 1)
    assert X.dtype == bool and Y.dtype == bool
    for i, (x, out) in enumerate(zip(X.tolist(), Y.tolist(), strict=True)):
        a = sum(bit << j for j, bit in enumerate(x[:n]))
        b = sum(bit << j for j, bit in enumerate(x[n:]))
        assert (a, b) == (i % 2**n, i // 2**n)
        assert sum(bit << j for j, bit in enumerate(out)) == a + b


def test_multiplexer_matches_its_formula():
    X, Y = multiplexer(1)
    a, d0, d1 = X.T
    np.testing.assert_array_equal(Y[:, 0], (~a & d0) | (a & d1))
    X, Y = multiplexer(2)
    assert X.shape == (64, 6) and Y.shape == (64, 1)
    a0, a1, d0, d1, d2, d3 = X.T
    formula = (~a0 & ~a1 & d0) | (a0 & ~a1 & d1) | (~a0 & a1 & d2) | (a0 & a1 & d3)
    np.testing.assert_array_equal(Y[:, 0], formula)
    X, Y = multiplexer(3)
    assert X.shape == (2**11, 11)
    for i in range(0, 2**11, 37):
        address, data = i & 0b111, i >> 3
        assert Y[i, 0] == bool((data >> address) & 1)


@pytest.mark.parametrize(
    ("make", "arg"),
    [
        (parity, 21),
        (boolean_cube, 21),
        (adder, 11),
        (multiplexer, 5),
        (multiplexer, 40),
        (parity, 0),
        (adder, -1),
        (parity, True),
        (multiplexer, 2.0),
    ],
)
def test_truth_table_sizes_are_guarded(make, arg):
    with pytest.raises(DatasetError, match=make.__name__):
        make(arg)


# ------------------------------------------------------------ binarized tables


def test_binarize_thresholds_strictly_after_minmax_scaling():
    X = np.array([[0.0, 5.0], [2.0, 5.0], [4.0, 5.0], [3.0, 5.0]])
    # column 0 scales to 0, .5, 1, .75; column 1 is constant and scales to 0
    assert binarize(X).tolist() == [[0, 0], [0, 0], [1, 0], [1, 0]]
    assert binarize(X, 0.7)[:, 0].tolist() == [0, 0, 1, 1]
    assert binarize(X, 0.75)[:, 0].tolist() == [0, 0, 1, 0]


def test_binarize_levels_is_a_feature_major_thermometer():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    for k in (1, 2, 5):
        B = binarize(X, levels=k)
        assert B.shape == (50, 3 * k) and B.dtype == bool
        scaled = (X - X.min(0)) / (X.max(0) - X.min(0))
        for f in range(3):
            for i in range(k):
                np.testing.assert_array_equal(
                    B[:, f * k + i], scaled[:, f] > (i + 1) / (k + 1)
                )
            assert (np.diff(B[:, f * k : (f + 1) * k].astype(int), axis=1) <= 0).all()
    np.testing.assert_array_equal(binarize(X, levels=1), binarize(X))
    np.testing.assert_array_equal(
        binarize(X, levels=3), binarize(X, thresholds=[0.25, 0.5, 0.75])
    )


def test_binarize_with_given_bounds_or_no_scaling():
    train = np.array([[0.0], [10.0]])
    test = np.array([[-3.0], [4.0], [6.0], [12.0]])
    bounds = (train.min(0), train.max(0))
    assert binarize(test, bounds=bounds)[:, 0].tolist() == [0, 0, 1, 1]
    assert binarize(test, bounds=(0, 20))[:, 0].tolist() == [0, 0, 0, 1]
    unit = np.array([[0.2, 0.9], [0.6, 0.1]])
    assert binarize(unit, scale="none").tolist() == [[0, 1], [1, 0]]


@pytest.mark.parametrize(
    ("X", "kwargs", "words"),
    [
        (np.zeros(4), {}, "reshape"),
        (np.array([[1.0, np.nan]]), {}, "NaN"),
        (np.array([["a"]]), {}, "dtype"),
        (np.ones((2, 2)), {"scale": "zscore"}, "'minmax', 'none'"),
        (np.ones((2, 2)), {"thresholds": 0.3, "levels": 2}, "one of them"),
        (np.ones((2, 2)), {"thresholds": [0.6, 0.2]}, "increasing"),
        (np.ones((2, 2)), {"thresholds": []}, "non-empty"),
        (np.ones((2, 2)), {"levels": 0}, "at least 1"),
        (np.ones((2, 2)), {"levels": 1.5}, "positive int"),
        (np.ones((2, 2)), {"scale": "none", "bounds": (0, 1)}, "bounds"),
        (np.ones((2, 2)), {"bounds": (np.zeros(3), np.ones(3))}, "shape (2,)"),
        (np.ones((2, 2)), {"bounds": (1.0, 0.0)}, "lo <= hi"),
        (np.ones((0, 2)), {}, "no rows"),
    ],
)
def test_binarize_rejects_bad_input(X, kwargs, words):
    with pytest.raises(DatasetError, match="binarize") as info:
        binarize(X, **kwargs)
    assert words in str(info.value)


def test_one_hot_round_trips_and_checks_its_input():
    y = np.array([2, 0, 1, 2], dtype=np.int32)
    Y = one_hot(y, 3)
    assert Y.shape == (4, 3) and Y.dtype == bool
    assert (Y.sum(axis=1) == 1).all() and Y.argmax(axis=1).tolist() == y.tolist()
    assert one_hot(y, 5).shape == (4, 5)
    for bad, k in [(y, 2), (y.astype(float), 3), (y[:, None], 3), (y, 0)]:
        with pytest.raises(DatasetError, match="one_hot"):
            one_hot(bad, k)


def test_iris_binary_is_the_rda_papers_encoding():
    X, y = load_iris_binary()
    raw, labels = load_iris()
    raw = raw.astype(np.float64)
    lo, hi = raw.min(0), raw.max(0)
    assert X.shape == (150, 4) and X.dtype == bool and y.dtype == np.int32
    np.testing.assert_array_equal(X, (raw - lo) / (hi - lo) > 0.5)
    np.testing.assert_array_equal(y, labels)
    assert load_iris_binary(levels=3)[0].shape == (150, 12)


def test_iris_binary_two_classes_scale_over_the_kept_rows():
    X, y = load_iris_binary(classes=(0, 1))
    raw, labels = load_iris()
    kept = raw[labels < 2].astype(np.float64)
    expected = (kept - kept.min(0)) / (kept.max(0) - kept.min(0)) > 0.5
    np.testing.assert_array_equal(X, expected)
    assert y.tolist() == [0] * 50 + [1] * 50
    X, y = load_iris_binary(classes=(2, 0))
    assert y.tolist() == [1] * 50 + [0] * 50  # relabelled in the order given
    for bad in [(0,), (0, 0), (0, 3), (0, True), 1, ("setosa", "virginica")]:
        with pytest.raises(DatasetError, match="classes"):
            load_iris_binary(classes=bad)


def test_digits_and_breast_cancer_binary_shapes():
    datasets = pytest.importorskip("sklearn.datasets")
    for levels in (1, 2):
        X, y = load_digits_binary(levels=levels)
        assert X.shape == (1797, 64 * levels) and X.dtype == bool
        assert y.shape == (1797,) and y.dtype == np.int32
        X, y = load_breast_cancer_binary(levels=levels)
        assert X.shape == (569, 30 * levels) and X.dtype == bool
        assert y.shape == (569,) and y.dtype == np.int32
    digits = datasets.load_digits()
    np.testing.assert_array_equal(load_digits_binary()[0], digits.data > 8)
    cancer = datasets.load_breast_cancer().data
    lo, hi = cancer.min(0), cancer.max(0)
    np.testing.assert_array_equal(
        load_breast_cancer_binary()[0], (cancer - lo) / (hi - lo) > 0.5
    )
    with pytest.raises(DatasetError, match="levels"):
        load_digits_binary(levels=0)


def test_missing_scikit_learn_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    for load in (load_digits_binary, load_breast_cancer_binary):
        with pytest.raises(DatasetError, match="pip install scikit-learn"):
            load()
