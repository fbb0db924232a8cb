"""Full-batch GD on a fixed sample, against independent computations.

Finite differences of L_n, Monte Carlo means over large samples, an exact equal-weight cubature
on which L_n equals the population loss (so GD on it is the population GD), the linear-response
noise floor averaged over many samples, and the rules that turn runs into findings.
"""

import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_args import FINITE, options

from prdynamics import population
from prdynamics.flow import log_time_grid
from prdynamics.gd import integrate_gd
from prdynamics.io import load_result
from prdynamics.model import spectrum
from prdynamics.seeding import problem
from prdynamics.studies import StudyInputError
from prdynamics.studies import finite as F
from prdynamics.studies.finite import (
    decay_exponent,
    draw_sample,
    empirical_gradient,
    empirical_loss,
    learned_modes,
    loglog_slope,
    noise_floor,
    population_match,
    run_gd,
    sample_limited_threshold,
)


def _random_sample(rng, n, d, a=1.5, sigma=0.3):
    lam = spectrum(d, a)
    X = rng.standard_normal((n, d)) * np.sqrt(lam)
    wstar = rng.standard_normal(d)
    y = (X @ wstar) ** 2 + sigma * rng.standard_normal(n)
    return X, y


def test_gradient_matches_finite_differences_of_the_empirical_loss():
    rng = np.random.default_rng(1)
    X, y = _random_sample(rng, 40, 7)
    w = rng.standard_normal(7)
    g = empirical_gradient(w, X, y)
    h = 1e-6
    fd = np.array([(empirical_loss(w + h * e, X, y) - empirical_loss(w - h * e, X, y)) / (2 * h)
                   for e in np.eye(7)])
    np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-9)


def test_kernel_step_is_the_gradient_step():
    rng = np.random.default_rng(2)
    X, y = _random_sample(rng, 30, 6)
    lam = spectrum(6, 1.5)
    w0 = rng.standard_normal(6) * 0.3
    eta = 0.01
    tr = run_gd(X, y, lam, np.ones(6), w0, np.array([3 * eta]), eta)
    w = w0.copy()
    for _ in range(3):
        w = w - eta * empirical_gradient(w, X, y)
    np.testing.assert_allclose(tr.w_final, w, rtol=1e-12, atol=1e-14)
    assert tr.stats["train"][-1] == pytest.approx(empirical_loss(w, X, y), rel=1e-12)


def test_mean_over_a_large_sample_is_the_population_loss_and_gradient():
    """E L_n(w) = L(w) + sigma^2 and E grad L_n(w) = grad L(w): Monte Carlo within 5 standard errors."""
    d, n, sigma = 5, 400_000, 0.5
    lam, wstar, _ = problem(1.5, d, 3, base_seed=0)
    X, y = draw_sample(lam, wstar, n, sigma, 0, d, 3)
    w = 0.7 * wstar + 0.3 * np.random.default_rng(0).standard_normal(d)
    z = X @ w
    per_loss = (z * z - y) ** 2
    per_grad = 4 * ((z * z - y) * z)[:, None] * X
    se_loss = per_loss.std() / math.sqrt(n)
    se_grad = per_grad.std(axis=0) / math.sqrt(n)
    assert abs(per_loss.mean() - (population.loss(w, lam, wstar) + sigma**2)) < 5 * se_loss
    assert np.all(np.abs(per_grad.mean(axis=0) - population.gradient(w, lam, wstar)) < 5 * se_grad)


def test_samples_are_nested_and_noise_scales_with_sigma():
    d = 6
    lam, wstar, _ = problem(2.0, d, 1, base_seed=0)
    X_small, y_small = draw_sample(lam, wstar, 10, 0.0, 0, d, 1)
    X_big, y_big = draw_sample(lam, wstar, 50, 0.0, 0, d, 1)
    np.testing.assert_array_equal(X_small, X_big[:10])
    np.testing.assert_array_equal(y_small, y_big[:10])
    X_noisy, y_noisy = draw_sample(lam, wstar, 50, 0.2, 0, d, 1)
    X_noisier, y_noisier = draw_sample(lam, wstar, 50, 0.4, 0, d, 1)
    np.testing.assert_array_equal(X_noisy, X_big)
    np.testing.assert_allclose(y_noisier - y_big, 2 * (y_noisy - y_big), rtol=1e-12, atol=1e-14)
    X_other, _ = draw_sample(lam, wstar, 10, 0.0, 0, d, 2)
    assert not np.allclose(X_other, X_small)


