# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Tabular data: XGBoost against deep models, under one tuning protocol
#
# Companion to the note [Tabular Data: Deep Learning is Not All You
# Need](../../notes/misc/tabular-deep-learning/) (Shwartz-Ziv & Armon, Information Fusion 2022).
# The paper is an evaluation, not a method: it tunes XGBoost and four deep tabular models with
# the same search on eleven data sets and compares their test losses, their ensembles, and how
# much tuning each needs. This companion runs that protocol at laptop scale: XGBoost, an MLP and
# a small tabular ResNet, on two of scikit-learn's bundled tables and on a generated table with
# categorical features and missing values, with the same random-search budget for every model
# and three seeds. What small bundled data cannot say about the paper's data sets is listed at
# the end.

# %% [markdown]
# ## Setup
#
# One thread and fixed seeds, so that every printed number is the same on every run.
# `n_jobs=1` for XGBoost and scikit-learn as well.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_wine, make_classification
from sklearn.model_selection import train_test_split

from papernotes import ClaimLedger, Effect, NotCheckable, configure

configure(seed=0, threads=1)

# %% [markdown]
# ## Method (the core)
#
# The paper's evaluation has four parts, which are the core here: (1) each model gets the data in
# the form it needs, (2) each model is tuned by the same search with the same budget on a
# validation split, (3) models are scored by their test cross-entropy, and (4) tuned models are
# ensembled by averaging their predicted class probabilities.
#
# **Two views of one table.** Trees split on raw values, so XGBoost gets the table as it is:
# missing values stay `NaN` (XGBoost learns a default direction for them at every split) and a
# categorical feature stays one integer column. A network needs finite, scaled numbers: missing
# values are replaced by the training median plus a 0/1 indicator column, categories are one-hot
# encoded, and numeric columns are standardised, $\tilde x_j = (x_j - \mu_j)/\sigma_j$, with
# $\mu_j, \sigma_j$ from the training rows only.

# %%
# --8<-- [start:core]
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class TableSplit:
    """A classification table split into train / validation / test rows.

    ``categorical`` lists the columns that hold integer category codes (0 .. levels-1);
    the other columns are numeric. ``NaN`` marks a missing value.
    """

    x_train: np.ndarray  # (N_train, F) float64
    y_train: np.ndarray  # (N_train,) int64
    x_valid: np.ndarray  # (N_valid, F)
    y_valid: np.ndarray
    x_test: np.ndarray  # (N_test, F)
    y_test: np.ndarray
    num_classes: int
    categorical: tuple[int, ...] = ()


def network_view(split: TableSplit) -> TableSplit:
    """The table as a network needs it: median-imputed with missing indicators, one-hot, standardised.

    Every statistic (medians, category levels, mean, std) comes from the training rows.
    """
    numeric = [j for j in range(split.x_train.shape[1]) if j not in split.categorical]
    medians = np.nanmedian(split.x_train[:, numeric], axis=0)  # (F_num,)
    with_missing = [j for j in numeric if np.isnan(split.x_train[:, j]).any()]
    levels = {j: np.unique(split.x_train[~np.isnan(split.x_train[:, j]), j]) for j in split.categorical}

    def encode(x):
        filled = np.where(np.isnan(x[:, numeric]), medians, x[:, numeric])  # (N, F_num)
        indicators = np.isnan(x[:, with_missing]).astype(np.float64)  # (N, F_missing)
        one_hots = [(x[:, [j]] == levels[j][None, :]).astype(np.float64) for j in split.categorical]  # (N, L_j) each
        return filled, np.concatenate([indicators, *one_hots], axis=1)

    filled_train, _ = encode(split.x_train)
    mean, std = filled_train.mean(axis=0), filled_train.std(axis=0) + 1e-12  # (F_num,)

    def transform(x):
        filled, flags = encode(x)
        return np.concatenate([(filled - mean) / std, flags], axis=1)  # (N, F_num + F_missing + sum L_j)

    return replace(
        split, x_train=transform(split.x_train), x_valid=transform(split.x_valid), x_test=transform(split.x_test), categorical=()
    )
# --8<-- [end:core]

