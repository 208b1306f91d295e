"""Every benchmark still runs: each at tiny sizes, once, printing its ratios (no timing asserted).

`make bench` runs them at full size; this smoke run keeps them from rotting unseen.
"""

import runpy
from pathlib import Path

import pytest
import torch

from papernotes.benchreport import BenchReport

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "benchmarks").glob("bench_*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.stem)
def test_benchmark_runs_at_tiny_sizes_and_prints_its_ratios(script, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)  # benchmarks load companions by their repository path
    threads = torch.get_num_threads()
    try:
        module = runpy.run_path(str(script), run_name="benchmark")
        assert "main" in module, f"{script.name}: define main(smoke=False) and call it under `if __name__ == '__main__'`"
        assert capsys.readouterr().out == "", f"{script.name}: importing it ran a benchmark; move the work into main()"
        report = module["main"](smoke=True)
    finally:
        torch.set_num_threads(threads)  # benchmarks use two threads; the tests after them must not
    printed = capsys.readouterr().out
    assert any(ch.isdigit() for ch in printed) and ("/" in printed or "ratio" in printed), printed
    assert isinstance(report, BenchReport) and report.rows, f"{script.name}: main() must return a BenchReport with rows"
    assert {row["kind"] for row in report.rows} <= {"peer", "floor"}
