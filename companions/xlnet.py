# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # XLNet: permutation language modelling, checked
#
# Companion to the note [XLNet: Generalized Autoregressive Pretraining for Language
# Understanding](../../notes/nlp/xlnet/) (Yang et al., NeurIPS 2019). We implement the paper's
# core, the attention masks of *permutation language modelling* and the *two-stream attention*
# that reads them, check them against a left-to-right language model, a perturbation test and
# Hugging Face `transformers`' XLNet, and train two tiny models on generated "New York"
# sequences to see what a permutation objective learns that an independent masked one cannot.
# No pretrained weights are used: everything runs on a laptop CPU in seconds. Sections,
# equations and tables are cited from arXiv v2 (January 2020, the NeurIPS camera-ready).

# %% [markdown]
# ## Setup
#
# One thread and fixed seeds, so that every printed number is the same on every run.

# %%
from papernotes import ClaimLedger, Effect, NotCheckable, configure

generator = configure(seed=0, threads=1)  # before the imports below: it mutes tqdm's IProgress warning

# %%
import math

import torch
import torch.nn.functional as F
from transformers import XLNetConfig, XLNetLMHeadModel

# %% [markdown]
# ## Method (the core)
#
# An autoregressive (AR) model factorises $p(\mathbf x)$ left to right. XLNet keeps the AR
# form but maximises the likelihood over *all factorisation orders* $\mathbf z$ of the $T$
# positions (Eq. 3):
#
# $$\max_\theta\ \mathbb E_{\mathbf z\sim\mathcal Z_T}\Big[\sum_{t=1}^{T}\log p_\theta\big(x_{z_t}\mid \mathbf x_{\mathbf z_{<t}}\big)\Big].$$
#
# The tokens stay where they are (positions are not shuffled); only the attention masks
# change. With *partial prediction* only the last tokens of the order are targets,
# $\log p(\mathbf x_{\mathbf z_{>c}}\mid\mathbf x_{\mathbf z_{\le c}})$ (Eq. 5); the paper's $K$ is
# $|\mathbf z|/(|\mathbf z|-c)$, so about $1/K$ of the tokens are predicted. We call the number
# of targets `num_predict`, as the official code does.
#
# Two masks come out of an order. Write $\mathrm{rank}(i)$ for the step at which position $i$
# is predicted. The **content stream** $h$ at position $i$ may read $j$ when
# $\mathrm{rank}(j)\le\mathrm{rank}(i)$ (itself included); the **query stream** $g$ only when
# $\mathrm{rank}(j)<\mathrm{rank}(i)$, so it never sees the token it has to predict.

# %%
# --8<-- [start:core]
import math

import torch
from torch import nn


def _check_order(order: torch.Tensor) -> None:
    if order.ndim not in (1, 2) or order.shape[-1] < 1 or order.dtype != torch.long:
        raise ValueError(f"order must be an int64 tensor of shape (L,) or (B, L); got {order.dtype} {tuple(order.shape)}")
    positions = torch.arange(order.shape[-1]).expand_as(order)
    if not torch.equal(order.sort(dim=-1).values, positions):
        raise ValueError("order must hold a permutation of 0..L-1 in each row")


