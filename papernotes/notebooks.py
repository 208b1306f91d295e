"""Clean re-execution of a companion: its .py source becomes its executed .ipynb twin."""

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
