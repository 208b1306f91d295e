"""Measure wall-clock time and peak memory of a callable, for benchmarks."""

import gc
import multiprocessing
import resource
import statistics
import time
from collections.abc import Callable

import psutil


def median_seconds(fn: Callable[[], object], repeat: int = 7, warmup: int = 2, min_time: float = 0.0) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeat`` runs after ``warmup`` runs.

    With ``min_time`` each sample loops ``fn`` until that many seconds have passed and
    reports the time per call, so very fast functions are not lost in timer noise.
    """
    if repeat < 1 or warmup < 0:
        raise ValueError(f"repeat must be >= 1 and warmup >= 0, got repeat={repeat!r}, warmup={warmup!r}")
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        gc.collect()
        calls, start = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        samples.append(elapsed / calls)
    return statistics.median(samples)


def _peak_child(make_fn, queue):
    fn = make_fn()
    fn()  # warm-up: allocator caches and lazy initialisation are not the method's memory
    gc.collect()
    baseline_kib = psutil.Process().memory_info().rss // 1024
    fn()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # lifetime peak; the warm-up peaked alike
    queue.put((peak_kib - baseline_kib) * 1024)


def peak_memory_bytes(make_fn: Callable[[], Callable[[], object]]) -> int:
    """Peak resident memory that one call of the function adds, measured in a forked child.

    ``make_fn`` builds the inputs and returns the callable, so input tensors count as
    baseline, not as the method's memory. The peak is max RSS during the call minus
    the RSS just before it: allocations freed before the call returns still count.
    """
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_peak_child, args=(make_fn, queue))
    child.start()
    result = queue.get(timeout=600)
    child.join()
    return max(int(result), 0)


def interleaved_medians(fns: dict[str, Callable[[], object]], repeat: int = 7, warmup: int = 1) -> dict[str, float]:
    """Median seconds of each function, sampled round-robin.

    Alternating the candidates spreads any background load over all of them alike, so
    their ratios stay meaningful on a busy machine.
    """
    if repeat < 1 or warmup < 0:
        raise ValueError(f"repeat must be >= 1 and warmup >= 0, got repeat={repeat!r}, warmup={warmup!r}")
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}