def permutation_masks(order: torch.Tensor, num_predict: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Content mask, query mask and targets of one factorisation order (Eq. 3 and Sec. 2.3).

    ``order[t]`` is the position predicted at step t; the last ``num_predict`` steps are the
    targets (partial prediction). Masks are boolean, True where row i may attend to column j.
    As in the official ``_local_perm``, the non-target context shares the lowest rank: context
    tokens see each other both ways and see no target (the paper's text orders them too; their
    order does not enter the objective, since they are never predicted).
    """
    _check_order(order)
    seq_len = order.shape[-1]
    if not isinstance(num_predict, int) or not 1 <= num_predict <= seq_len:
        raise ValueError(f"num_predict must be an int in 1..{seq_len} (the sequence length), got {num_predict!r}")
    steps = torch.arange(seq_len).expand_as(order)
    rank = torch.empty_like(order).scatter_(-1, order, steps)  # (..., L): rank[i] = step that predicts position i
    is_target = rank >= seq_len - num_predict  # (..., L)
    rank = torch.where(is_target, rank, -1)  # the context is one block, ranked first
    query = (rank[..., None, :] < rank[..., :, None]) | ~is_target[..., None, :]  # (..., L, L)
    content = query | torch.eye(seq_len, dtype=torch.bool)  # (..., L, L): h also sees itself
    return content, query, is_target


def independent_masks(is_target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Masks of an independent masked objective (BERT's assumption, Sec. 2.6): every target
    is predicted from the context alone, never from another target."""
    if is_target.dtype != torch.bool or is_target.ndim not in (1, 2):
        raise ValueError(f"is_target must be a bool tensor of shape (L,) or (B, L); got {is_target.dtype} {tuple(is_target.shape)}")
    query = (~is_target[..., None, :]).expand(*is_target.shape, is_target.shape[-1])  # (..., L, L)
    content = query | torch.eye(is_target.shape[-1], dtype=torch.bool)
    return content, query
# --8<-- [end:core]

# %% [markdown]
# **Two-stream attention.** The prediction of $x_{z_t}$ must know *where* it predicts but not
# *what* is there (Eq. 4), so each layer keeps two representations per position. The content
# stream is an ordinary Transformer hidden state; the query stream starts from a trainable
# vector $w$ and reads only the content of earlier positions:
#
# $$g^{(m)}_{z_t} = \mathrm{Attn}\big(Q=g^{(m-1)}_{z_t},\ KV=\mathbf h^{(m-1)}_{\mathbf z_{<t}}\big),\qquad
#   h^{(m)}_{z_t} = \mathrm{Attn}\big(Q=h^{(m-1)}_{z_t},\ KV=\mathbf h^{(m-1)}_{\mathbf z_{\le t}}\big).$$
#
# Both streams share the weights. Each attention is followed, as in XLNet's code, by a
# residual connection and LayerNorm, then a GELU feed-forward block with the same.

# %%
# --8<-- [start:core-attention]
class TwoStreamLayer(nn.Module):
    """One XLNet layer: masked attention for both streams, then a feed-forward block.

    Deviation from the paper: no relative positional encoding, segment encoding or memory
    (Transformer-XL parts, orthogonal to the masks); positions enter as absolute embeddings.
    A row that may attend to nothing gets a zero attention output (XLNet's code would spread
    it uniformly over all tokens).
    """

    def __init__(self, d_model: int, n_head: int, d_inner: int):
        super().__init__()
        if d_model % n_head:
            raise ValueError(f"d_model must be a multiple of n_head, got d_model={d_model}, n_head={n_head}")
        self.n_head, self.d_head = n_head, d_model // n_head
        self.query, self.key, self.value, self.out = (nn.Linear(d_model, d_model, bias=False) for _ in range(4))
        self.attn_norm = nn.LayerNorm(d_model, eps=1e-12)
        self.ff = nn.Sequential(nn.Linear(d_model, d_inner), nn.GELU(), nn.Linear(d_inner, d_model))
        self.ff_norm = nn.LayerNorm(d_model, eps=1e-12)

    def attend(self, x: torch.Tensor, h: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        """Queries from ``x``, keys and values from the content ``h``, rows limited by ``allowed``."""
        batch, seq_len, _ = x.shape
        split = lambda t: t.view(batch, seq_len, self.n_head, self.d_head).transpose(1, 2)  # (B, n, L, dh)
        q, k, v = split(self.query(x)), split(self.key(h)), split(self.value(h))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)  # (B, n, L, L)
        allowed = allowed.unsqueeze(-3)  # (B or 1, 1, L, L): the same mask for every head
        weights = scores.masked_fill(~allowed, float("-inf")).softmax(dim=-1)
        weights = weights.masked_fill(~allowed, 0.0)  # an empty row (all -inf) became NaN: make it 0
        mixed = (weights @ v).transpose(1, 2).reshape(batch, seq_len, -1)  # (B, L, d)
        return self.attn_norm(x + self.out(mixed))

    def forward(self, h, g, content_mask, query_mask):
        """(B, L, d) content and query streams in, the same out; masks (L, L) or (B, L, L)."""
        h_next = self.attend(h, h, content_mask)  # sees itself
        g_next = self.attend(g, h, query_mask)  # sees earlier content, never its own token
        return self.ff_norm(h_next + self.ff(h_next)), self.ff_norm(g_next + self.ff(g_next))
# --8<-- [end:core-attention]

# %% [markdown]
# The model: token plus position embeddings start the content stream, $w$ plus the position
# starts the query stream (the query knows *where*, Eq. 4), and a linear head reads the query
# stream: $p(X_{z_t}=x\mid\mathbf x_{\mathbf z_{<t}})=\mathrm{softmax}\big(e(x)^\top g_{z_t}\big)$
# with a separate output matrix instead of the tied $e(x)$.

# %%
# --8<-- [start:core-model]
class TwoStreamLM(nn.Module):
    """A small XLNet-style permutation language model; logits come from the query stream."""

    def __init__(self, vocab_size: int, seq_len: int, d_model: int = 32, n_head: int = 2, d_inner: int = 64, n_layer: int = 2):
        super().__init__()
        if min(vocab_size, seq_len, n_layer) < 1:
            raise ValueError(f"vocab_size, seq_len and n_layer must be >= 1; got {vocab_size}, {seq_len}, {n_layer}")
        self.seq_len = seq_len
        self.word_embedding = nn.Embedding(vocab_size, d_model)
        self.position_embedding = nn.Parameter(0.02 * torch.randn(seq_len, d_model))
        self.mask_emb = nn.Parameter(0.02 * torch.randn(d_model))  # the paper's w, g^(0) before positions
        self.layers = nn.ModuleList(TwoStreamLayer(d_model, n_head, d_inner) for _ in range(n_layer))
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, tokens: torch.Tensor, content_mask: torch.Tensor, query_mask: torch.Tensor) -> torch.Tensor:
        if tokens.ndim != 2 or tokens.shape[1] != self.seq_len:
            raise ValueError(f"tokens must have shape (B, {self.seq_len}), got {tuple(tokens.shape)}")
        h = self.word_embedding(tokens) + self.position_embedding  # (B, L, d)
        g = (self.mask_emb + self.position_embedding).expand_as(h)  # (B, L, d): position, no content
        for layer in self.layers:
            h, g = layer(h, g, content_mask, query_mask)
        return self.head(g)  # (B, L, vocab): only target rows are meaningful