# %% [markdown]
# **The models.** XGBoost is a sum of $M$ regression trees fitted by Newton boosting on the
# cross-entropy, $\hat p(y\mid x) = \operatorname{softmax}\big(\sum_{m=1}^{M} \eta\, f_m(x)\big)$,
# with learning rate $\eta$. The paper's four deep models (TabNet, NODE, DNF-Net, a 1D-CNN) are
# not in any installed package; we use the two deep baselines that later work found hardest to
# beat (Gorishniy et al., 2021): an MLP, $h_{l+1} = \mathrm{Dropout}(\mathrm{ReLU}(W_l h_l + b_l))$,
# and a ResNet whose blocks add
# $\mathrm{Dropout}(W_2\,\mathrm{Dropout}(\mathrm{ReLU}(W_1 \mathrm{BN}(h))))$ to $h$ (with
# $W_1$ square, where Gorishniy et al. double the width inside the block).
# Both are trained with Adam on the cross-entropy in minibatches of 128.

# %%
# --8<-- [start:core-models]
import numpy as np
import torch
import torch.nn.functional as F
import xgboost
from torch import nn


def fit_xgboost(x: np.ndarray, y: np.ndarray, num_classes: int, params: dict, seed: int):
    """Fit XGBoost (hist trees, one thread) and return ``predict_proba``: (N, F) -> (N, num_classes)."""
    if not np.array_equal(np.unique(y), np.arange(num_classes)):  # else XGBoost predicts fewer columns
        raise ValueError(f"y must contain every class 0..{num_classes - 1}, got {np.unique(y).tolist()}")
    model = xgboost.XGBClassifier(**params, tree_method="hist", n_jobs=1, random_state=seed)
    model.fit(x, y)
    return model.predict_proba


class ResidualBlock(nn.Module):
    def __init__(self, width: int, dropout: float):
        super().__init__()
        self.norm, self.inner, self.outer = nn.BatchNorm1d(width), nn.Linear(width, width), nn.Linear(width, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, h):  # (B, width)
        update = self.dropout(F.relu(self.inner(self.norm(h))))  # (B, width)
        return h + self.dropout(self.outer(update))  # (B, width)


def make_network(kind: str, in_features: int, num_classes: int, width: int, depth: int, dropout: float) -> nn.Module:
    """An MLP or a tabular ResNet (Gorishniy et al., 2021) with ``depth`` hidden layers / blocks.

    Deviation: the ResNet block's inner layer has ``width`` units, not Gorishniy et al.'s 2 x width,
    to halve its CPU time.
    """
    if kind == "mlp":
        layers, size = [], in_features
        for _ in range(depth):
            layers += [nn.Linear(size, width), nn.ReLU(), nn.Dropout(dropout)]  # (B, width)
            size = width
        return nn.Sequential(*layers, nn.Linear(size, num_classes))  # (B, num_classes)
    if kind == "resnet":
        blocks = [ResidualBlock(width, dropout) for _ in range(depth)]
        head = [nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, num_classes)]
        return nn.Sequential(nn.Linear(in_features, width), *blocks, *head)  # (B, num_classes)
    raise ValueError(f"kind must be 'mlp' or 'resnet', got {kind!r}")


def fit_network(kind: str, x: np.ndarray, y: np.ndarray, num_classes: int, params: dict, seed: int):
    """Train ``make_network(kind, ...)`` with Adam for ``params['epochs']``; return ``predict_proba``."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    net = make_network(kind, x.shape[1], num_classes, params["width"], params["depth"], params["dropout"])
    opt = torch.optim.Adam(net.parameters(), lr=params["lr"], weight_decay=params["weight_decay"])
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.int64)  # (N, F), (N,)
    net.train()
    for _ in range(params["epochs"]):
        order = torch.randperm(len(xt), generator=generator)
        for batch in order.split(128):
            if len(batch) < 2 and kind == "resnet":
                continue  # BatchNorm cannot normalise a single row
            loss = F.cross_entropy(net(xt[batch]), yt[batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    net.eval()

    def predict_proba(x_new: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            logits = net(torch.as_tensor(x_new, dtype=torch.float32))  # (N, num_classes)
        return torch.softmax(logits.double(), dim=1).numpy()

    return predict_proba
# --8<-- [end:core-models]

# %% [markdown]
# **Scoring and ensembling.** The paper reports the cross-entropy (log-loss) on the test rows,
# $\ell = -\frac1N\sum_i \log \hat p(y_i \mid x_i)$. Its ensembles average the members' predicted
# probabilities, $\hat p_{\text{ens}} = \sum_k w_k \hat p_k$ with $\sum_k w_k = 1$; we use
# equal weights.

# %%
# --8<-- [start:core-score]
import numpy as np

PROBABILITY_FLOOR = np.finfo(np.float64).eps  # as scikit-learn's log_loss: one 0 would make the mean infinite


def log_loss(proba: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy of class probabilities ``proba`` (N, C) against integer labels ``y`` (N,)."""
    proba, y = np.asarray(proba, dtype=np.float64), np.asarray(y)
    if proba.ndim != 2 or len(proba) != len(y):
        raise ValueError(f"proba must be (N, C) with N = len(y) = {len(y)}, got shape {proba.shape}")
    if y.min() < 0 or y.max() >= proba.shape[1]:
        raise ValueError(f"y must hold labels in 0..{proba.shape[1] - 1}, got {y.min()}..{y.max()}")
    picked = proba[np.arange(len(y)), y]  # (N,)
    return float(-np.log(np.maximum(picked, PROBABILITY_FLOOR)).mean())


