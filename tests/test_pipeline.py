"""End to end: the quick config runs in a temporary copy of the repository."""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import compare_results  # scripts/ is on the path (conftest)
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIG2 = "figures/fig2_population_dynamics"


def snakemake(cwd, *args, overrides=(), timeout=900):
    """Run Snakemake on the quick config, plus override files merged on top of it."""
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--configfile", "config/quick.yaml", *overrides, *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )


def copy_repo(dest: Path) -> Path:
    """Copy the tracked and untracked-but-not-ignored files of the repository to dest."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def assert_same_results(repo: Path, reference: Path) -> None:
    """Every npz array under results/, checks.json and the tables, bit for bit (compare_results)."""
    different = compare_results.differences(reference, repo)
    assert not different, f"{len(different)} differences, e.g. {different[:5]}"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """The quick DAG run once, uninterrupted, on 2 cores: the reference of the other tests."""
    dest = copy_repo(tmp_path_factory.mktemp("pipeline") / "repo")
    res = snakemake(dest, "--cores", "2")
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    return dest


@pytest.mark.pipeline
def test_quick_config_builds_every_readme_artifact(quick_run):
    res = subprocess.run([sys.executable, "scripts/check_artifacts.py", "--config", "config/quick.yaml"],
                         cwd=quick_run, capture_output=True, text=True, timeout=300)
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
                   "phase3.frozen_approx", "sgd.tracks_flow", "gd.matches_flow", "escape.rate",
                   "volterra.phase1", "volterra.theta_exact", "volterra.phase2b", "phase3.gamma_law",
                   "loss.tail_exponent", "phase2.T2_exponent"}
    for study in ("sgd_grid", "init", "inputs", "finite"):  # every study merged its claims
        assert any(i.startswith(f"{study}.") for i in ids), study
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


@pytest.mark.pipeline
def test_sigkill_then_resume_on_one_core_gives_identical_results(quick_run, tmp_path):
    """Kill the quick run with SIGKILL at a random point, resume on 1 core, compare bit for bit.

    This covers crash safety (no half-written result survives, --rerun-incomplete completes)
    and determinism across core counts and reruns (the reference ran uninterrupted on 2 cores).
    """
    repo = copy_repo(tmp_path / "repo")
    delay = random.Random().uniform(8.0, 40.0)
    cmd = [sys.executable, "-m", "snakemake", "--configfile", "config/quick.yaml", "--cores", "2"]
    proc = subprocess.Popen(cmd, cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # a killed Snakemake leaves its lock behind; --unlock removes it, nothing else
    assert snakemake(repo, "--unlock").returncode == 0
    res = snakemake(repo, "--cores", "1", "--rerun-incomplete")
    assert res.returncode == 0, f"resume after a kill at {delay:.1f} s failed:\n" + res.stderr[-3000:]
    assert not list(repo.rglob("*.tmp"))
    assert_same_results(repo, quick_run)


@pytest.mark.pipeline
def test_html_report_holds_every_figure(quick_run):
    res = snakemake(quick_run, "--report", "results/report.html")
    assert res.returncode == 0, res.stderr[-3000:]
    page = (quick_run / "results/report.html").read_text(errors="replace")
    assert len(page) > 100_000  # self-contained: figures are embedded
    if shutil.which("chromium") is None:
        pytest.skip("headless check needs Debian's chromium (apt-get install chromium)")
    res = subprocess.run(
        [sys.executable, "scripts/check_report.py", "results/report.html", "--png", "results/report.png"],
        cwd=quick_run, capture_output=True, text=True, timeout=600,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert (quick_run / "results/report.png").stat().st_size > 10_000
