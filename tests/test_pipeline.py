"""End to end: the quick config runs in a temporary copy of the repository."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIG2 = "figures/fig2_population_dynamics"


def snakemake(cwd, *args, overrides=(), timeout=900):
    """Run Snakemake on the quick config, plus override files merged on top of it."""
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--configfile", "config/quick.yaml", *overrides, *args],
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
def test_quick_config_builds_every_readme_artifact(quick_run):
    res = subprocess.run([sys.executable, "scripts/check_artifacts.py"], cwd=quick_run,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "every claim" in res.stdout
    for ext in ("pdf", "png"):
        assert (quick_run / f"{FIG2}.{ext}").stat().st_size > 10_000
    assert (quick_run / "results/notebooks/fig2_population_dynamics.ipynb").exists()
    assert not list(quick_run.rglob("*.tmp"))


@pytest.mark.pipeline
def test_checks_json_lists_every_claim(quick_run):
    claims = json.loads((quick_run / "results/checks.json").read_text())
    ids = {c["id"] for c in claims}
    assert ids >= {"threshold.s_one_third", "escape.log_d", "escape.faster_with_a", "phase2.converges",
                   "phase3.frozen_approx", "sgd.tracks_flow", "gd.matches_flow"}
    for c in claims:
        assert set(c) == {"id", "statement", "measured", "expected", "tolerance", "passed"}


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
    for other in ("simulate_flow", "simulate_gd", "simulate_sgd", "figure1", "figure3", "claims"):
        assert other not in out


@pytest.mark.pipeline
def test_failed_claim_fails_the_run_and_names_it(quick_run):
    """A claim whose tolerance cannot be met stops the run; --keep-going still builds the rest."""
    override = quick_run / "strict_frozen.yaml"
    override.write_text("claims:\n  frozen_mse_rtol: 0.0001\n")
    res = snakemake(quick_run, "--cores", "2", "--keep-going", overrides=[str(override)])
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "phase3.frozen_approx: FAILED" in out
    checks = json.loads((quick_run / "results/checks.json").read_text())
    assert [c["id"] for c in checks if not c["passed"]] == ["phase3.frozen_approx"]
    # restore the passing state for the other tests
    assert snakemake(quick_run, "--cores", "2").returncode == 0
