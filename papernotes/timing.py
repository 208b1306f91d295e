"""Measure wall-clock time and peak memory of a callable, for benchmarks."""

import ctypes
import gc
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def _seconds_per_call(fn: Callable[[], object], min_time: float) -> float:
    """One sample: ``fn()`` once, or in a loop until ``min_time`` seconds have passed; seconds per call."""
    gc.collect()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / calls


def _check_counts(repeat: int, warmup: int, min_time: float) -> None:
    if repeat < 1 or warmup < 0 or min_time < 0:
        raise ValueError(f"repeat must be >= 1, warmup >= 0 and min_time >= 0, got repeat={repeat!r}, "
                         f"warmup={warmup!r}, min_time={min_time!r}")


def median_seconds(fn: Callable[[], object], repeat: int = 7, warmup: int = 2, min_time: float = 0.0) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeat`` samples after ``warmup`` calls.

    With ``min_time`` each sample loops ``fn`` until that many seconds have passed and
    reports the time per call, so very fast functions are not lost in timer noise.
    """
    _check_counts(repeat, warmup, min_time)
    for _ in range(warmup):
        fn()
    return statistics.median(_seconds_per_call(fn, min_time) for _ in range(repeat))


_M_MMAP_THRESHOLD = -3  # glibc mallopt parameter
PEAK_MEMORY_FLAG = "--peak-memory"  # how peak_memory_in_new_process asks a benchmark script for one case


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
    That setting stays for the rest of the process and slows later allocations, so benchmarks
    call this in an interpreter of its own, through ``peak_memory_in_new_process`` (a fresh
    interpreter, not a fork: forking after OpenMP threads have started can deadlock the child).
    """
    ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
    fn = make_fn()
    fn()  # warm-up: allocator caches and lazy initialisation are not the method's memory
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # "5" resets the peak RSS counter
    baseline_kib = _status_kib("VmRSS")
    fn()
    return max(_status_kib("VmHWM") - baseline_kib, 0) * 1024


def peak_memory_in_new_process(script: str | Path, *args: object) -> int:
    """Peak memory printed by ``python SCRIPT --peak-memory ARGS...``, run in a new interpreter.

    Benchmarks measure memory this way, never in the process that times: peak_memory_bytes
    fixes glibc's mmap threshold for the rest of its process, so every later allocation above
    128 KiB maps and faults in fresh pages (a 512 x 512 matmul ran 5x slower after it), and
    heap memory that earlier calls freed would hide a peak. The script answers
    ``--peak-memory`` by printing ``peak_memory_bytes(...)`` for the case its arguments name;
    it runs in the current directory, as the calling benchmark does.
    """
    script = Path(script).resolve()
    command = [sys.executable, str(script), PEAK_MEMORY_FLAG, *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0 or not done.stdout.strip().isdigit():
        raise RuntimeError(f"{script.name} {PEAK_MEMORY_FLAG} {' '.join(map(str, args))} exited with {done.returncode} "
                           f"and printed {done.stdout.strip()!r}: {done.stderr.strip()[-500:]}")
    return int(done.stdout)


def interleaved_medians(fns: dict[str, Callable[[], object]], repeat: int = 7, warmup: int = 1,
                        min_time: float = 0.0) -> dict[str, float]:
    """Median seconds per call of each function, sampled round-robin.

    Alternating the candidates spreads any background load over all of them alike, so
    their ratios stay meaningful on a busy machine. A single call that takes well under a
    millisecond mostly measures idle threads waking up and caches left cold by the previous
    candidate; ``min_time`` makes each sample a loop of calls lasting that long, as a
    training loop would call the function.
    """
    _check_counts(repeat, warmup, min_time)
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            samples[name].append(_seconds_per_call(fn, min_time))
    return {name: statistics.median(values) for name, values in samples.items()}