def _cubature(lam):
    """Equal-weight design with the Gaussian moments of x up to degree 5: each z_i takes the values
    -sqrt(3), 0, 0, 0, 0, sqrt(3) (the 3-point Gauss-Hermite rule with weights 1/6, 2/3, 1/6),
    all 6^d combinations."""
    values = np.array([-math.sqrt(3), 0, 0, 0, 0, math.sqrt(3)])
    z = np.array(list(itertools.product(values, repeat=lam.shape[0])))
    return z * np.sqrt(lam)


def test_on_an_exact_cubature_the_empirical_loss_is_the_population_loss():
    d = 3
    lam, wstar, _ = problem(2.0, d, 0, base_seed=0)
    X = _cubature(lam)
    y = (X @ wstar) ** 2
    rng = np.random.default_rng(4)
    for _ in range(3):
        w = rng.standard_normal(d)
        assert empirical_loss(w, X, y) == pytest.approx(population.loss(w, lam, wstar), rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(empirical_gradient(w, X, y), population.gradient(w, lam, wstar),
                                   rtol=1e-11, atol=1e-12)


def test_gd_on_an_exact_cubature_is_the_population_gd():
    d = 3
    lam, wstar, w0 = problem(2.0, d, 0, base_seed=0)
    X = _cubature(lam)
    y = (X @ wstar) ** 2
    t_eval = log_time_grid(0.05, 200.0, 10)
    eta = 0.05
    fin = run_gd(X, y, lam, wstar, w0, t_eval, eta)
    ref = integrate_gd(lam, wstar, w0, t_eval, eta)
    np.testing.assert_array_equal(fin.t, ref.t)
    for key in ("s", "u", "mse", "loss"):
        np.testing.assert_allclose(fin.stats[key], ref.stats[key], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fin.stats["train"], ref.stats["loss"], rtol=1e-9, atol=1e-12)
    assert ref.stats["mse"][-1] < 1e-3  # the run does reach w*


def test_gaussian_samples_converge_to_the_population_gd_like_sqrt_d_over_n():
    d, eta = 5, 0.05
    lam, wstar, w0 = problem(1.5, d, 2, base_seed=0)
    t_eval = log_time_grid(0.05, 100.0, 10)
    ref = integrate_gd(lam, wstar, w0, t_eval, eta)
    X, y = draw_sample(lam, wstar, 64_000, 0.0, 0, d, 2)
    devs = {}
    for n in (250, 4000, 64_000):
        fin = run_gd(X[:n], y[:n], lam, wstar, w0, t_eval, eta)
        devs[n] = max(np.max(np.abs(fin.stats[k] - ref.stats[k])) for k in ("s", "u"))
        assert devs[n] < 3 * math.sqrt(d / n)
    assert devs[64_000] < devs[4000] < devs[250]


def test_noise_floor_matches_the_mean_excess_loss_over_many_samples():
    """Excess test loss at the end, noisy minus noiseless run on the same sample, averaged over
    40 samples, against sigma^2 k_eff(N) / n (linear response around w*)."""
    d, n, sigma2, eta, steps = 4, 800, 0.2, 0.1, 600
    lam, wstar, w0 = problem(1.0, d, 0, base_seed=0)
    t_end = np.array([steps * eta])
    excess = []
    for seed in range(40):
        X, y0 = draw_sample(lam, wstar, n, 0.0, 0, d, seed)
        _, y = draw_sample(lam, wstar, n, math.sqrt(sigma2), 0, d, seed)
        w_start = wstar + 0.1 * w0  # start near w* so that every run converges
        clean = run_gd(X, y0, lam, wstar, w_start, t_end, eta).stats["loss"][-1]
        noisy = run_gd(X, y, lam, wstar, w_start, t_end, eta).stats["loss"][-1]
        excess.append(noisy - clean)
    excess = np.array(excess)
    pred = float(noise_floor(lam, wstar, eta, steps, sigma2, n))
    assert learned_modes(lam, wstar, eta, steps) == pytest.approx(d, rel=1e-3)
    assert pred == pytest.approx(sigma2 * d / n, rel=1e-3)
    se = excess.std(ddof=1) / math.sqrt(excess.size)
    assert abs(excess.mean() - pred) < 3 * se + 0.1 * pred  # 10%: the O(d/n) correction at n/d = 200


def test_learned_modes_counts_from_zero_to_d():
    lam, wstar, _ = problem(2.0, 8, 0, base_seed=0)
    assert learned_modes(lam, wstar, 0.1, 0) == 0.0
    ks = [learned_modes(lam, wstar, 0.1, n) for n in (10, 100, 1000, 10**6)]
    assert all(np.diff(ks) > 0)
    assert ks[-1] == pytest.approx(8, rel=1e-9)


def test_divergence_is_flagged_with_nan_after():
    rng = np.random.default_rng(5)
    X, y = _random_sample(rng, 20, 4, sigma=0.0)
    lam = spectrum(4, 1.5)
    t_eval = log_time_grid(1.0, 1e3, 5)
    tr = run_gd(X, y, lam, np.ones(4), np.ones(4) * 3, t_eval, eta=1.0)
    assert tr.info["diverged"] and math.isfinite(tr.info["t_diverged"])
    assert np.all(np.isnan(tr.stats["loss"][-1:])) and np.all(np.isnan(tr.w_final))
    ok = np.isfinite(tr.stats["loss"])
    assert not ok[np.argmin(ok):].any()  # NaN from the divergence on


@pytest.mark.parametrize("bad", [
    dict(eta=0.0), dict(eta=math.nan), dict(X=np.ones((3, 5))), dict(y=np.ones(4)),
    dict(y=np.array([1.0, np.nan, 0.0])),
])
def test_bad_input_is_refused_by_name(bad):
    args = dict(X=np.ones((3, 4)), y=np.ones(3), eta=0.1)
    args.update(bad)
    lam = spectrum(4, 1.0)
    with pytest.raises(ValueError):
        run_gd(args["X"], args["y"], lam, np.ones(4), np.ones(4) / 2, np.array([1.0]), args["eta"])


def test_draw_sample_refuses_bad_arguments():
    lam, wstar, _ = problem(1.0, 4, 0, base_seed=0)
    with pytest.raises(ValueError, match="n must"):
        draw_sample(lam, wstar, 0, 0.0, 0, 4, 0)
    with pytest.raises(ValueError, match="sigma"):
        draw_sample(lam, wstar, 5, -1.0, 0, 4, 0)


def test_sample_limited_threshold_rule():
    x = [1, 2, 4, 8, 16]
    out = sample_limited_threshold(x, [30.0, 5.0, 2.5, 1.4, 1.1], factor=2.0)
    assert out == {"sample_limited_max": 4.0, "tail_limited_from": 8.0, "monotone": True}
    out = sample_limited_threshold(x, [30.0, 1.5, 2.5, 1.4, 1.1], factor=2.0)
    assert out["sample_limited_max"] == 4.0 and out["tail_limited_from"] == 8.0 and not out["monotone"]
    out = sample_limited_threshold(x, [1.0] * 5, factor=2.0)
    assert math.isnan(out["sample_limited_max"]) and out["tail_limited_from"] == 1.0
    out = sample_limited_threshold(x, [9.0, 9.0, 9.0, 9.0, np.nan], factor=2.0)
    assert out["sample_limited_max"] == 16.0 and math.isnan(out["tail_limited_from"])
    with pytest.raises(ValueError):
        sample_limited_threshold(x, [1.0] * 4, factor=2.0)


def test_match_and_slope_helpers_on_closed_forms():
    t = np.geomspace(0.1, 1000, 401)  # 100 per decade: interpolation error ~1e-3
    u = 1 - np.exp(-t / 10)  # |u| = 0.9 at t = 10 log 10
    ref = {"u": u, "loss": t**-0.5, "mse": t**-1.0}
    run = {"u": 1 - np.exp(-t / 11), "loss": 1.1 * t**-0.5, "mse": t**-1.0}
    m = population_match(t, run, ref, t_end=100.0)
    assert m["escape_shift"] == pytest.approx(0.1, rel=2e-2)
    assert m["dev_loss"] == pytest.approx(math.log(1.1), rel=1e-12) and m["dev_mse"] == 0.0
    assert decay_exponent(t, t**-0.7, 10.0) == pytest.approx(-0.7, rel=1e-12)
    assert loglog_slope([1, 2, 4], [3.0, 1.5, 0.75]) == pytest.approx(-1.0, rel=1e-12)
    assert math.isnan(loglog_slope([1, 2, 4], [3.0, -1.0, 0.75]))


def synthetic_finite_file(a, sigma2, t, lam, wstar, n_over_d=(2, 8)):
    """A file of simulate_finite on closed-form curves: loss c t^-1 with c = 1 + n/d-dependent
    excess + sigma2, population loss t^-1; one seed."""
    d, k = lam.size, len(n_over_d)
    excess = np.array([1.0 / r for r in n_over_d])[:, None]
    loss = ((1.0 + excess + sigma2) * t**-1.0)[None]
    return {"t": t, "loss": loss, "mse": loss / 2, "u": np.broadcast_to(1 - np.exp(-t), (1, k, t.size)),
            "train": loss / 4, "pop_loss": (t**-1.0)[None], "pop_mse": (t**-1.0 / 2)[None],
            "pop_u": (1 - np.exp(-t))[None], "lam": lam, "wstar": wstar[None], "a": a, "d": d,
            "seed": np.array([0]), "n_over_d": np.array(n_over_d), "n": d * np.array(n_over_d),
            "sigma2": sigma2, "eta": 0.1, "horizon": t[-1], "t_recovery": t[-1],
            "diverged": np.zeros((1, k), bool)}


def test_summarise_rows_against_the_curves():
    lam, wstar, _ = problem(2.0, 4, 0, base_seed=0)
    t = np.geomspace(0.1, 100.0, 300)
    runs = [synthetic_finite_file(2.0, s2, t, lam, wstar) for s2 in (0.5, 0.0)]
    out = F.summarise(runs)
    assert out["sigma2"].tolist() == [0.5, 0.5, 0.0, 0.0] and out["n_over_d"].tolist() == [2, 8, 2, 8]
    excess = np.array([0.5, 0.125, 0.5, 0.125])
    np.testing.assert_allclose(out["ratio_loss"], 1 + excess + out["sigma2"], rtol=1e-12)
    np.testing.assert_allclose(out["noise_excess"], out["sigma2"] / t[-1], rtol=1e-12)
    np.testing.assert_allclose(out["train_over_test"], out["loss_T"] / 4 / (out["loss_T"] + out["sigma2"]))
    np.testing.assert_allclose(out["mse_exponent"], -1.0, rtol=1e-12)
    np.testing.assert_allclose(out["noise_pred"], out["sigma2"] * learned_modes(lam, wstar, 0.1, 1000)
                               / out["n"], rtol=1e-12)
    assert out["escape_shift"].tolist() == [0.0] * 4 and out["pred_sigma2"].tolist() == [0.0, 0.5]
    with pytest.raises(StudyInputError, match="no noiseless run"):
        F.summarise(runs[:1])


ROOT = Path(__file__).resolve().parents[1]


def test_scripts_run_end_to_end_on_a_tiny_grid(tmp_path):
    """simulate_finite.py for two noise levels, then study_finite.py: files, rows and claim ids."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    files = []
    for s2 in ("0", "0.5"):
        out = tmp_path / f"a2_d8_noise{s2}.npz"
        subprocess.run([sys.executable, str(ROOT / "scripts/simulate_finite.py"), "--a", "2", "--d", "8",
                        "--seeds", "0", "1", "--n-over-d", "2", "16", "32", "64",
                        *options(FINITE, **{"--sigma2": s2, "--horizon-factor": "1"}), "--out", str(out)],
                       check=True, env=env, capture_output=True, timeout=120)
        files.append(str(out))
    run = load_result(files[1], required=("t", "loss", "train", "pop_loss", "diverged"))
    assert run["loss"].shape == (2, 4, run["t"].size) and run["pop_loss"].shape == (2, run["t"].size)
    assert not run["diverged"].any()
    assert run["horizon"] <= run["t"][-1] < run["horizon"] + run["eta"]  # the first step at or after T
    study, claims = tmp_path / "study.npz", tmp_path / "claims.json"
    subprocess.run([sys.executable, str(ROOT / "scripts/study_finite.py"), *files, "--match-exponent", "-0.5",
                    "--floor-factor", "2", "--fit-min", "16", "--floor-slope", "-1", "--floor-bias-c", "3",
                    "--overfit-ratio", "0.5", "--rate-fraction", "0.5", "--confidence-level", "0.95",
                    "--out", str(study), "--claims", str(claims)],
                   check=True, env=env, capture_output=True, timeout=120)
    rows = load_result(study, required=("a", "n_over_d", "ratio_loss", "noise_excess"))
    assert rows["a"].size == 2 * 2 * 4
    ids = [c["id"] for c in json.loads(claims.read_text())]
    assert ids == ["finite.large_n_matches_population", "finite.sample_floor", "finite.noiseless_recovery",
                   "finite.noise_floor_slope"]


def test_noiseless_gd_recovers_w_star_exactly_with_enough_samples_and_interpolates_without():
    """With n = 8 d noiseless samples the only zeros of L_n are +-w*, and GD reaches one of them to
    rounding level; with n = d / 2 it drives L_n to zero at a point far from +-w* (overfitting)."""
    d, eta = 6, 0.05
    lam, wstar, w0 = problem(1.0, d, 0, base_seed=0)
    X, y = draw_sample(lam, wstar, 8 * d, 0.0, 0, d, 0)
    t_end = np.array([2000.0])
    full = run_gd(X, y, lam, wstar, w0, t_end, eta)
    assert full.stats["mse"][-1] < 1e-16 and full.stats["train"][-1] < 1e-20
    few = run_gd(X[: d // 2], y[: d // 2], lam, wstar, w0, t_end, eta)
    assert few.stats["train"][-1] < 1e-12 and few.stats["mse"][-1] > 1e-2
