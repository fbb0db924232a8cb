"""Compiled kernels follow every source they use, not only their own file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "prdynamics"
RUN = ("from prdynamics.sgd import run_sgd; r = run_sgd(1.5, 8, [0], 0.01, 1, 0.0, [0.5], base_seed=0, "
       "blowup=1e6, rng='fused'); print(repr(float(r.w_final.sum())))")


def _run(src: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"} | {"PYTHONPATH": str(src)}
    res = subprocess.run([sys.executable, "-c", RUN], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout.strip()


def test_an_edit_in_an_inlined_module_recompiles_the_kernel(tmp_path):
    """sgd's fused kernel inlines fused_rng's normal transform. numba's own cache would keep the
    kernel compiled from the old fused_rng (it checks sgd.py's timestamp only); the package's
    digest-named cache folder makes the edited copy compile afresh and draw other numbers."""
    src = tmp_path / "src"
    shutil.copytree(PACKAGE, src / "prdynamics", ignore=shutil.ignore_patterns("__pycache__"))
    before = _run(src)
    assert _run(src) == before  # same sources: same numbers (from the cache)
    rng = src / "prdynamics" / "fused_rng.py"
    text = rng.read_text()
    fast = "    return x - 2.0 * neg * x, u < XK[idx]\n"
    assert text.count(fast) == 1
    rng.write_text(text.replace(fast, "    return 1.1 * (x - 2.0 * neg * x), u < XK[idx]\n"))
    assert _run(src) != before
