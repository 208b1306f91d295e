"""A companion's core: the code between its pymdownx.snippets section markers,

    # --8<-- [start:core]            (or start:core-<name> for several pieces)
    ...
    # --8<-- [end:core]

The note embeds exactly that code; the integrity checks read the markers here, and the
companion runtime (``papernotes.load_core``) executes what they enclose.
"""

import re
from pathlib import Path

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
