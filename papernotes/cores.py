"""Load a companion's method core: only the code between its core markers.

A companion marks its core with pymdownx.snippets section markers,

    # --8<-- [start:core]            (or start:core-<name> for several pieces)
    ...
    # --8<-- [end:core]

so the note can embed exactly that code, and tests and benchmarks can import it
without executing the rest of the notebook.
"""

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

_MARKER = re.compile(r"^#\s*--8<--\s*\[(start|end):(core(?:-[\w-]+)?)\]\s*$")


def core_source(path: str | Path) -> str:
    """Return the core's source: every marked core region, in file order.

    Lines outside the regions become blank, so tracebacks point at the companion's own
    line numbers.
    """
    path = Path(path)
    if path.suffix != ".py":
        raise ValueError(f"path must be a companion .py file, got {str(path)!r}")
    lines = path.read_text(encoding="utf-8").splitlines()
    kept, open_name, start = [""] * len(lines), None, 0
    for number, line in enumerate(lines, start=1):
        match = _MARKER.match(line.strip())
        if not match:
            continue
        kind, name = match.groups()
        if kind == "start":
            if open_name is not None:
                raise ValueError(f"{path}:{number}: core region {name!r} starts inside {open_name!r}")
            open_name, start = name, number
        else:
            if name != open_name:
                raise ValueError(f"{path}:{number}: end marker {name!r} does not close {open_name!r}")
            kept[start:number - 1] = lines[start:number - 1]
            open_name = None
    if open_name is not None:
        raise ValueError(f"{path}: core region {open_name!r} is never closed")
    if not any(kept):
        raise ValueError(f"{path} has no '# --8<-- [start:core]' region")
    return "\n".join(kept) + "\n"


def load_core(path: str | Path) -> ModuleType:
    """Execute a companion's core in a fresh module and return it.

    The module is registered in sys.modules as ``papernotes_core_<slug>`` so that
    pickling and dataclasses work; loading again replaces it.
    """
    path = Path(path)
    name = f"papernotes_core_{path.stem}"
    spec = importlib.util.spec_from_loader(name, loader=None, origin=str(path))
    module = importlib.util.module_from_spec(spec)
    module.__file__ = str(path)
    sys.modules[name] = module
    code = compile(core_source(path), str(path), "exec")
    exec(code, module.__dict__)
    return module
