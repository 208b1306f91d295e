"""Load a companion's method core: only the code between its core markers.

A companion marks its core with pymdownx.snippets section markers,

    # --8<-- [start:core]            (or start:core-<name> for several pieces)
    ...
    # --8<-- [end:core]

so the note can embed exactly that code, and tests and benchmarks can import it
without executing the rest of the notebook.
"""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from papersite.cores import core_source

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