def ensemble_proba(probas: list[np.ndarray], weights: list[float] | None = None) -> np.ndarray:
    """Weighted average of members' class probabilities (equal weights by default): (N, C)."""
    if not probas:
        raise ValueError("probas must hold at least one member's (N, C) probabilities")
    if any(p.shape != probas[0].shape for p in probas):
        raise ValueError(f"probas must all have one shape, got {[p.shape for p in probas]}")
    weights = np.full(len(probas), 1 / len(probas)) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(weights) != len(probas) or (weights < 0).any() or not np.isclose(weights.sum(), 1.0):
        raise ValueError(f"weights must be {len(probas)} non-negative numbers summing to 1, got {weights.tolist()}")
    return np.tensordot(weights, np.stack(probas), axes=1)  # (K,) . (K, N, C) -> (N, C)
# --8<-- [end:core-score]

# %% [markdown]
# **One tuning protocol for every model.** The paper tunes every model with the same search on a
# validation split; summaries of the paper name the search as HyperOpt. We use the simplest
# search with the same property, random search over a grid. Trial 0 is the default
# configuration: the library's for XGBoost, and a common starting point for the networks (the
# first value of each list). Trials $1 \dots T-1$ draw every hyperparameter uniformly from its
# list. The configuration with the lowest validation log-loss is kept, its model scores the test
# rows, and the running best validation loss after each trial is the *tuning curve*. Each fit's
# CPU time (`time.process_time`, which a busy machine does not inflate) is recorded.

# %%
# --8<-- [start:core-search]
import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SearchResult:
    best_params: dict
    valid_curve: list[float]  # running best validation log-loss after each trial
    test_proba: np.ndarray  # (N_test, C) of the best configuration
    fit_seconds: list[float]  # CPU seconds of each trial's fit


def random_search(fit, space: dict[str, list], split, n_trials: int, seed: int) -> SearchResult:
    """Tune ``fit(x, y, num_classes, params, seed) -> predict_proba`` on ``split``'s validation rows.

    Trial 0 takes the first value of every list in ``space`` (the defaults); the others sample
    each list uniformly. Deviation from the paper: random search instead of HyperOpt's TPE.
    """
    if n_trials < 1:
        raise ValueError(f"n_trials must be >= 1, got {n_trials!r}")
    if not space or any(not isinstance(v, list) or not v for v in space.values()):
        raise ValueError(f"space must map each hyperparameter to a non-empty list of values, got {space!r}")
    rng = np.random.default_rng(seed)
    best, curve, seconds = None, [], []
    for trial in range(n_trials):
        params = {k: (v[0] if trial == 0 else v[rng.integers(len(v))]) for k, v in space.items()}
        start = time.process_time()
        predict_proba = fit(split.x_train, split.y_train, split.num_classes, params, seed)
        seconds.append(time.process_time() - start)
        loss = log_loss(predict_proba(split.x_valid), split.y_valid)
        if best is None or loss < best[0]:
            best = (loss, params, predict_proba)
        curve.append(best[0])
    return SearchResult(best[1], curve, best[2](split.x_test), seconds)
# --8<-- [end:core-search]

# %% [markdown]
# The search spaces: the first value of each list is the default (XGBoost's own defaults; for
# the networks a common starting point). Every model gets the same number of trials.

