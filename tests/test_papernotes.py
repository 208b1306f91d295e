"""The helper package: core loading, seeding (the claims ledger has tests/test_claims.py)."""

import textwrap
from types import SimpleNamespace

import pytest
import torch

from papernotes import configure, load_core


def _write(tmp_path, body):
    path = tmp_path / "demo.py"
    path.write_text(textwrap.dedent(body))
    return path


def test_load_core_runs_only_the_marked_regions(tmp_path):
    path = _write(tmp_path, """\
        raise RuntimeError("the notebook outside the core must not run")
        # --8<-- [start:core]
        VALUE = 2
        # --8<-- [end:core]
        # --8<-- [start:core-more]
        def double():
            return VALUE * 2
        # --8<-- [end:core-more]
        """)
    core = load_core(path)
    assert core.double() == 4


def test_load_core_keeps_line_numbers(tmp_path):
    path = _write(tmp_path, """\
        x = 1
        # --8<-- [start:core]
        def broken():
            raise KeyError("here")
        # --8<-- [end:core]
        """)
    with pytest.raises(KeyError) as info:
        load_core(path).broken()
    assert info.traceback[-1].lineno + 1 == 4  # pytest counts from 0


@pytest.mark.parametrize(
    "body, message",
    [
        ("x = 1\n", "no '# --8<-- \\[start:core\\]' region"),
        ("# --8<-- [start:core]\nx = 1\n", "never closed"),
        ("# --8<-- [start:core]\nx = 1\n# --8<-- [end:core-other]\n", "does not close"),
    ],
)
def test_load_core_rejects_broken_markers(tmp_path, body, message):
    with pytest.raises(ValueError, match=message):
        load_core(_write(tmp_path, body))


@pytest.fixture
def restore_torch_settings():
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)


def test_configure_is_reproducible_and_validates(restore_torch_settings):
    configure(seed=3)
    first = torch.randn(4)
    configure(seed=3)
    torch.testing.assert_close(torch.randn(4), first, rtol=0, atol=0)
    assert torch.get_num_threads() == 1
    with pytest.raises(ValueError, match="threads"):
        configure(threads=0)
    with pytest.raises(ValueError, match="seed"):
        configure(seed=-1)


def test_peak_memory_counts_a_temporary_buffer():
    from papernotes.timing import peak_memory_bytes

    torch.randn(256, 256) @ torch.randn(256, 256)  # OpenMP threads already running must not matter
    peak = peak_memory_bytes(lambda: lambda: torch.ones(25_000_000).sum())  # a 100 MB temporary
    assert 90e6 < peak < 130e6, peak


def test_interleaved_medians_reports_every_candidate():
    from papernotes.timing import interleaved_medians

    times = interleaved_medians({"fast": lambda: None, "slow": lambda: sum(range(20_000))}, repeat=3)
    assert times["slow"] > times["fast"] >= 0
    with pytest.raises(ValueError, match="repeat"):
        interleaved_medians({"x": lambda: None}, repeat=0)
    with pytest.raises(ValueError, match="min_time"):
        interleaved_medians({"x": lambda: None}, min_time=-1)


def test_a_looped_sample_reports_seconds_per_call(monkeypatch):
    from papernotes import timing

    clock, calls = [0.0], []
    monkeypatch.setattr(timing, "time", SimpleNamespace(perf_counter=lambda: clock[0]))  # a clock only work() moves

    def work():
        calls.append(1)
        clock[0] += 1 / 256  # dyadic steps: four of them are exactly min_time

    times = timing.interleaved_medians({"work": work}, repeat=3, warmup=0, min_time=1 / 64)
    assert len(calls) == 3 * 4  # each sample looped until min_time had passed
    assert times["work"] == 1 / 256  # per call, not per sample


def test_costs_count_a_known_layer():
    from papernotes.costs import count_params, multiply_adds

    with torch.device("meta"):
        conv = torch.nn.Conv2d(3, 8, 3, padding=1, bias=False)  # 8*3*9 weights, each used 10*10 times
    assert count_params(conv) == 216
    assert multiply_adds(conv, resolution=10) == 216 * 100
    with pytest.raises(ValueError, match="resolution"):
        multiply_adds(conv, resolution=0)


def test_copy_weights_in_order_reshapes_and_rejects_mismatches():
    from papernotes.weights import copy_weights_in_order

    conv, linear = torch.nn.Conv2d(4, 3, 1), torch.nn.Linear(4, 3)  # same sizes, other shapes
    assert copy_weights_in_order(linear, conv) == 2
    x = torch.randn(5, 4)
    torch.testing.assert_close(linear(x), conv(x[:, :, None, None]).flatten(1))
    with pytest.raises(ValueError, match="elements"):
        copy_weights_in_order(torch.nn.Linear(4, 2), conv)
    with pytest.raises(ValueError, match="tensors"):
        copy_weights_in_order(torch.nn.Linear(4, 3, bias=False), conv)


def test_saved_tensors_used_once_only_when_the_graph_is_freed_after_backward():
    from papernotes.autograd import saved_tensors_used_once

    answers = []

    class Probe(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            answers.append(saved_tensors_used_once())
            return grad * 2

    x = torch.ones(3, requires_grad=True)
    y = Probe.apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    torch.autograd.grad(Probe.apply(x).sum(), x)
    assert answers == [False, True, True]
    assert saved_tensors_used_once() is False  # outside a backward pass
