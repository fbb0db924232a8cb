"""Learning dynamics of phase retrieval under power-law data (arXiv 2511.18661)."""

import hashlib
import os
import sys
from pathlib import Path

__version__ = "0.1.0"


def _numba_cache_dir() -> str:
    """numba keys a cached kernel by its own source file alone, not by the functions it inlines from
    other modules (fused_rng's inside sgd's kernels), so an edit there would leave a stale compiled
    kernel. The package's caches therefore live in a folder named by a digest of all its sources:
    any edit compiles afresh. Under NUMBA_CACHE_DIR when the user sets it, else beside the sources
    (or in ~/.cache when those are read-only)."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(here.rglob("*.py")):
        digest.update(path.relative_to(here).as_posix().encode() + b"\0" + path.read_bytes())
    name = f"numba-{digest.hexdigest()[:16]}"
    given = os.environ.get("NUMBA_CACHE_DIR", "")
    if given.endswith(name):  # set by a parent process of the same sources
        return given
    if not given:
        writable = os.access(here, os.W_OK)
        given = str(here / "__pycache__") if writable else str(Path.home() / ".cache" / "prdynamics")
    return os.path.join(given, name)


os.environ["NUMBA_CACHE_DIR"] = _numba_cache_dir()
if "numba" in sys.modules:  # imported before us: its config has already read the environment
    sys.modules["numba"].config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"]
