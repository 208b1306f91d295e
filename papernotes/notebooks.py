"""Companion notebooks: the .py source, its executed .ipynb twin, and clean re-execution."""

import platform
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import jupytext
import nbformat
from jupytext.combine import combine_inputs_with_outputs

# Packages whose versions decide a companion's numbers; recorded in every twin.
PROVENANCE_PACKAGES = ("torch", "timm", "numpy", "scikit-learn", "jupytext", "nbclient")


def twin_path(py: Path) -> Path:
    return Path(py).with_suffix(".ipynb")


def _cells(notebook) -> list[tuple[str, str, tuple]]:
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", ()))) for c in notebook.cells]


def pair_problems(py: Path) -> list[str]:
    """Why the twin of ``py`` does not faithfully hold ``py`` executed, if it does not."""
    py, twin = Path(py), twin_path(py)
    if not twin.exists():
        return [f"{py}: no executed twin {twin}; run `make execute NAME={py.stem}`"]
    source, stored = _cells(jupytext.read(py)), _cells(nbformat.read(twin, as_version=4))
    if source != stored:
        for index, (a, b) in enumerate(zip(source, stored)):
            if a != b:
                return [f"{twin}: cell {index + 1} differs from {py} (out of sync); run `make execute NAME={py.stem}`"]
        return [f"{twin}: has {len(stored)} cells but {py} has {len(source)}; run `make execute NAME={py.stem}`"]
    notebook = nbformat.read(twin, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    counts = [c.get("execution_count") for c in code]
    if counts != list(range(1, len(code) + 1)):
        return [f"{twin}: not executed top to bottom in one run (execution counts {counts}); run `make execute NAME={py.stem}`"]
    for index, cell in enumerate(code):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            if "raises-exception" not in cell.metadata.get("tags", []):
                return [f"{twin}: code cell {index + 1} stored an error; fix it and re-execute"]
    return []


def provenance(runtime_s: float) -> dict:
    versions = {"python": platform.python_version()}
    for package in PROVENANCE_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return {
        "executed_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "runtime_s": round(runtime_s, 1),
        "versions": versions,
        "machine": f"{platform.system()} {platform.machine()}",
    }


def execute(py: Path, timeout: int = 900) -> float:
    """Execute the .py afresh and write its twin; returns the runtime in seconds.

    Inputs come from the .py alone. Cell ids are kept from the old twin so the diff shows
    only real changes; its outputs are discarded, never merged back. Timing metadata is
    not recorded per cell: the whole run's provenance goes in the notebook metadata.
    """
    from nbclient import NotebookClient

    py, twin = Path(py), twin_path(py)
    notebook = jupytext.read(py)
    if twin.exists():
        notebook = combine_inputs_with_outputs(notebook, nbformat.read(twin, as_version=4))
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata.pop("papernotes", None)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(py.parent.resolve())}},
    )
    start = time.perf_counter()
    client.execute()
    runtime = time.perf_counter() - start
    notebook.metadata["papernotes"] = provenance(runtime)
    nbformat.validate(notebook)
    nbformat.write(notebook, twin)
    return runtime


def execute_all(paths: list[Path], out=sys.stderr) -> dict[str, float]:
    """Execute each companion in turn, reporting which one runs and how long it took."""
    runtimes = {}
    for number, py in enumerate(paths, start=1):
        print(f"[{number}/{len(paths)}] executing {py} ...", file=out, flush=True)
        runtimes[str(py)] = execute(py)
        print(f"[{number}/{len(paths)}] {py}: {runtimes[str(py)]:.1f} s", file=out, flush=True)
    return runtimes