# %%
XGBOOST_SPACE = {
    "n_estimators": [100, 50, 200, 400],
    "max_depth": [6, 2, 3, 4, 8],
    "learning_rate": [0.3, 0.03, 0.1],
    "subsample": [1.0, 0.6, 0.8],
    "colsample_bytree": [1.0, 0.5, 0.8],
    "min_child_weight": [1.0, 3.0, 10.0],
    "reg_lambda": [1.0, 0.1, 10.0],
}
NETWORK_SPACE = {
    "width": [64, 32, 128],
    "depth": [2, 1, 3],
    "dropout": [0.0, 0.1, 0.3],
    "lr": [1e-3, 3e-4, 3e-3],
    "weight_decay": [0.0, 1e-5, 1e-3],
    "epochs": [40, 20, 80],
}
MODELS = {
    "XGBoost": (fit_xgboost, XGBOOST_SPACE),
    "MLP": (lambda *a: fit_network("mlp", *a), NETWORK_SPACE),
    "ResNet": (lambda *a: fit_network("resnet", *a), NETWORK_SPACE),
}

# %% [markdown]
# ## Checks against references
#
# **Log-loss** against scikit-learn's `log_loss`, including probabilities of exactly 0 and 1.

# %%
from sklearn.metrics import log_loss as sklearn_log_loss

rng = np.random.default_rng(0)
proba = rng.dirichlet(np.ones(3), size=50)  # (50, 3)
proba[0] = [1.0, 0.0, 0.0]
labels = rng.integers(0, 3, size=50)
labels[0] = 1  # the true class got probability 0
assert np.isclose(log_loss(proba, labels), sklearn_log_loss(labels, proba, labels=[0, 1, 2]), rtol=1e-12)
print(f"log_loss == sklearn log_loss on {len(labels)} rows of 3 classes, one with probability 0")

# %% [markdown]
# **The ensemble** is a weighted mean: equal weights equal `np.mean`, and a one-hot weight
# vector returns that member.

# %%
members = [rng.dirichlet(np.ones(3), size=50) for _ in range(3)]
np.testing.assert_allclose(ensemble_proba(members), np.mean(members, axis=0), rtol=1e-12)
np.testing.assert_array_equal(ensemble_proba(members, [0.0, 1.0, 0.0]), members[1])
print("ensemble_proba == mean of members; one-hot weights pick the member")

# %% [markdown]
# **The network view** against a brute-force loop: every imputed value is the training median,
# every indicator marks a missing entry, and each one-hot block has exactly one 1 per row (a
# level unseen in training would give none).

# %%
table = np.array([[1.0, 0, 5.0], [np.nan, 1, 7.0], [3.0, 2, np.nan], [4.0, 1, 6.0], [np.nan, 0, 9.0]])
toy = TableSplit(table, np.zeros(5, int), table[:2], np.zeros(2, int), table[2:], np.zeros(3, int), 2, categorical=(1,))
view = network_view(toy).x_train  # (5, 2 numeric + 2 indicators + 3 levels)
for j, column in ((0, 0), (2, 1)):
    filled = np.where(np.isnan(table[:, j]), np.nanmedian(table[:, j]), table[:, j])
    np.testing.assert_allclose(view[:, column], (filled - filled.mean()) / filled.std(), rtol=1e-9)
np.testing.assert_array_equal(view[:, 2:4], np.isnan(table[:, [0, 2]]))
np.testing.assert_array_equal(view[:, 4:].argmax(axis=1), table[:, 1])
assert (view[:, 4:].sum(axis=1) == 1).all()
print(f"network view: {table.shape} -> {view.shape}; imputation, indicators, one-hot as brute force")

# %% [markdown]
# ## Baseline (timm)
#
# timm has no tabular models. The reference points here are scikit-learn's untuned
# `HistGradientBoostingClassifier` (another gradient-boosted tree library, which also takes
# `NaN` natively) and a `LogisticRegression` on the network view. The data sets: breast cancer
# (569 rows, 30 numeric features, 2 classes) and wine (178 rows, 13 features, 3 classes) from
# scikit-learn, and a generated table of 1,000 rows where 4 of 12 features are turned into
# categories with shuffled (non-ordinal) codes and 15% of the entries of 6 columns are missing,
# the irregularities the paper names as hard for networks.
#
# The baselines follow the same data protocol as the tuned models: they are fitted on the
# training rows only (the validation rows are what the tuned models spend on their search), and
# scored on the same test rows.

