"""Defect injection for the checks of the finite and sgd_grid studies: each defect is put into a small
in-process run (d = 16, 8 seeds, seconds) and the checks it must break fail while the others pass.

DEFECTS is read by the table generator: per defect, what is wrong, which checks must fail and which
must still pass on the same defective data.
"""

from __future__ import annotations

import numpy as np
import pytest
import simulate_finite

from prdynamics.io import load_result
from prdynamics.studies import finite as F

LARGE_N, FLOOR = "finite.large_n_matches_population", "finite.noise_floor_slope"
FINITE_CHECKS = {LARGE_N, FLOOR}

DEFECTS = {
    "samples reused wrongly": {
        "changes": "each sample of size n is its first 16 d rows repeated, not n fresh rows",
        "fails": {LARGE_N, FLOOR},
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


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_a_defect_fails_its_checks_and_only_them(defect, tmp_path, monkeypatch):
    result = finite_checks(tmp_path, monkeypatch, defect)
    assert {c for c in DEFECTS[defect]["fails"] if result[c]} == set()
    assert {c for c in DEFECTS[defect]["passes"] if not result[c]} == set()
