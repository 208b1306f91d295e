"""Tabular fits: XGBoost against the MLP on the same table, and both against one pass of a matmul.

The floor is the cheapest thing any model must do with the data: read it once through a
matrix product of the network's first-layer size. Run with `make bench NAME=tabular-deep-learning`.

Everything runs on one thread: the core pins XGBoost to one (as the companion does), so the
networks get one too. With two threads on minibatches of 128 rows, torch mostly measures thread
synchronisation (on a busy 2-core machine one MLP fit took 78 s instead of 1.2 s).
"""

import sys

import numpy as np
import torch
from sklearn.datasets import make_classification

from papernotes import configure, load_core
from papernotes.benchreport import BenchReport
from papernotes.timing import median_seconds

configure(seed=0, threads=1)
core = load_core("companions/tabular-deep-learning.py")

XGBOOST_DEFAULTS = dict(n_estimators=100, max_depth=6, learning_rate=0.3, subsample=1.0, colsample_bytree=1.0, min_child_weight=1.0, reg_lambda=1.0)
MLP_DEFAULTS = dict(width=64, depth=2, dropout=0.0, lr=1e-3, weight_decay=0.0, epochs=40)


def main(smoke: bool = False):
    """Time and print; ``smoke`` fits tiny models once, to show the script still works."""
    rows, fits, mlp = (200, 1, dict(MLP_DEFAULTS, epochs=1)) if smoke else (2000, 3, MLP_DEFAULTS)
    xgboost = dict(XGBOOST_DEFAULTS, n_estimators=5) if smoke else XGBOOST_DEFAULTS
    x, y = make_classification(n_samples=rows, n_features=32, n_informative=12, random_state=0)
    x = x.astype(np.float32)
    x_torch, first_layer = torch.from_numpy(x), torch.randn(32, MLP_DEFAULTS["width"])  # (N, F), (F, width)
    timings = {
        f"XGBoost fit ({xgboost['n_estimators']} trees)": median_seconds(lambda: core.fit_xgboost(x, y, 2, xgboost, 0), repeat=fits, warmup=0 if smoke else 1),
        f"MLP fit ({mlp['epochs']} epochs)": median_seconds(lambda: core.fit_network("mlp", x, y, 2, mlp, 0), repeat=fits, warmup=0 if smoke else 1),
        f"ResNet fit ({mlp['epochs']} epochs)": median_seconds(lambda: core.fit_network("resnet", x, y, 2, mlp, 0), repeat=fits, warmup=0 if smoke else 1),
        "floor: x @ W once": median_seconds(lambda: x_torch @ first_layer, repeat=fits, min_time=0 if smoke else 0.05),
    }
    floor, xgb = timings["floor: x @ W once"], timings[f"XGBoost fit ({xgboost['n_estimators']} trees)"]
    print(f"table: {x.shape[0]} rows x {x.shape[1]} features, 2 classes")
    print(f"{'what':36} {'seconds':>10} {'/ XGBoost':>10} {'/ floor':>10}")
    report = BenchReport("tabular-deep-learning", f"fitting on {x.shape[0]} rows x {x.shape[1]} features, 1 thread")
    for name, seconds in timings.items():
        print(f"{name:36} {seconds:>10.5f} {seconds / xgb:>10.2f} {seconds / floor:>10.0f}")
        if name.startswith(("MLP", "ResNet")):
            report.add(name, "XGBoost fit", "peer", seconds / xgb)
            report.add(name, "one matmul over the table", "floor", seconds / floor)
    return report


if __name__ == "__main__":
    main(smoke="--smoke" in sys.argv[1:])