# %%
def generated_mixed_table(seed: int) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    rng = np.random.default_rng(seed)
    x, y = make_classification(n_samples=1000, n_features=12, n_informative=6, n_redundant=2, flip_y=0.03, random_state=seed)
    categorical = (0, 1, 2, 3)
    for j in categorical:  # bin into 3..6 levels, then shuffle the codes so their order means nothing
        levels = 3 + j
        bins = np.quantile(x[:, j], np.linspace(0, 1, levels + 1)[1:-1])
        x[:, j] = rng.permutation(levels)[np.digitize(x[:, j], bins)]
    missing = rng.random((len(x), 6)) < 0.15
    x[:, 6:][missing] = np.nan
    return x, y, categorical


def load_table(name: str, seed: int) -> TableSplit:
    """60/20/20 stratified split of a table; the split changes with ``seed``."""
    if name == "mixed (generated)":
        x, y, categorical = generated_mixed_table(seed)
    else:
        x, y = {"breast cancer": load_breast_cancer, "wine": load_wine}[name](return_X_y=True)
        categorical = ()
    x_fit, x_test, y_fit, y_test = train_test_split(x, y, test_size=0.2, random_state=seed, stratify=y)
    x_train, x_valid, y_train, y_valid = train_test_split(x_fit, y_fit, test_size=0.25, random_state=seed, stratify=y_fit)
    return TableSplit(x_train, y_train, x_valid, y_valid, x_test, y_test, int(y.max()) + 1, categorical)


DATASETS = ["breast cancer", "wine", "mixed (generated)"]
for name in DATASETS:
    split = load_table(name, seed=0)
    print(f"{name:18} train/valid/test {len(split.x_train)}/{len(split.x_valid)}/{len(split.x_test)}, "
          f"{split.x_train.shape[1]} columns -> {network_view(split).x_train.shape[1]} for networks, "
          f"{int(np.isnan(split.x_train).sum())} missing training entries")

# %%
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

baseline_loss = {}
for name in DATASETS:
    split = load_table(name, seed=0)
    dense = network_view(split)
    hgb = HistGradientBoostingClassifier(random_state=0, categorical_features=list(split.categorical) or None)
    hgb.fit(split.x_train, split.y_train)  # training rows only, as every tuned model
    logistic = LogisticRegression(max_iter=2000).fit(dense.x_train, dense.y_train)
    baseline_loss[name] = (log_loss(hgb.predict_proba(split.x_test), split.y_test), log_loss(logistic.predict_proba(dense.x_test), dense.y_test))
    print(f"{name:18} test log-loss: HistGradientBoosting {baseline_loss[name][0]:.3f}, logistic regression {baseline_loss[name][1]:.3f}")
assert all(np.isfinite(v).all() for v in baseline_loss.values())

# %% [markdown]
# ## Claims
#
# The register below declares every claim before anything is measured. The paper's abstract
# (arXiv v2, November 2021; the June 2021 v1 abstract makes the same three claims) says that
# XGBoost outperforms the deep models across the data sets, that XGBoost requires much less
# tuning, and that an ensemble of the deep models and XGBoost beats XGBoost alone. Those are
# C1, C3 and C2. C7 is the ensemble finding in its sharper form: XGBoost is worth adding to an
# ensemble of deep models. We could not re-read the paper's results section, so C7's source is
# second-hand and named as such. C5 needs the paper's own data sets and models.
#
# Each effect is tested on three seeds. A seed re-splits every table and re-seeds every search
# and every network. C1 says "across the data sets", so its statistic is XGBoost's margin on
# the table where that margin is smallest: XGBoost must win on every table. The ensemble and
# tuning claims (C2, C3, C7) are about the data sets taken together, so their statistic is the
# average over the three tables for that seed. The line is the one the paper's wording draws:
# "outperforms", "better than" and "less tuning" all mean a difference above zero, and the paper
# states no margin. A tie is not "better", so the line is strictly positive: 1e-6, in nats for
# the losses and as a fraction for the tuning gains. An effect counts as reproduced only if it
# clears the line on all three seeds.
#
# Retired IDs: C4 ("XGBoost trains more than 10x faster") and C6 (an ensemble of classical
# models does worse) came from reading notes. No version of the paper we could read supports
# them, so both are dropped, and their IDs are not used again.

