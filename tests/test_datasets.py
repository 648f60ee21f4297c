"""Bundled tables and deterministic splits."""

import numpy as np
import pytest

import catlearn as cl
from catlearn.datasets import (
    IRIS_CLASSES,
    IRIS_FEATURES,
    DatasetError,
    load_iris,
    train_test_split,
)


def test_iris_shapes_dtypes_and_classes():
    X, y = load_iris()
    assert X.shape == (150, len(IRIS_FEATURES)) and X.dtype == np.float32
    assert y.shape == (150,) and y.dtype == np.int32
    assert np.bincount(y).tolist() == [50] * len(IRIS_CLASSES)
    assert np.isfinite(X).all() and (X > 0).all()


def test_iris_matches_known_values():
    X, y = load_iris()
    np.testing.assert_allclose(X[0], [5.1, 3.5, 1.4, 0.2], rtol=1e-6)
    np.testing.assert_allclose(X[-1], [5.9, 3.0, 5.1, 1.8], rtol=1e-6)
    means = [5.8433, 3.0573, 3.758, 1.1993]
    np.testing.assert_allclose(X.mean(axis=0), means, atol=1e-3)
    assert (y[:50] == 0).all() and (y[50:100] == 1).all() and (y[100:] == 2).all()


def test_iris_matches_scikit_learn_copy():
    datasets = pytest.importorskip("sklearn.datasets")
    reference = datasets.load_iris()
    X, y = load_iris()
    np.testing.assert_array_equal(X, reference.data.astype(np.float32))
    np.testing.assert_array_equal(y, reference.target)


def test_iris_arrays_are_fresh_copies():
    X, _ = load_iris()
    X[0, 0] = -1.0
    assert load_iris()[0][0, 0] == np.float32(5.1)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_split_is_deterministic_and_a_partition(seed):
    X, y = load_iris()
    ids = np.arange(150)
    a = train_test_split(ids, y, seed=seed)
    b = train_test_split(ids, y, seed=seed)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    train_ids, test_ids, y_train, y_test = a
    assert sorted(np.concatenate([train_ids, test_ids]).tolist()) == ids.tolist()
    np.testing.assert_array_equal(y[train_ids], y_train)
    np.testing.assert_array_equal(y[test_ids], y_test)


def test_split_seeds_differ():
    X, y = load_iris()
    assert not np.array_equal(
        train_test_split(X, y, seed=0)[1], train_test_split(X, y, seed=1)[1]
    )


def test_stratified_split_keeps_class_proportions():
    X, y = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.2)
    assert np.bincount(y_test).tolist() == [10, 10, 10]
    assert np.bincount(y_train).tolist() == [40, 40, 40]
    assert X_train.shape == (120, 4) and X_test.shape == (30, 4)


def test_unstratified_split_sizes():
    X, y = load_iris()
    _, X_test, _, y_test = train_test_split(X, y, test_fraction=0.1, stratify=False)
    assert X_test.shape == (15, 4) and y_test.shape == (15,)


def test_split_does_not_modify_inputs():
    X, y = load_iris()
    X0, y0 = X.copy(), y.copy()
    train_test_split(X, y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_split_length_mismatch_names_both_shapes():
    X, y = load_iris()
    with pytest.raises(cl.ShapeError, match=r"\(150, 4\).*\(149,\).*Fix"):
        train_test_split(X, y[:-1])


@pytest.mark.parametrize("bad", [0, 1, -0.5, 1.5, "0.3"])
def test_split_rejects_bad_fraction(bad):
    X, y = load_iris()
    with pytest.raises(DatasetError, match="test_fraction.*Fix"):
        train_test_split(X, y, test_fraction=bad)


def test_split_rejects_empty_side_and_one_hot_stratify():
    X, y = load_iris()
    with pytest.raises(DatasetError, match="at least one"):
        train_test_split(X[:3], y[:3], test_fraction=0.1)
    one_hot = np.eye(3, dtype=np.int32)[y]
    with pytest.raises(DatasetError, match="argmax"):
        train_test_split(X, one_hot)
    assert isinstance(DatasetError("x"), cl.CatlearnError)
