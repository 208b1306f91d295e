"""Adversarial filtration against brute force and timm's bundled ImageNet-A class subset."""

from importlib import resources

import pytest
import torch

from papernotes import load_core

core = load_core("companions/natural-adversarial-examples.py")


def brute_force_kept(logits, labels, class_indices):
    kept = []
    for i, row in enumerate(logits.tolist()):
        columns = range(len(row)) if class_indices is None else class_indices.tolist()
        scores = [row[c] for c in columns]
        if scores.index(max(scores)) != labels[i].item():
            kept.append(i)
    return kept


@pytest.mark.parametrize("subset_size", [None, 1, 3, 10])
def test_filtration_matches_brute_force(subset_size):
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(300, 10, dtype=torch.float64, generator=generator)
    class_indices = None if subset_size is None else torch.randperm(10, generator=generator)[:subset_size]
    labels = torch.randint(10 if subset_size is None else subset_size, (300,), generator=generator)
    assert core.adversarial_filtration(logits, labels, class_indices).tolist() == brute_force_kept(logits, labels, class_indices)


def test_filter_model_scores_zero_on_what_it_kept():
    logits = torch.randn(200, 5, generator=torch.Generator().manual_seed(1))
    labels = torch.randint(5, (200,), generator=torch.Generator().manual_seed(2))
    kept = core.adversarial_filtration(logits, labels)
    assert (core.restricted_predictions(logits[kept]) != labels[kept]).all()
    rest = torch.ones(200, dtype=torch.bool)
    rest[kept] = False
    assert (core.restricted_predictions(logits[rest]) == labels[rest]).all()


def test_restriction_uses_timm_imagenet_a_columns():
    indices = torch.tensor([int(v) for v in resources.files("timm.data._info").joinpath("imagenet_a_indices.txt").read_text().split()])
    assert len(indices) == 200
    logits = torch.full((1, 1000), -1.0)
    logits[0, 0] = 10.0  # column 0 is not an ImageNet-A class: a 1000-way argmax would pick it
    logits[0, indices[7]] = 5.0
    assert core.restricted_predictions(logits, indices).tolist() == [7]


def test_matched_random_subset():
    generator = torch.Generator().manual_seed(0)
    subset = core.matched_random_subset(50, 20, generator)
    assert len(subset) == 20 and len(subset.unique()) == 20 and torch.equal(subset, subset.sort().values)
    assert 0 <= subset.min() and subset.max() < 50
    assert len(core.matched_random_subset(5, 0, generator)) == 0


def test_bad_input_raises():
    logits = torch.randn(4, 6)
    with pytest.raises(ValueError, match="logits"):
        core.restricted_predictions(torch.randn(4))
    with pytest.raises(ValueError, match="class_indices"):
        core.restricted_predictions(logits, torch.tensor([0, 6]))
    with pytest.raises(ValueError, match="class_indices"):
        core.restricted_predictions(logits, torch.tensor([1, 1]))
    with pytest.raises(ValueError, match="class_indices"):
        core.restricted_predictions(logits, torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="labels"):
        core.adversarial_filtration(logits, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="labels"):
        core.adversarial_filtration(logits, torch.tensor([0, 1, 2, 3]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="size"):
        core.matched_random_subset(3, 4, torch.Generator())