# %%
ledger = ClaimLedger("tabular-deep-learning")
SEEDS, N_TRIALS = (0, 1, 2), 6
# "Better" and "less" are strict: a tie must not pass. 1e-6 is above float64 rounding in a mean of
# a few hundred log-losses (about 1e-16 relative) and far below any difference the paper reports.
BETTER = 1e-6
SETUP = (
    "breast cancer, wine and a generated mixed table (178-1,000 rows), split 60/20/20 by the seed; XGBoost, an MLP "
    f"and a ResNet, each tuned by {N_TRIALS} random-search trials on the validation rows and scored by test log-loss; "
    "ensembles average the tuned members' probabilities with equal weights"
)
ledger.declare(
    "C1", "XGBoost outperforms the deep models across the data sets",
    where="arXiv v2 (Nov 2021), Abstract",
    paper="'XGBoost outperforms these deep models across the datasets'",
    test=Effect(
        statistic="XGBoost's smallest margin over the tables: on each table, the better deep model's test log-loss "
        "minus XGBoost's; the smallest of the 3 (nats)",
        at_least=BETTER, seeds=SEEDS, setup=SETUP,
    ),
    fmt="{:+.3f}",
)
ledger.declare(
    "C2", "An ensemble of the deep models and XGBoost performs better than XGBoost alone",
    where="arXiv v2 (Nov 2021), Abstract",
    paper="'an ensemble of deep models and XGBoost performs better on these datasets than XGBoost alone'",
    test=Effect(
        statistic="XGBoost's test log-loss minus that of the XGBoost+MLP+ResNet ensemble, averaged over the 3 tables (nats)",
        at_least=BETTER, seeds=SEEDS, setup=SETUP,
    ),
    fmt="{:+.3f}",
)
ledger.declare(
    "C3", "Tuning gains XGBoost less than the deep models: a search improves less on its default configuration",
    where="arXiv v2 (Nov 2021), Abstract",
    paper="'XGBoost requires much less tuning' (the abstract gives no measure of tuning, and no number for 'much'; "
    "our line asks only for 'less')",
    test=Effect(
        statistic="how much less XGBoost gains from tuning: the lower of the two deep models' tuning gains minus XGBoost's, "
        f"a tuning gain being 1 - (best validation log-loss after {N_TRIALS} trials) / (trial 0's), averaged over the 3 tables",
        at_least=BETTER, seeds=SEEDS,
        setup=SETUP + "; trial 0 is XGBoost's library defaults and, for the networks, our own starting point (width 64, "
        "depth 2, no dropout, lr 1e-3, no weight decay, 40 epochs), so the gain also measures how good each default is",
    ),
    fmt="{:+.3f}",
)
ledger.declare(
    "C5", "XGBoost outperforms the deep models even on the data sets used in the papers that proposed them",
    where="arXiv v2 (Nov 2021), Abstract",
    paper="'including the datasets used in the papers that proposed the deep models'",
    test=NotCheckable(
        "needs the deep models' own data sets (downloads from OpenML and Kaggle, up to about a million rows) and the four "
        "deep models (TabNet, NODE, DNF-Net, 1D-CNN), which no installed package provides"
    ),
)
ledger.declare(
    "C7", "Adding XGBoost to an ensemble of the deep models improves it: XGBoost plus the deep models beats the deep models alone",
    where="arXiv v1 (June 2021), ensemble results; second-hand, from M. Clark's 2021 review of v1 (m-clark.github.io), "
    "not re-read in the paper",
    paper="the ensemble that includes XGBoost is the best model; the review reads the ensembles as 'XGBoost + DL was best'",
    test=Effect(
        statistic="test log-loss of the MLP+ResNet ensemble minus that of the XGBoost+MLP+ResNet ensemble, averaged over "
        "the 3 tables (nats)",
        at_least=BETTER, seeds=SEEDS, setup=SETUP,
    ),
    fmt="{:+.3f}",
)
print(f"claims ledger for {ledger.paper!r}: C1, C2, C3, C5, C7 declared")

# %% [markdown]
# ## Small experiment
#
# Every model runs on every data set for each seed: a random search of 6 trials, then the
# test log-loss of the best configuration, then the ensembles of the tuned models.

# %%
results = {}  # (dataset, seed, model) -> SearchResult
for name in DATASETS:
    for seed in SEEDS:
        split = load_table(name, seed)
        views = {"XGBoost": split, "MLP": network_view(split), "ResNet": network_view(split)}
        for model, (fit, space) in MODELS.items():
            results[name, seed, model] = random_search(fit, space, views[model], N_TRIALS, seed)
