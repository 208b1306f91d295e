"""The tabular evaluation protocol's core: data views, scoring, ensembling, search, models."""

import numpy as np
import pytest
import torch
import xgboost
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import log_loss as sklearn_log_loss

from papernotes import load_core

core = load_core("companions/tabular-deep-learning.py")


def toy_split(x, y, categorical=(), num_classes=2):
    third = len(x) // 3
    return core.TableSplit(x[:third], y[:third], x[third:2 * third], y[third:2 * third], x[2 * third:], y[2 * third:], num_classes, categorical)


def test_log_loss_equals_sklearn():
    rng = np.random.default_rng(1)
    proba = rng.dirichlet(np.ones(4), size=200)
    labels = rng.integers(0, 4, size=200)
    assert core.log_loss(proba, labels) == pytest.approx(sklearn_log_loss(labels, proba, labels=[0, 1, 2, 3]), rel=1e-12)


def test_log_loss_rejects_bad_input():
    with pytest.raises(ValueError, match="proba"):
        core.log_loss(np.ones((3, 2)) / 2, np.array([0, 1]))
    with pytest.raises(ValueError, match="y must hold labels"):
        core.log_loss(np.ones((2, 2)) / 2, np.array([0, 2]))


def test_ensemble_is_the_weighted_average():
    rng = np.random.default_rng(2)
    members = [rng.dirichlet(np.ones(3), size=20) for _ in range(3)]
    weights = [0.2, 0.5, 0.3]
    np.testing.assert_allclose(core.ensemble_proba(members, weights), np.average(np.stack(members), axis=0, weights=weights), rtol=1e-12)


@pytest.mark.parametrize(
    "probas, weights, match",
    [([], None, "at least one"), ([np.ones((2, 2)), np.ones((3, 2))], None, "one shape"), ([np.ones((2, 2))] * 2, [0.7, 0.7], "summing to 1"), ([np.ones((2, 2))] * 2, [1.5, -0.5], "non-negative")],
)
def test_ensemble_rejects_bad_input(probas, weights, match):
    with pytest.raises(ValueError, match=match):
        core.ensemble_proba(probas, weights)


def test_network_view_uses_training_statistics_only():
    rng = np.random.default_rng(3)
    x = np.column_stack([rng.normal(size=30), rng.integers(0, 3, size=30).astype(float)])
    x[[1, 4, 12, 25], 0] = np.nan
    split = toy_split(x, np.zeros(30, int), categorical=(1,))
    shifted = core.TableSplit(split.x_train, split.y_train, split.x_valid + 100, split.y_valid, split.x_test * 7, split.y_test, 2, (1,))
    np.testing.assert_array_equal(core.network_view(split).x_train, core.network_view(shifted).x_train)
    view = core.network_view(split)
    train_median = np.nanmedian(split.x_train[:, 0])
    filled = np.where(np.isnan(split.x_train[:, 0]), train_median, split.x_train[:, 0])
    np.testing.assert_allclose(view.x_train[:, 0], (filled - filled.mean()) / filled.std(), rtol=1e-9)
    assert view.categorical == () and np.isfinite(view.x_test).all()


def test_network_view_gives_unseen_category_no_level():
    x = np.array([[0.0, 0], [1.0, 1], [2.0, 0], [3.0, 5]])
    split = core.TableSplit(x[:3], np.zeros(3, int), x[:3], np.zeros(3, int), x[3:], np.zeros(1, int), 2, (1,))
    assert core.network_view(split).x_test[0, 1:].sum() == 0  # level 5 never appeared in training


def test_random_search_starts_at_the_defaults_and_keeps_the_best():
    seen = []

    def fit(x, y, num_classes, params, seed):
        seen.append(params)
        return lambda rows: np.tile([params["p"], 1 - params["p"]], (len(rows), 1))

    x = np.zeros((30, 1))
    y = np.zeros(30, int)  # class 0 always: larger p is better
    result = core.random_search(fit, {"p": [0.5, 0.6, 0.9, 0.99]}, toy_split(x, y), n_trials=8, seed=0)
    assert seen[0] == {"p": 0.5}
    assert result.valid_curve == sorted(result.valid_curve, reverse=True)
    assert result.best_params["p"] == max(s["p"] for s in seen)
    assert result.test_proba.shape == (10, 2) and len(result.fit_seconds) == 8
    again = core.random_search(fit, {"p": [0.5, 0.6, 0.9, 0.99]}, toy_split(x, y), n_trials=8, seed=0)
    assert again.valid_curve == result.valid_curve


def test_random_search_rejects_bad_input():
    with pytest.raises(ValueError, match="n_trials"):
        core.random_search(None, {"a": [1]}, None, n_trials=0, seed=0)
    with pytest.raises(ValueError, match="space"):
        core.random_search(None, {"a": []}, None, n_trials=1, seed=0)


def test_fit_xgboost_equals_xgboost_train():
    x, y = load_breast_cancer(return_X_y=True)
    params = dict(n_estimators=30, max_depth=3, learning_rate=0.1, subsample=0.8, colsample_bytree=0.8, min_child_weight=1.0, reg_lambda=1.0)
    ours = core.fit_xgboost(x, y, 2, params, seed=3)(x)[:, 1]
    booster_params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.1, "subsample": 0.8, "colsample_bytree": 0.8,
                      "min_child_weight": 1.0, "lambda": 1.0, "tree_method": "hist", "nthread": 1, "seed": 3}
    booster = xgboost.train(booster_params, xgboost.DMatrix(x, label=y), num_boost_round=30)
    np.testing.assert_allclose(ours, booster.predict(xgboost.DMatrix(x)), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("kind", ["mlp", "resnet"])
def test_networks_shape_and_learning(kind):
    net = core.make_network(kind, 7, 3, width=16, depth=2, dropout=0.1).eval()
    assert net(torch.randn(5, 7)).shape == (5, 3)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 4))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    params = dict(width=32, depth=2, dropout=0.0, lr=1e-2, weight_decay=0.0, epochs=30)
    proba = core.fit_network(kind, x, y, 2, params, seed=0)(x)
    assert proba.shape == (300, 2) and np.allclose(proba.sum(axis=1), 1)
    assert (proba.argmax(axis=1) == y).mean() > 0.95


def test_make_network_rejects_unknown_kind():
    with pytest.raises(ValueError, match="kind must be"):
        core.make_network("tabnet", 3, 2, 8, 1, 0.0)


def test_fit_xgboost_needs_every_class():
    with pytest.raises(ValueError, match="every class"):
        core.fit_xgboost(np.zeros((4, 2)), np.array([0, 2, 0, 2]), 3, {"n_estimators": 2}, seed=0)