# --8<-- [end:core-model]

# %% [markdown]
# ## Checks against references
#
# **Masks against their definition.** A brute-force double loop writes down the rule in words
# (targets see the context and earlier targets; the content stream also sees itself; the
# context sees the context) for random orders and every `num_predict`.

# %%
def brute_force_masks(order: list[int], num_predict: int):
    seq_len = len(order)
    targets = set(order[seq_len - num_predict:])
    step = {position: t for t, position in enumerate(order)}
    query = torch.zeros(seq_len, seq_len, dtype=torch.bool)
    for i in range(seq_len):
        for j in range(seq_len):
            if j not in targets:
                query[i, j] = True
            elif i in targets:
                query[i, j] = step[j] < step[i]
    return query | torch.eye(seq_len, dtype=torch.bool), query


cases = 0
for seq_len in (1, 2, 5, 9):
    for _ in range(20):
        order = torch.randperm(seq_len, generator=generator)
        for num_predict in range(1, seq_len + 1):
            content, query, _ = permutation_masks(order, num_predict)
            expected_content, expected_query = brute_force_masks(order.tolist(), num_predict)
            assert torch.equal(content, expected_content) and torch.equal(query, expected_query)
            cases += 1
print(f"masks equal the brute-force rule in {cases} (order, num_predict) cases")

# %% [markdown]
# **The identity order is a left-to-right language model.** With $\mathbf z = (1,\dots,T)$
# and every token a target, the content mask must be the causal mask and the query mask the
# strictly causal one. And then the content stream of our layer must compute exactly what
# ordinary causal self-attention computes: we compare it with PyTorch's
# `scaled_dot_product_attention(is_causal=True)` using the same weights.

# %%
identity_len, d_model, n_head = 7, 16, 2
content, query, is_target = permutation_masks(torch.arange(identity_len), num_predict=identity_len)
causal = torch.ones(identity_len, identity_len, dtype=torch.bool).tril()
assert torch.equal(content, causal) and torch.equal(query, causal.tril(-1)) and bool(is_target.all())

