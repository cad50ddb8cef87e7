"""Writing a file so that a reader never sees half of it: the one mechanism behind the
sweeps' results store, comparison outputs and the workshop's saves and reports."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: Path, write: Callable[[Path], None], mode: int = 0o644) -> None:
    """Call `write(tmp)` on a temporary sibling of `path`, then move it into place with
    `os.replace`, so readers see the old file or the new one; on any failure the temporary
    file is removed and the error raised. `mode` is the finished file's permission bits."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
