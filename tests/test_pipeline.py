"""End to end: the quick config runs in a temporary copy of the repository."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIG2 = "figures/fig2_population_dynamics"


def snakemake(cwd, *args, timeout=900):
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--configfile", "config/quick.yaml", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """Copy the tracked and untracked-but-not-ignored files, then run the quick DAG once."""
    dest = tmp_path_factory.mktemp("pipeline") / "repo"
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    res = snakemake(dest, "--cores", "2")
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    return dest


@pytest.mark.pipeline
def test_quick_config_builds_figure_two(quick_run):
    for ext in ("pdf", "png"):
        path = quick_run / f"{FIG2}.{ext}"
        assert path.exists() and path.stat().st_size > 10_000
    assert (quick_run / "results/notebooks/fig2_population_dynamics.ipynb").exists()
    assert not list(quick_run.rglob("*.tmp"))


@pytest.mark.pipeline
def test_second_dry_run_has_nothing_to_do(quick_run):
    res = snakemake(quick_run, "-n")
    assert res.returncode == 0
    assert "Nothing to be done" in res.stdout + res.stderr


@pytest.mark.pipeline
def test_figure_target_rebuilds_only_its_chain(quick_run):
    (quick_run / f"{FIG2}.png").unlink()
    res = snakemake(quick_run, "-n", "--cores", "2", f"{FIG2}.png")
    out = res.stdout + res.stderr
    assert res.returncode == 0
    assert "figure2" in out
    assert "simulate_flow" not in out and "simulate_gd" not in out