layer = TwoStreamLayer(d_model, n_head, d_inner=32).double().eval()
h = torch.randn(3, identity_len, d_model, dtype=torch.float64)
split = lambda t: t.view(3, identity_len, n_head, d_model // n_head).transpose(1, 2)
with torch.no_grad():
    mixed = F.scaled_dot_product_attention(split(layer.query(h)), split(layer.key(h)), split(layer.value(h)), is_causal=True)
    reference = layer.attn_norm(h + layer.out(mixed.transpose(1, 2).reshape(3, identity_len, d_model)))
    torch.testing.assert_close(layer.attend(h, h, content), reference, rtol=1e-12, atol=1e-12)
print("identity order: content mask = causal, query mask = strictly causal;")
print("content stream = causal scaled_dot_product_attention to 1e-12 (float64)")

# %% [markdown]
# **Perturbation test: the query stream never sees its target.** For a random order with
# partial prediction, we change, one at a time, the token at each target and at every
# position later in the order, and rerun a randomly initialised two-layer model. The query
# stream's logits at the target must not move at all (bit for bit), while the content stream
# at the target must move when its own token changes. As a control, changing a token that
# comes *earlier* in the order must move the target's prediction.

# %%
vocab_size, seq_len = 13, 8
model = TwoStreamLM(vocab_size, seq_len).eval()
tokens = torch.randint(vocab_size, (1, seq_len), generator=generator)
order = torch.randperm(seq_len, generator=generator)
content, query, is_target = permutation_masks(order, num_predict=5)
rank = order.argsort()  # (L,): the step at which each position is predicted


def changed(tokens, position):
    other = tokens.clone()
    other[0, position] = (other[0, position] + 1) % vocab_size
    return other


with torch.no_grad():
    base = model(tokens, content, query)
    unseen_checks = seen_moves = 0
    for target in is_target.nonzero().flatten().tolist():
        for position in range(seq_len):
            moved = model(changed(tokens, position), content, query)[0, target]
            if rank[position] >= rank[target]:  # the target itself or later in the order
                assert torch.equal(moved, base[0, target]), (target, position)
                unseen_checks += 1
            else:
                seen_moves += int(not torch.equal(moved, base[0, target]))
print(f"{unseen_checks} perturbations of a target or a later token: query-stream logits unchanged in all")
print(f"{seen_moves} of {is_target.sum().item() * seq_len - unseen_checks} perturbations of an earlier token moved them")

# %% [markdown]
# The content stream is the other half of Eq. 4: it must carry its own token. Run the layers
# by hand and compare $h$ at a target after changing that target's token.

# %%
def content_stream(model, tokens, content, query):
    h = model.word_embedding(tokens) + model.position_embedding
    g = (model.mask_emb + model.position_embedding).expand_as(h)
    for layer in model.layers:
        h, g = layer(h, g, content, query)
    return h


target = is_target.nonzero()[0].item()
with torch.no_grad():
    own_change = (content_stream(model, changed(tokens, target), content, query) - content_stream(model, tokens, content, query))[0, target]
assert own_change.abs().max() > 1e-3
print(f"changing the target's own token moves the content stream at the target: {bool(own_change.abs().max() > 1e-3)}")

# %% [markdown]
# **The independent masks see no other target.** BERT's assumption (Sec. 2.1, Eq. 2) is that
# every target is predicted from the context alone. With `independent_masks` on the same
# order, changing the token at *any* target must leave every target's query-stream logits
# bit for bit unchanged. This is what bounds the independent objective's pair likelihood by
# the sum of the two marginal entropies in the experiment further down.

# %%
independent_content, independent_query = independent_masks(is_target)
target_list = is_target.nonzero().flatten().tolist()
with torch.no_grad():
    independent_base = model(tokens, independent_content, independent_query)[0, target_list]
    for changed_target in target_list:
        moved = model(changed(tokens, changed_target), independent_content, independent_query)[0, target_list]
        assert torch.equal(moved, independent_base), changed_target
print(f"independent masks: changing any of the {len(target_list)} targets moves no target's logits")

# %% [markdown]
# ## Baseline (transformers)
#
# The peer is Hugging Face `transformers`' `XLNetLMHeadModel` on a tiny random configuration,
# built offline (no weights are downloaded). Its masks are inputs: `perm_mask[b, i, j] = 1`
# means $i$ may not attend to $j$ (our query mask, negated), and `target_mapping` picks the
# targets. It derives the content mask itself by unmasking the diagonal. To compare the two
# computations we switch off what our core leaves out: the relative-position weights and
# biases are set to zero (no segment ids are passed), and our absolute positions are zero.
# Then every remaining weight is copied into our model.

# %%
# --8<-- [start:core-copy]
@torch.no_grad()
def copy_from_transformers(ours: "TwoStreamLM", peer) -> None:
    """Make ``ours`` compute what a transformers ``XLNetLMHeadModel`` computes, where they overlap.

    The peer's relative-position weights and biases are zeroed (our core has none) and our
    absolute positions too; every other weight is copied, reshaped to our layout. Used here
    and by the unit tests.
    """
    ours.word_embedding.weight.copy_(peer.transformer.word_embedding.weight)
    ours.mask_emb.copy_(peer.transformer.mask_emb.flatten())
    ours.position_embedding.zero_()
    ours.head.load_state_dict(peer.lm_loss.state_dict())
    for mine, theirs in zip(ours.layers, peer.transformer.layer):
        attn = theirs.rel_attn
        for name in ("r", "r_r_bias", "r_w_bias", "r_s_bias", "seg_embed"):
            getattr(attn, name).zero_()
        for linear, weight in ((mine.query, attn.q), (mine.key, attn.k), (mine.value, attn.v)):
            linear.weight.copy_(weight.flatten(1).T)  # (d, n, dh) -> (n*dh, d)
        mine.out.weight.copy_(attn.o.flatten(1))  # (d, n, dh) -> (d, n*dh)
        mine.attn_norm.load_state_dict(attn.layer_norm.state_dict())
        mine.ff[0].load_state_dict(theirs.ff.layer_1.state_dict())
        mine.ff[2].load_state_dict(theirs.ff.layer_2.state_dict())
        mine.ff_norm.load_state_dict(theirs.ff.layer_norm.state_dict())
# --8<-- [end:core-copy]


config = XLNetConfig(vocab_size=vocab_size, d_model=16, n_layer=2, n_head=2, d_inner=32, dropout=0.0)
peer = XLNetLMHeadModel(config).eval()  # float32: its position table is float32
ours = TwoStreamLM(vocab_size, seq_len, d_model=16, n_head=2, d_inner=32, n_layer=2).eval()
copy_from_transformers(ours, peer)

# %% [markdown]
# A batch of four sequences, each with its own random order and five targets, through both
# models. HF returns logits only for the targets (`target_mapping` rows in ascending position).

# %%
batch, num_predict = 4, 5
tokens = torch.randint(vocab_size, (batch, seq_len), generator=generator)
orders = torch.stack([torch.randperm(seq_len, generator=generator) for _ in range(batch)])
content, query, is_target = permutation_masks(orders, num_predict)  # (B, L, L), (B, L, L), (B, L)
target_positions = is_target.nonzero()[:, 1].view(batch, num_predict)  # (B, P), ascending
target_mapping = F.one_hot(target_positions, seq_len).float()  # (B, P, L)
with torch.no_grad():
    theirs = peer(tokens, perm_mask=(~query).float(), target_mapping=target_mapping).logits  # (B, P, V)
    mine = ours(tokens, content, query).gather(1, target_positions[..., None].expand(-1, -1, vocab_size))
torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-5)
print(f"query-stream logits agree with transformers' XLNetLMHeadModel to 1e-5 (float32): {tuple(mine.shape)} (B, P, vocab)")

