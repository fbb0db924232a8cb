"""Bad inputs fail with a clear, specific message and leave no partial output."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_args import FLOW, PHASE3, SGD, options, without

from prdynamics.io import provenance, save_result

ROOT = Path(__file__).resolve().parents[1]


def run(*cmd, cwd=ROOT, timeout=300):
    return subprocess.run([sys.executable, *cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("script,extra", [
    ("scripts/simulate_flow.py", ["--seed", "0", *FLOW]),
    ("scripts/simulate_phase3.py", ["--seed", "0", *PHASE3]),
    ("scripts/simulate_sgd.py", ["--seed", "0", *SGD]),
])
def test_dimension_too_large_for_memory_is_refused_before_allocating(script, extra, tmp_path):
    out = tmp_path / "x.npz"
    res = run(script, "--a", "2", "--d", str(10**13), *extra, "--out", str(out), timeout=120)
    assert res.returncode == 2
    assert "GiB" in res.stderr and "available" in res.stderr
    assert not out.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("args,message", [
    (["--a", "-1", "--d", "10", *FLOW], "--a must be >= 0"),
    (["--a", "2", "--d", "1", *FLOW], "--d must be >= 2"),
    (["--a", "2", "--d", "10", *options(FLOW, **{"--t-max": "-5"})], "--t-max"),
    (["--a", "2", "--d", "10", *options(FLOW, **{"--method": "gd", "--eta": "0"})], "--eta must be positive"),
    (["--a", "2", "--d", "10", *without(FLOW, "--rtol", "--atol")], "--method flow needs --rtol and --atol"),
    (["--a", "2", "--d", "10", *without(FLOW, "--method")], "the following arguments are required: --method"),
])
def test_flow_cli_rejects_bad_arguments(args, message, tmp_path):
    res = run("scripts/simulate_flow.py", *args, "--seed", "0", "--out", str(tmp_path / "x.npz"))
    assert res.returncode == 2
    assert message in res.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("script,extra", [
    ("scripts/simulate_flow.py", FLOW),
    ("scripts/simulate_phase3.py", PHASE3),
])
@pytest.mark.parametrize("seeds,outs,message", [
    (["0", "1"], ["x.npz"], "need one distinct --out per --seed"),
    (["0", "1"], ["x.npz", "x.npz"], "need one distinct --out per --seed"),
    (["1", "1"], ["x.npz", "y.npz"], "--seed values must be distinct"),
])
def test_seed_batch_needs_one_file_per_distinct_seed(script, extra, seeds, outs, message, tmp_path):
    res = run(script, "--a", "2", "--d", "10", *extra, "--seed", *seeds,
              "--out", *(str(tmp_path / o) for o in outs))
    assert res.returncode == 2
    assert message in res.stderr
    assert not list(tmp_path.iterdir())


NOTEBOOK = "notebooks/fig3_escape_over_a.py"


def run_notebook(tmp_path, files, kernel="python3"):
    """The notebook rule's command: jupytext to ipynb, then papermill."""
    executed = tmp_path / "executed.ipynb"
    params = ("{flow_files: [" + ", ".join(f"'{f}'" for f in files) + "], delta: 0.01, "
              f"out_stem: '{tmp_path / 'fig'}'}}")
    cmd = (f"jupytext --to ipynb --set-kernel python3 -o - {NOTEBOOK} | "
           f"papermill - {executed} -k {kernel} --no-progress-bar -y \"{params}\"")
    return subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_truncated_npz_given_to_a_notebook_names_the_file(tmp_path):
    good = tmp_path / "run.npz"
    save_result(good, {"t": np.geomspace(1e-3, 1, 50), "s": np.ones(50)}, provenance({}))
    bad = tmp_path / "truncated.npz"
    bad.write_bytes(good.read_bytes()[:200])
    res = run_notebook(tmp_path, [bad])
    assert res.returncode != 0
    assert "truncated.npz: corrupt or truncated npz" in res.stdout + res.stderr
    assert not (tmp_path / "fig.png").exists() and not (tmp_path / "fig.pdf").exists()


def test_missing_kernel_fails_clearly(tmp_path):
    res = run_notebook(tmp_path, [], kernel="no_such_kernel")
    assert res.returncode != 0
    assert "No such kernel" in res.stdout + res.stderr
    assert not (tmp_path / "fig.png").exists()


@pytest.mark.parametrize("extra,message", [
    ({"--input-law": "rademacher"}, "--backend cuda draws Gaussian inputs only"),
    ({}, "no CUDA device"),
])
def test_sgd_cuda_backend_refuses_clearly(extra, message, tmp_path):
    from numba import cuda

    if not extra and cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    out = tmp_path / "x.npz"
    args = options(SGD, **{"--eta": "0.01", "--backend": "cuda"}, **extra)
    res = run("scripts/simulate_sgd.py", "--a", "2", "--d", "20", "--seed", "0", *args, "--out", str(out))
    assert res.returncode == 2
    assert message in res.stderr
    assert not list(tmp_path.iterdir())
