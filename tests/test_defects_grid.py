"""Defect injection for the checks of the finite and sgd_grid studies: each defect is put into a small
in-process run (d = 16, 8 seeds or 128 replicas, seconds) and the checks it must break fail while the
others pass.

DEFECTS is read by the table generator: per defect, what is wrong, which checks must fail and which
must still pass on the same defective data.
"""

from __future__ import annotations

import numpy as np
import pytest
import simulate_finite

from prdynamics.io import load_result
from prdynamics.seeding import problem
from prdynamics.studies import finite as F
from prdynamics.studies import sgd_grid as G

LARGE_N, FLOOR = "finite.large_n_matches_population", "finite.noise_floor_slope"
FINITE_CHECKS = {LARGE_N, FLOOR}
FLOW_LIMIT = "sgd_grid.flow_limit"
MS_GROWTH = "sgd_grid.ms_growth"

DEFECTS = {
    "samples reused wrongly": {
        "changes": "each sample of size n is its first 16 d rows repeated, not n fresh rows",
        "fails": {LARGE_N, FLOOR},
        "passes": set(),
    },
    "SGD gradient halved": {
        "changes": "the per-sample gradient is 2 ((x.w)^2 - y)(x.w) x, that of the loss with a 1/2, "
                   "so SGD follows the flow at half speed",
        "fails": {FLOW_LIMIT, MS_GROWTH},
        "passes": set(),
    },
}

D, SEEDS, RATIOS = 16, 8, (16, 32, 64, 128)  # horizon 4 d^a H / 16: the noiseless runs reach w*
CRITERIA = {"match_exponent": -0.5, "floor_factor": 2.0, "fit_min": 16, "floor_slope": -1.0,
            "floor_bias_c": 3.0, "overfit_ratio": 0.5, "rate_fraction": 0.5, "confidence_level": 0.95}


def reused(draw):
    def draw_reused(lam, wstar, n, sigma, base_seed, d, seed):
        X, y = draw(lam, wstar, n, sigma, base_seed, d, seed)
        m = RATIOS[0] * d
        return np.resize(X[:m], X.shape), np.resize(y[:m], y.shape)
    return draw_reused


PATCHES = {"samples reused wrongly": reused}


def finite_checks(tmp_path, monkeypatch, defect=None) -> dict:
    """{check id: passed} of the finite study on a small run, with the defect's draw_sample if given."""
    if defect is not None:
        monkeypatch.setattr(simulate_finite, "draw_sample", PATCHES[defect](simulate_finite.draw_sample))
    runs = []
    for s2 in ("0", "0.5"):
        out = tmp_path / f"finite_noise{s2}.npz"
        assert simulate_finite.main(["--a", "2", "--d", str(D), "--seeds", *map(str, range(SEEDS)),
                                     "--base-seed", "0", "--n-over-d", *map(str, RATIOS), "--sigma2", s2,
                                     "--eta", "0.1", "--horizon-factor", "4", "--points-per-decade", "10",
                                     "--out", str(out)]) == 0
        runs.append(load_result(out, required=F.RUN_KEYS))
    return {c.id: c.passed for c in F.claims(F.summarise(runs), **CRITERIA) if c.kind == "check"}


def test_the_checks_pass_on_the_undamaged_small_run(tmp_path, monkeypatch):
    assert finite_checks(tmp_path, monkeypatch) == {c: True for c in FINITE_CHECKS}


@pytest.mark.parametrize("defect", sorted(PATCHES))
def test_a_defect_fails_its_checks_and_only_them(defect, tmp_path, monkeypatch):
    result = finite_checks(tmp_path, monkeypatch, defect)
    assert {c for c in DEFECTS[defect]["fails"] if result[c]} == set()
    assert {c for c in DEFECTS[defect]["passes"] if not result[c]} == set()


# The flow-limit replicas on a problem whose |u(0)| = 0.235 is far above the Phase I noise on u (no
# replica crosses u = 0): d = 16, seed 5 (eta_ms(1) = 0.011), times in Phase II (|u| > 0.9 at 0.5) and III.
LIMIT = {"etas": [0.002, 0.001, 0.0005], "times": [0.4, 2.0], "replicas": 128, "seed": 5}


def flow_limit_passed(monkeypatch, defect=None) -> bool:
    if defect is not None:
        steps = G.sgd_engine.sgd_steps
        monkeypatch.setattr(G.sgd_engine, "sgd_steps",
                            lambda w, lam, ws, z, xi, eta, sigma, blowup: steps(w, lam, ws, z, xi, eta / 2,
                                                                                sigma, blowup))
    lam, wstar, w0 = problem(2.0, 16, LIMIT["seed"], 0)
    res = G.flow_limit_gaps(lam, wstar, w0, LIMIT["etas"], 1, LIMIT["times"], replicas=LIMIT["replicas"],
                            base_seed=0, seed=LIMIT["seed"], blowup=1e6, rtol=1e-8, atol=1e-12)
    limit = {"eta": LIMIT["etas"], "times": LIMIT["times"], "batch": 1, "lam": lam, "wstar": wstar, **res}
    return G.claim_flow_limit(limit, order_eta_ms=1.0, halfwidth_max=0.5, level=0.95).passed


def test_flow_limit_passes_on_the_undamaged_small_run(monkeypatch):
    assert flow_limit_passed(monkeypatch)


def test_a_halved_gradient_fails_flow_limit(monkeypatch):
    assert DEFECTS["SGD gradient halved"]["fails"] == {FLOW_LIMIT, MS_GROWTH}
    assert not flow_limit_passed(monkeypatch, "SGD gradient halved")


# ---- sgd_grid.ms_growth: one SGD step of the engine's kernel from the critical mode ----

MS_DEFECTS = {
    "batch gradient summed, not averaged": {
        "changes": "the kernel steps along the sum of the b per-sample gradients instead of their mean",
        "fails": {MS_GROWTH},
        "passes": set(),
    },
}
DEFECTS.update(MS_DEFECTS)


def step_scaled(scale):
    """A kernel whose step is scale(z) times the true one: the same as a gradient scaled by it."""
    def patch(steps):
        return lambda w, lam, ws, z, xi, eta, sigma, blowup: steps(w, lam, ws, z, xi, scale(z) * eta, sigma,
                                                                   blowup)
    return patch


MS_PATCHES = {
    "SGD gradient halved": step_scaled(lambda z: 0.5),
    "batch gradient summed, not averaged": step_scaled(lambda z: z.shape[1]),
}


def ms_growth_passed(monkeypatch, defect=None) -> bool:
    """The ms_growth check on a small problem (d = 16, one seed, b in {1, 4}, 2^16 samples)."""
    from prdynamics import sgd as engine
    from prdynamics.seeding import problem
    from prdynamics.studies import sgd_grid as G

    if defect is not None:
        monkeypatch.setattr(engine, "sgd_steps", MS_PATCHES[defect](engine.sgd_steps))
    lam, ws, _ = problem(2.0, 16, 0, 0)
    s = G.ms_growth_summary(lam, [ws], [0], [1, 4], factor=2.0, samples=2**16, e0=1e-6, base_seed=0)
    return G.claim_ms_growth({**s, "batch": np.array([1, 4]), "seeds": np.array([0])}, level=0.95).passed


def test_ms_growth_passes_on_the_undamaged_kernel(monkeypatch):
    assert ms_growth_passed(monkeypatch)


@pytest.mark.parametrize("defect", sorted(MS_PATCHES))
def test_a_kernel_defect_fails_ms_growth(defect, monkeypatch):
    assert not ms_growth_passed(monkeypatch, defect)