# %% [markdown]
# **Where the peer differs: a target with nothing to see.** With the identity order and every
# token a target, the first target has an empty context. XLNet's code subtracts $10^{30}$
# from masked scores instead of dropping them, so a fully masked row becomes a *uniform*
# average over all tokens, including the target itself. Our core gives that row a zero
# attention output instead. The perturbation test shows the difference: change token 0 and
# look at the prediction for position 0.

# %%
identity_content, identity_query, _ = permutation_masks(torch.arange(seq_len), seq_len)
first_target = F.one_hot(torch.tensor([[0]]), seq_len).float()  # (1, 1, L): predict position 0 only


def peer_first_logits(tokens):
    return peer(tokens, perm_mask=(~identity_query).float()[None], target_mapping=first_target).logits[0, 0]


def ours_first_logits(tokens):
    return ours(tokens, identity_content, identity_query)[0, 0]


with torch.no_grad():
    sequence = tokens[:1]
    peer_moves = not torch.equal(peer_first_logits(changed(sequence, 0)), peer_first_logits(sequence))
    ours_moves = not torch.equal(ours_first_logits(changed(sequence, 0)), ours_first_logits(sequence))
print(f"empty-context target sees its own token: transformers {peer_moves}, ours {ours_moves}")

# %% [markdown]
# ## Claims
#
# The benchmark claims need pretraining at scale and are declared not checkable. The claim of
# Section 2.6, that the permutation objective captures a dependency between two targets that
# BERT's independent objective leaves out, is tested on generated data below; its statistic,
# line and seeds are declared here, before any model is trained, and the ledger computes the
# verdict.
#
# Two claims of an earlier version of this page are gone: "with the identity order the
# objective is a left-to-right language model" (C1) and "the query stream never sees the
# content of its target" (C2). Both are properties of how the masks are defined, so they
# cannot fail as claims about the paper; they are the asserts in "Checks against references".

