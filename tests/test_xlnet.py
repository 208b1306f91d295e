"""XLNet's permutation masks and two-stream attention against brute force, causal attention and transformers."""

import pytest
import torch
import torch.nn.functional as F

from papernotes import load_core

core = load_core("companions/xlnet.py")


def reference_masks(order, num_predict):
    """The rule written position by position: who may see whom."""
    seq_len = len(order)
    step = {position: t for t, position in enumerate(order)}
    is_target = [step[i] >= seq_len - num_predict for i in range(seq_len)]
    query = torch.zeros(seq_len, seq_len, dtype=torch.bool)
    for i in range(seq_len):
        for j in range(seq_len):
            sees_context = not is_target[j]
            sees_earlier_target = is_target[i] and is_target[j] and step[j] < step[i]
            query[i, j] = sees_context or sees_earlier_target
    return query | torch.eye(seq_len, dtype=torch.bool), query, torch.tensor(is_target)


@pytest.mark.parametrize("seq_len", [1, 3, 6, 10])
def test_masks_match_reference_rule(seq_len):
    generator = torch.Generator().manual_seed(seq_len)
    for _ in range(10):
        order = torch.randperm(seq_len, generator=generator)
        for num_predict in range(1, seq_len + 1):
            for got, expected in zip(core.permutation_masks(order, num_predict), reference_masks(order.tolist(), num_predict)):
                assert torch.equal(got, expected)


def test_batched_masks_equal_per_row_masks():
    generator = torch.Generator().manual_seed(0)
    orders = torch.stack([torch.randperm(7, generator=generator) for _ in range(5)])
    batched = core.permutation_masks(orders, 3)
    for row, order in enumerate(orders):
        for got, expected in zip(batched, core.permutation_masks(order, 3)):
            assert torch.equal(got[row], expected)


def test_identity_order_is_causal():
    content, query, is_target = core.permutation_masks(torch.arange(6), 6)
    causal = torch.ones(6, 6, dtype=torch.bool).tril()
    assert torch.equal(content, causal) and torch.equal(query, causal.tril(-1)) and bool(is_target.all())


def test_partial_prediction_targets_are_the_last_of_the_order():
    order = torch.tensor([4, 0, 5, 2, 1, 3])
    _, query, is_target = core.permutation_masks(order, 2)
    assert is_target.nonzero().flatten().tolist() == [1, 3]
    assert not query[~is_target][:, is_target].any()  # the context never sees a target
    assert bool(query[3, 1]) and not bool(query[1, 3])  # 3 is predicted after 1


def test_independent_masks_let_targets_see_only_the_context():
    is_target = torch.tensor([True, False, True, False])
    content, query = core.independent_masks(is_target)
    assert torch.equal(query, (~is_target).expand(4, 4))
    assert torch.equal(content, query | torch.eye(4, dtype=torch.bool))


def test_content_stream_equals_causal_attention():
    layer = core.TwoStreamLayer(12, 3, 24).double()
    h = torch.randn(2, 5, 12, dtype=torch.float64)
    content, _, _ = core.permutation_masks(torch.arange(5), 5)
    split = lambda t: t.view(2, 5, 3, 4).transpose(1, 2)
    with torch.no_grad():
        mixed = F.scaled_dot_product_attention(split(layer.query(h)), split(layer.key(h)), split(layer.value(h)), is_causal=True)
        expected = layer.attn_norm(h + layer.out(mixed.transpose(1, 2).reshape(2, 5, 12)))
        torch.testing.assert_close(layer.attend(h, h, content), expected, rtol=1e-12, atol=1e-12)


def test_query_stream_never_depends_on_its_target_or_later_tokens():
    torch.manual_seed(0)
    model = core.TwoStreamLM(9, 6).eval()
    tokens = torch.randint(9, (1, 6))
    order = torch.tensor([2, 5, 0, 3, 1, 4])
    content, query, is_target = core.permutation_masks(order, 6)
    rank = order.argsort()
    with torch.no_grad():
        base = model(tokens, content, query)
        for target in range(6):
            for position in range(6):
                other = tokens.clone()
                other[0, position] = (other[0, position] + 1) % 9
                moved = model(other, content, query)[0, target]
                assert torch.equal(moved, base[0, target]) == bool(rank[position] >= rank[target])


def test_empty_row_gives_zero_attention_not_nan():
    layer = core.TwoStreamLayer(8, 2, 16)
    x = torch.randn(1, 3, 8)
    nothing = torch.zeros(3, 3, dtype=torch.bool)
    with torch.no_grad():
        torch.testing.assert_close(layer.attend(x, x, nothing), layer.attn_norm(x))


def test_agrees_with_transformers_xlnet():
    from transformers import XLNetConfig, XLNetLMHeadModel

    torch.manual_seed(1)
    peer = XLNetLMHeadModel(XLNetConfig(vocab_size=10, d_model=8, n_layer=2, n_head=2, d_inner=16, dropout=0.0)).eval()
    ours = core.TwoStreamLM(10, 6, d_model=8, n_head=2, d_inner=16, n_layer=2).eval()
    core.copy_from_transformers(ours, peer)
    with torch.no_grad():
        tokens = torch.randint(10, (2, 6))
        orders = torch.stack([torch.randperm(6), torch.randperm(6)])
        content, query, is_target = core.permutation_masks(orders, 4)
        positions = is_target.nonzero()[:, 1].view(2, 4)
        theirs = peer(tokens, perm_mask=(~query).float(), target_mapping=F.one_hot(positions, 6).float()).logits
        mine = ours(tokens, content, query).gather(1, positions[..., None].expand(-1, -1, 10))
    torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-5)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="order"):
        core.permutation_masks(torch.tensor([0, 0, 1]), 1)
    with pytest.raises(ValueError, match="order"):
        core.permutation_masks(torch.tensor([0.0, 1.0]), 1)
    with pytest.raises(ValueError, match="num_predict"):
        core.permutation_masks(torch.arange(4), 0)
    with pytest.raises(ValueError, match="num_predict"):
        core.permutation_masks(torch.arange(4), 5)
    with pytest.raises(ValueError, match="is_target"):
        core.independent_masks(torch.tensor([1, 0]))
    with pytest.raises(ValueError, match="d_model"):
        core.TwoStreamLayer(10, 3, 8)
    model = core.TwoStreamLM(5, 4)
    content, query, _ = core.permutation_masks(torch.arange(4), 4)
    with pytest.raises(ValueError, match="tokens"):
        model(torch.zeros(1, 3, dtype=torch.long), content, query)