print(f"{len(results)} searches of {N_TRIALS} trials: {len(results) * N_TRIALS} fits")

# %% [markdown]
# The table shows the test log-loss of each model and of three ensembles: XGBoost with both deep
# models, the two deep models alone, and XGBoost with the MLP. As in the paper, each entry is
# also turned into a *relative deterioration*,
# $(\ell - \ell_{\text{best}})/\ell_{\text{best}}$, where $\ell_{\text{best}}$ is the best of all
# columns on that data set and seed, and then averaged. Wine's best loss is tiny (about 0.02), so
# this ratio blows up there; read it together with the table above it.

# %%
DEEP = ("MLP", "ResNet")
ENSEMBLES = {"XGB+MLP+ResNet": ("XGBoost", "MLP", "ResNet"), "MLP+ResNet": DEEP, "XGB+MLP": ("XGBoost", "MLP")}
COLUMNS = list(MODELS) + list(ENSEMBLES)
test_loss = {}  # (dataset, seed, column) -> log-loss
for name in DATASETS:
    for seed in SEEDS:
        y_test = load_table(name, seed).y_test
        for model in MODELS:
            test_loss[name, seed, model] = log_loss(results[name, seed, model].test_proba, y_test)
        for label, members in ENSEMBLES.items():
            test_loss[name, seed, label] = log_loss(ensemble_proba([results[name, seed, m].test_proba for m in members]), y_test)
mean_loss = {(name, col): np.mean([test_loss[name, s, col] for s in SEEDS]) for name in DATASETS for col in COLUMNS}
deterioration = {col: np.mean([test_loss[n, s, col] / min(test_loss[n, s, c] for c in COLUMNS) - 1 for n in DATASETS for s in SEEDS]) for col in COLUMNS}
print(f"{'mean test log-loss':18} " + " ".join(f"{c:>14}" for c in COLUMNS))
for name in DATASETS:
    print(f"{name:18} " + " ".join(f"{mean_loss[name, c]:>14.3f}" for c in COLUMNS))
print(f"{'rel. deterioration':18} " + " ".join(f"{deterioration[c]:>14.0%}" for c in COLUMNS))

# %% [markdown]
# **C1, C2, C7: test losses.** Each claim compares columns of the table above, one seed at a
# time. For C1 the margin of XGBoost over the better of the two networks is taken on each table,
# and the smallest of the three is the seed's value: one table where a network wins is enough to
# contradict "across the data sets". For C2 and C7 the three tables' test log-losses are first
# averaged per column for that seed, then the declared difference is taken. The note on each
# claim gives the per-table means behind it.

# %%
def seed_mean(seed: int, column: str) -> float:
    """Test log-loss of ``column`` on ``seed``, averaged over the data sets."""
    return float(np.mean([test_loss[name, seed, column] for name in DATASETS]))


def table_means(*columns: str) -> str:
    return "; ".join(f"{n}: " + ", ".join(f"{c} {mean_loss[n, c]:.3f}" for c in columns) for n in DATASETS)


def xgboost_margin(name: str, seed: int) -> float:
    """The better deep model's test log-loss minus XGBoost's, on one table and seed (> 0: XGBoost wins)."""
    return min(test_loss[name, seed, deep] for deep in DEEP) - test_loss[name, seed, "XGBoost"]


wins = {name: sum(xgboost_margin(name, s) >= BETTER for s in SEEDS) for name in DATASETS}
ledger.measure(
    "C1", [min(xgboost_margin(name, s) for name in DATASETS) for s in SEEDS],
    note="seeds on which XGBoost beats both networks, " + ", ".join(f"{n}: {k} of {len(SEEDS)}" for n, k in wins.items())
    + "; mean test log-loss over seeds, " + table_means("XGBoost", *DEEP),
)
ledger.measure(
    "C2", [seed_mean(s, "XGBoost") - seed_mean(s, "XGB+MLP+ResNet") for s in SEEDS],
    note="mean test log-loss over seeds, " + table_means("XGBoost", "XGB+MLP+ResNet"),
)
ledger.measure(
    "C7", [seed_mean(s, "MLP+ResNet") - seed_mean(s, "XGB+MLP+ResNet") for s in SEEDS],
    note="mean test log-loss over seeds, " + table_means("MLP+ResNet", "XGB+MLP+ResNet"),
)