# %%
SEEDS = (0, 1, 2)
ledger = ClaimLedger("xlnet")
ledger.declare(
    "C3", "Under comparable experiment settings, XLNet outperforms BERT on 20 tasks, often by a large margin",
    where="arXiv v2, Abstract",
    paper="XLNet outperforms BERT on 20 tasks, often by a large margin, under comparable experiment settings "
          "(v1's abstract also claimed state-of-the-art results on 18 tasks)",
    test=NotCheckable("needs pretraining on about 33B subword pieces with TPU-scale compute, then fine-tuning on each benchmark"),
)
ledger.declare(
    "C4", "The permutation objective captures the dependency between two targets (New, York) that BERT's independent objective omits",
    where="arXiv v2, Section 2.6 (the \"New York is a city\" example)",
    paper="J_XLNet = log p(New | is a city) + log p(York | New, is a city) captures the (New, York) dependency; "
          "J_BERT = log p(New | is a city) + log p(York | is a city) omits it",
    test=Effect(
        statistic="independence bound 2 log 4 minus the permutation-trained model's NLL of the two targets (nats)",
        at_least=0.001, seeds=SEEDS,
        setup="generated 6-token sequences: a two-token 'city' from 8 allowed pairs of 16, each token alone uniform over 4, "
              "then 4 independent fillers; a 2-layer two-stream model (d=32), 300 Adam steps of 64 sequences, "
              "a fresh order per sequence, last 3 tokens as targets (K=2); evaluated exactly over the 8 pairs in 64 filler contexts, "
              "order (fillers, first, second); no independent predictor can go below 2 log 4, so the line 0.001 nats "
              "(the printed precision) stands for 'below the bound', i.e. the dependency was learned",
    ),
    fmt="{:.3f}", unit=" nats",
)
ledger.declare(
    "C5", "Trained on the same data with an almost identical recipe, XLNet outperforms BERT by a sizable margin on all datasets considered",
    where="arXiv v2, Section 3.2 and Table 1",
    paper="XLNet-Large-wikibooks beats the best of three BERT-Large variants on all 11 columns of Table 1, e.g. RACE 77.4 vs 75.1, "
          "SQuAD2.0 EM/F1 85.1/87.8 vs 82.8/85.5",
    test=NotCheckable("needs pretraining BERT-Large and XLNet-Large on BooksCorpus and Wikipedia (13 GB of text), then fine-tuning"),
)

