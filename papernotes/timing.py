"""Measure wall-clock time and peak memory of a callable, for benchmarks."""

import ctypes
import gc
import statistics
import time
from collections.abc import Callable
from pathlib import Path


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


_M_MMAP_THRESHOLD = -3  # glibc mallopt parameter


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field} line")


def peak_memory_bytes(make_fn: Callable[[], Callable[[], object]]) -> int:
    """Peak resident memory that one call of the function adds (Linux).

    ``make_fn`` builds the inputs and returns the callable, so input tensors count as
    baseline, not as the method's memory. After a warm-up call, the kernel's high-water mark
    (VmHWM) is reset and the call runs again: the peak is VmHWM minus the RSS just before it,
    so buffers freed before the call returns still count. glibc's mmap threshold is fixed
    first, or freed large buffers would stay cached in the heap and hide from the second call.
    This runs in-process: forking after OpenMP threads have started can deadlock the child.
    """
    ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
    fn = make_fn()
    fn()  # warm-up: allocator caches and lazy initialisation are not the method's memory
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # "5" resets the peak RSS counter
    baseline_kib = _status_kib("VmRSS")
    fn()
    return max(_status_kib("VmHWM") - baseline_kib, 0) * 1024


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