# %% [markdown]
# **C3: tuning.** How much does the search improve on the default configuration? For each search
# we take the relative drop of the best validation loss from trial 0 (the defaults) to the end
# of the budget. A model that "requires much less tuning" gains little from the search, and its
# tuning curve flattens early. This measures the defaults as much as the search. XGBoost's
# trial 0 is its library's defaults, which years of use have tuned; the networks' trial 0 is
# a common starting point we chose. So C3 is worded as what we measure, the gain over each
# default, and not as a general statement about how hard each model is to tune. The paper says
# "much less tuning" but gives no number for "much", so the line asks only for less.

# %%
def tuning_gain(name: str, seed: int, model: str) -> float:
    """Relative drop of the best validation log-loss from trial 0 to the last trial."""
    curve = results[name, seed, model].valid_curve
    return 1 - curve[-1] / curve[0]


def seed_gain(seed: int, model: str) -> float:
    return float(np.mean([tuning_gain(name, seed, model) for name in DATASETS]))


gains = {model: np.mean([seed_gain(s, model) for s in SEEDS]) for model in MODELS}
print("validation loss gained by tuning over the defaults: " + ", ".join(f"{m} {g:.0%}" for m, g in gains.items()))
ledger.measure(
    "C3", [min(seed_gain(s, deep) - seed_gain(s, "XGBoost") for deep in DEEP) for s in SEEDS],
    note="mean tuning gain over tables and seeds: " + ", ".join(f"{m} {g:.1%}" for m, g in gains.items()),
)
fig, axes = plt.subplots(1, len(MODELS), figsize=(10, 2.6), sharey=True)
for ax, model in zip(axes, MODELS):
    for n in DATASETS:
        for s in SEEDS:
            curve = results[n, s, model].valid_curve
            ax.plot(range(1, N_TRIALS + 1), np.array(curve) / curve[0], color=f"C{DATASETS.index(n)}", alpha=0.7)
    ax.set(title=model, xlabel="trial")
axes[0].set_ylabel("best valid loss / default")
axes[-1].legend(handles=[plt.Line2D([], [], color=f"C{i}", label=n) for i, n in enumerate(DATASETS)], fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# **Time, as an observation and not a claim.** An earlier version of this page said XGBoost
# trains more than ten times faster than the deep models. That came from reading notes, not from
# the paper, so it was dropped (the retired C4). The abstract only says that the study
# "consider[s] the tuning and computation they require". For the record, here are the CPU
# seconds per fit, averaged over every trial of every search with one thread each. The ratio
# depends on how many epochs and trees the search spaces allow.

# %%
# NBVAL_IGNORE_OUTPUT
tuning_seconds = {m: sum(sum(results[n, s, m].fit_seconds) for n in DATASETS for s in SEEDS) for m in MODELS}
for model, total in tuning_seconds.items():
    print(f"{model:8} {total / (len(DATASETS) * len(SEEDS) * N_TRIALS) * 1000:7.1f} ms per fit, {total:5.1f} s for all its searches")

# %%
ledger.show()

# %% [markdown]
# ## What this does not show
#
# - **The paper's data sets and models.** The paper uses eleven tables of up to about a million
#   rows (per a review that quotes arXiv v1) and four deep models (TabNet, NODE, DNF-Net, 1D-CNN). Those tables are downloads and
#   those models are unpackaged code, so we use three small tables and the MLP and ResNet
#   baselines instead. Without them we cannot test the claim about the deep models' own data
#   sets (C5).
# - **Small data favours simple models.** With 100-600 training rows, every model's loss
#   varies a lot across splits. Here the networks, and even an untuned logistic regression,
#   do well. Larger tables could reverse C1.
# - **The ensembles.** Ours weight every member equally. Summaries of the paper describe
#   ensembles weighted by validation performance. With equal weights, a member that is clearly
#   worse, as XGBoost is on these tables, can pull the average down (C7).
# - **The search.** Six random-search trials stand in for the paper's Bayesian search (HyperOpt,
#   per summaries of the paper). Our
#   tuning measure (C3) is the gain over each model's default, so it depends on how good the
#   defaults are. It is not the paper's curve of loss against iterations.
# - **Time.** No timing claim is tested. The CPU seconds above are for one thread at these
#   sizes; on a GPU, with large tables, both costs change, and so may their ratio.