# %% [markdown]
# ### C4: does the permutation objective learn the dependency between two targets?
#
# The paper's Section 2.6 contrasts the two objectives on "New York is a city": with both
# "New" and "York" as targets, BERT maximises $\log p(\text{New}\mid\text{is a city}) +
# \log p(\text{York}\mid\text{is a city})$, while XLNet (with order
# "is a city", New, York) maximises $\log p(\text{New}\mid\text{is a city}) +
# \log p(\text{York}\mid\text{New},\text{is a city})$ and so can learn the dependency between
# the two targets.
#
# **Data.** Sequences of 6 tokens: a two-token "city" at positions 0 and 1, then 4 filler
# tokens drawn independently. First tokens are 0–3, second tokens 4–7, and 8 of the 16
# pairs are allowed, each first token with two second tokens and vice versa, so each token
# alone is uniform over 4 values. The pair's entropy is $\log 8$ nats; a model that predicts
# the two independently can do no better than $2\log 4$. Whether a model trained with the
# permutation objective gets below that bound is the question: its masks allow it, but
# nothing forces it to learn the pairing in 300 steps.

# %%
CITY_FIRSTS, FILLER_START, VOCAB, SEQ_LEN = 4, 8, 16, 6
ALLOWED = sorted({(a, CITY_FIRSTS + (a + shift) % 4) for a in range(CITY_FIRSTS) for shift in (0, 1)})
OBJECTIVES = ("permutation", "independent")


