"""The user cache directory: compiled references and each function task's counterexamples."""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """$XDG_CACHE_HOME/superopt/PARTS (else ~/.cache/superopt/PARTS), created on demand."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base, "superopt", *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
