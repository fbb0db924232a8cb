"""The optional CUDA backend of online SGD against the CPU kernel on the same draws.

Each check runs in numba's CUDA simulator (a subprocess with NUMBA_ENABLE_CUDASIM=1, so the
kernel's logic is tested on any machine) and, where a CUDA GPU is present, on the GPU itself;
the GPU tests skip without one.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_args import SGD, options

HERE = Path(__file__).resolve().parent


def check_kernel_matches_cpu_on_replayed_draws():
    from prdynamics.seeding import problem
    from prdynamics.sgd import sgd_steps
    from prdynamics.sgd_cuda import replay_draws, replica_states, sgd_steps_cuda

    d = 70  # 32 threads, 3 coordinates on some: the padded tail is exercised
    lam, wstar, w0 = problem(2.0, d, 4, base_seed=0)
    for batch, sigma in ((1, 0.0), (2, 0.4)):
        states = replica_states([5, 7], d)
        copy = states.copy()
        w, k = sgd_steps_cuda(w0, lam, wstar, states, 1, 4, 0.05, sigma, batch)
        z, xi = replay_draws(copy, 1, d, 4, batch, sigma)
        assert abs(z.mean()) < 0.15 and abs(z.var() - 1) < 0.2  # standard normals
        want, k_cpu = sgd_steps(w0, lam, wstar, z, xi, 0.05, sigma, blowup=np.inf)
        assert k == k_cpu == -1
        np.testing.assert_allclose(w, want, rtol=1e-12, atol=1e-15)
        assert np.array_equal(states, copy)  # the launch advanced its states as the replay did
        assert not np.array_equal(w, w0)


def check_divergence_step_matches_cpu():
    from prdynamics.seeding import problem
    from prdynamics.sgd import sgd_steps
    from prdynamics.sgd_cuda import replay_draws, replica_states, sgd_steps_cuda

    d = 40
    lam, wstar, w0 = problem(1.0, d, 2, base_seed=0)
    states = replica_states([0], d)
    copy = states.copy()
    w, k = sgd_steps_cuda(w0, lam, wstar, states, 0, 12, 40.0, 0.0, 1, blowup=1e3)
    z, xi = replay_draws(copy, 0, d, 12, 1, 0.0)
    want, k_cpu = sgd_steps(w0, lam, wstar, z, xi, 40.0, 0.0, blowup=1e3)
    assert 1 <= k == k_cpu < 12
    np.testing.assert_allclose(w, want, rtol=1e-12)


def check_run_sgd_cuda_records_the_replayed_trajectory():
    from prdynamics.flow import trajectory_statistics
    from prdynamics.seeding import problem
    from prdynamics.sgd import run_sgd, sgd_steps
    from prdynamics.sgd_cuda import replay_draws, replica_states, run_sgd_cuda

    a, d, eta, batch, sigma = 2.0, 40, 0.05, 2, 0.2
    t_eval = np.array([0.05, 0.2])
    res = run_sgd_cuda(a, d, [0, 3], eta, batch, sigma, t_eval, base_seed=0, blowup=1e6)
    cpu = run_sgd(a, d, [0, 3], eta, batch, sigma, t_eval, base_seed=0, blowup=1e6, rng="numpy")
    np.testing.assert_array_equal(res.t, cpu.t)
    np.testing.assert_array_equal(res.w0, cpu.w0)  # the same problems as the CPU path
    assert set(res.stats) == set(cpu.stats) and not res.diverged.any()
    alone = run_sgd_cuda(a, d, [3], eta, batch, sigma, t_eval,
                         base_seed=0, blowup=1e6)  # replicas are independent
    for key in res.stats:
        np.testing.assert_array_equal(alone.stats[key][0], res.stats[key][1])
    lam, wstar, w = problem(a, d, 3, base_seed=0)
    states = replica_states([3], d)
    done = 0
    for k, step in enumerate(np.round(res.t / eta).astype(int)):
        z, xi = replay_draws(states, 0, d, step - done, batch, sigma)
        w, _ = sgd_steps(w, lam, wstar, z, xi, eta, sigma, blowup=np.inf)
        done = step
        want = trajectory_statistics(lam, wstar, w, float(np.sum(lam * wstar**2)))
        got = [res.stats[name][1, k] for name in ("s", "u", "s2", "u2", "mse", "loss")]
        np.testing.assert_allclose(got, want, rtol=1e-11)
    np.testing.assert_allclose(res.w_final[1], w, rtol=1e-11)


def check_bad_arguments_are_refused():
    from prdynamics.sgd_cuda import run_sgd_cuda, threads_per_block

    with pytest.raises(ValueError, match="Gaussian inputs only"):
        run_sgd_cuda(2.0, 40, [0], 0.01, 1, 0.0, np.array([1.0]), input_law="rademacher",
                     base_seed=0, blowup=1e6)
    with pytest.raises(ValueError, match="d <= 8192"):
        threads_per_block(10_000)
    with pytest.raises(ValueError, match="eta must be positive"):
        run_sgd_cuda(2.0, 40, [0], -1.0, 1, 0.0, np.array([1.0]), base_seed=0, blowup=1e6)
    assert [threads_per_block(d) for d in (2, 256, 257, 1000, 8192)] == [32, 32, 64, 128, 1024]


def check_cli_writes_a_cuda_result():
    import tempfile

    sys.path.insert(0, str(HERE.parent / "scripts"))
    import simulate_sgd

    from prdynamics.io import load_result

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "x.npz"
        args = ["--a", "2", "--d", "20", "--seed", "0", "1", "--out", str(out),
                *options(SGD, **{"--eta": "0.01", "--t-max": "0.05", "--t-min": "0.01", "--backend": "cuda"})]
        assert simulate_sgd.main(args) == 0
        res = load_result(out)
        assert str(res["backend"]) == "cuda" and res["provenance"]["inputs"]["backend"] == "cuda"
        assert res["mse"].shape == (2, res["t"].size) and np.isfinite(res["mse"]).all()


def check_benchmark_case_runs():
    sys.path.insert(0, str(HERE.parent / "scripts"))
    import benchmark

    sizes = {"cuda": {"d": 40, "replicas": 2, "steps": 3, "cpu_replicas": 1, "repeats": 1, "check_steps": 3}}
    res = benchmark.case_sgd_cuda(sizes, print)
    rows = {r["name"]: r for r in res["rows"]}
    assert set(rows) == {"sgd_cuda_vs_cpu", "sgd_cuda_vs_floor"}
    assert rows["sgd_cuda_vs_floor"]["accuracy"] < 1e-12 and rows["sgd_cuda_vs_floor"]["target_ratio"] == 1.0
    assert res["details"]["samples_dims_per_s"]["cuda"] > 0


CHECKS = [
    check_benchmark_case_runs,
    check_cli_writes_a_cuda_result,
    check_kernel_matches_cpu_on_replayed_draws,
    check_divergence_step_matches_cpu,
    check_run_sgd_cuda_records_the_replayed_trajectory,
    check_bad_arguments_are_refused,
]


def run_checks() -> dict:
    """Run every check here; {name: "ok" or its traceback}."""
    import traceback

    outcome = {}
    for check in CHECKS:
        try:
            check()
            outcome[check.__name__] = "ok"
        except Exception:
            outcome[check.__name__] = traceback.format_exc()
    return outcome


@pytest.fixture(scope="module")
def simulator_outcome():
    """Every check, run once in one simulator process (its start-up costs more than the checks)."""
    code = (f"import json, sys, warnings; sys.path.insert(0, {str(HERE)!r}); "
            "warnings.simplefilter('ignore'); import test_sgd_cuda as m; print(json.dumps(m.run_checks()))")
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1"}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_in_cuda_simulator(check, simulator_outcome):
    assert simulator_outcome[check.__name__] == "ok", simulator_outcome[check.__name__]


def gpu_present() -> bool:
    from numba import cuda

    return not os.environ.get("NUMBA_ENABLE_CUDASIM") and cuda.is_available()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_on_gpu(check):
    if not gpu_present():
        pytest.skip("no CUDA GPU here (the simulator tests cover the kernel's logic)")
    check()


def test_without_gpu_the_backend_says_so():
    if gpu_present():
        pytest.skip("a CUDA GPU is present")
    from prdynamics.sgd_cuda import run_sgd_cuda

    with pytest.raises(RuntimeError, match="no CUDA device"):
        run_sgd_cuda(2.0, 40, [0], 0.01, 1, 0.0, np.array([1.0]), base_seed=0, blowup=1e6)