def city_sequences(count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` sequences (count, SEQ_LEN): an allowed city pair, then independent fillers."""
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive int, got {count!r}")
    pairs = torch.tensor(ALLOWED)[torch.randint(len(ALLOWED), (count,), generator=generator)]  # (N, 2)
    fillers = torch.randint(FILLER_START, VOCAB, (count, SEQ_LEN - 2), generator=generator)  # (N, 4)
    return torch.cat([pairs, fillers], dim=1)  # (N, L)


print(f"{len(ALLOWED)} allowed pairs: {ALLOWED}")
print(f"bounds on the pair's NLL: joint log 8 = {math.log(8):.3f}, independent 2 log 4 = {2 * math.log(4):.3f} nats")

# %% [markdown]
# **Training.** The same model, the same data and the same targets for both objectives; only
# the masks differ. Each step samples a fresh order per sequence and predicts its last 3
# tokens ($K=2$). The permutation objective uses `permutation_masks`; the independent one
# uses `independent_masks` on the same targets. The loss is cross-entropy at the targets only.
# The permutation model is trained on each of the three seeds; the independent one, whose
# pair likelihood cannot beat the bound on any seed (the independent-mask check above), once,
# for comparison.

# %%
def train(objective: str, steps: int = 300, batch_size: int = 64, num_predict: int = 3, seed: int = 0) -> TwoStreamLM:
    """A TwoStreamLM trained on city sequences with the masks of ``objective``."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    torch.manual_seed(seed)
    model = TwoStreamLM(VOCAB, SEQ_LEN)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        tokens = city_sequences(batch_size, generator)
        orders = torch.stack([torch.randperm(SEQ_LEN, generator=generator) for _ in range(batch_size)])
        content, query, is_target = permutation_masks(orders, num_predict)
        if objective == "independent":
            content, query = independent_masks(is_target)
        logits = model(tokens, content, query)  # (B, L, V)
        loss = F.cross_entropy(logits[is_target], tokens[is_target])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return model.eval()

# %% [markdown]
# **Evaluation.** Both city tokens are the targets and the 4 fillers the context. Each allowed
# pair is scored under the same 64 filler contexts, so the pairs are exactly uniform and the
# bounds above hold exactly. The permutation model scores the order (fillers, first, second)
# by default; the independent model scores each token from the fillers alone. We also report
# the probability that a pair *sampled* from the model is an allowed city, computed exactly
# from the predicted distributions.

# %%
def evaluate(model: TwoStreamLM, objective: str, second_first: bool = False, contexts: int = 64) -> tuple[float, float]:
    """Mean negative log-likelihood of the pair, and the chance that a sampled pair is allowed.

    ``second_first`` scores the order (fillers, second, first) instead: the first city token
    is then predicted after seeing the second.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    fillers = city_sequences(contexts, torch.Generator().manual_seed(1))[:, 2:]  # (C, 4)
    order = torch.tensor([2, 3, 4, 5, 1, 0] if second_first else [2, 3, 4, 5, 0, 1])
    content, query, _ = permutation_masks(order, num_predict=2)
    if objective == "independent":
        content, query = independent_masks(torch.tensor([True, True, False, False, False, False]))
    nll, allowed_mass = 0.0, 0.0
    with torch.no_grad():
        for first in range(CITY_FIRSTS):
            for second in range(CITY_FIRSTS, FILLER_START):
                tokens = torch.cat([torch.tensor([[first, second]]).expand(contexts, 2), fillers], dim=1)
                log_probs = model(tokens, content, query).log_softmax(-1)  # (C, L, V)
                pair_log_prob = log_probs[:, 0, first] + log_probs[:, 1, second]  # (C,)
                if (first, second) in ALLOWED:
                    nll -= pair_log_prob.mean().item() / len(ALLOWED)
                    allowed_mass += pair_log_prob.exp().mean().item()
    return nll, allowed_mass

# %%
models = {seed: train("permutation", seed=seed) for seed in SEEDS}
results = {seed: evaluate(model, "permutation") for seed, model in models.items()}
independent_nll, independent_mass = evaluate(train("independent", seed=0), "independent")  # one seed: the bound holds on any
print(f"{'seed':>4} {'objective':12} {'pair NLL':>9} {'P(sampled pair is a city)':>26}")
for seed, (nll, allowed_mass) in results.items():
    print(f"{seed:>4} {'permutation':12} {nll:>9.3f} {allowed_mass:>26.1%}")
print(f"{0:>4} {'independent':12} {independent_nll:>9.3f} {independent_mass:>26.1%}")
below_bound = [2 * math.log(4) - results[seed][0] for seed in SEEDS]
ledger.measure("C4", below_bound, note=f"bound 2 log 4 = {2 * math.log(4):.3f}, entropy log 8 = {math.log(8):.3f} nats; "
                                       f"the independent objective, trained on seed 0 with the same targets: {independent_nll:.3f}")

# %%
ledger.show()

# %% [markdown]
# ## Small experiment
#
# **Both directions.** Section 2.6 uses one order, "New" before "York". Because the
# permutation objective trains on every order, the same model should also predict the first
# city token after seeing the second. Below, the permutation models of C4 scored in the order
# (fillers, second, first), beside the order used above. Nothing is retrained.

# %%
print(f"{'seed':>4} {'first then second':>18} {'second then first':>18}   pair NLL, nats (bounds {math.log(8):.3f} / {2 * math.log(4):.3f})")
for seed in SEEDS:
    reverse_nll, _ = evaluate(models[seed], "permutation", second_first=True)
    print(f"{seed:>4} {results[seed][0]:>18.3f} {reverse_nll:>18.3f}")

# %% [markdown]
# Under the permutation objective the token predicted second is conditioned on the one
# predicted first, in either order, so the model can learn the pair's joint distribution; the
# independent objective can at best learn each token's marginal, which is why its pair NLL
# in the C4 table cannot go below $2\log 4$. Both were trained on the same targets for the
# same number of steps.

# %% [markdown]
# ## What this does not show
#
# - **The benchmark results.** Every downstream number (GLUE, SQuAD, RACE, text
#   classification), including the like-for-like comparison with BERT of Table 1, needs
#   pretraining at scale and is declared not checkable on CPU (C3, C5).
# - **The masks' properties as claims.** That the identity order gives a left-to-right
#   language model and that the query stream never sees its own token follow from how the
#   masks are defined; an earlier version of this page listed them as claims C1 and C2 with
#   the verdict "exact". They are checks of our code, asserted in "Checks against
#   references", and cannot fail against the paper.
# - **How large the gap is at scale.** C4 asks only whether the permutation-trained model
#   gets below the bound that binds every independent predictor. On our data the pairing
#   is all there is to learn; in text it is one dependency among many, and the paper does
#   not measure it on its own.
# - **Transformer-XL parts.** Relative positional encodings, segment recurrence (memory) and
#   relative segment encodings are left out of the core; the agreement with `transformers`
#   holds with them switched off. They change *what* is attended with which weights, not *which*
#   positions may be attended, which is what the masks decide.
# - **Span-based targets and the official chunked permutation.** The official data pipeline
#   permutes within chunks and picks n-gram spans as targets; we sample one full order per
#   sequence and take its last tokens.
# - **Whether permutation beats masking in practice.** The experiment isolates one effect,
#   the independence assumption, on data built to expose it. The paper's ablation study
#   changes it together with other parts (memory, span targets, data), so how much of
#   XLNet's gain comes from this effect alone is not settled by either.
