"""The benchmark suite runs end to end at CI sizes and writes well-formed JSON (no timing is asserted)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "benchmark.py"
CASES = ("flow_vs_gd", "flow_vs_scipy", "flow_at_scale", "sgd_vs_rng", "sgd_fused", "committee_sgd",
         "sgd_startup", "sgd_cuda")


def _positive_finite(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) and x > 0


@pytest.fixture(scope="module")
def quick_suite(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "suite.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout


def test_every_case_has_finite_rows(quick_suite):
    data, _ = quick_suite
    assert data["mode"] == "quick"
    assert set(data["cases"]) == set(CASES)
    for name in CASES:
        rows = data["cases"][name]["rows"]
        if data["cases"][name].get("skipped"):  # the GPU case on a machine without one says why
            assert name == "sgd_cuda" and rows == [] and "no CUDA GPU" in data["cases"][name]["skipped"]
            continue
        assert rows, name
        assert any(r["target_ratio"] is not None for r in rows), f"{name} has no row with a target"
        for r in rows:
            assert r["case"] == name
            assert "met" in r
            assert _positive_finite(r["time_s"]), r
            assert _positive_finite(r["baseline_time_s"]), r
            assert _positive_finite(r["ratio"]), r
            assert math.isclose(r["ratio"], r["baseline_time_s"] / r["time_s"], rel_tol=1e-9)
            if r["target_ratio"] is not None:
                assert isinstance(r["met"], bool)
                assert r["met"] == (r["ratio"] >= r["target_ratio"])
                assert isinstance(r["accuracy"], float) and math.isfinite(r["accuracy"]), r
            else:
                assert r["met"] is None
    assert data["rows"] == [r for name in CASES for r in data["cases"][name]["rows"]]


def test_accuracies_are_meaningful(quick_suite):
    """Not timings: the numbers the comparisons rest on."""
    data, _ = quick_suite
    gd = data["cases"]["flow_vs_gd"]["rows"][0]
    assert gd["accuracy"] <= gd["baseline_accuracy"]  # the flow's rtol is chosen to be at least as accurate
    sc = data["cases"]["flow_vs_scipy"]
    for r in sc["rows"]:
        matched = not r["ratio_is_lower_bound"] and "too inaccurate" not in r["baseline"]
        if matched and r["baseline_accuracy"] is not None:
            assert r["baseline_accuracy"] <= r["accuracy"]  # scipy at equal or better accuracy
    radau = sc["details"]["reference_vs_radau"]
    assert radau["status"] == "ok" and radau["accuracy"] < 1e-8
    sgd = {r["name"]: r for r in data["cases"]["sgd_vs_rng"]["rows"]}
    assert sgd["sgd_vs_rng"]["accuracy"] < 1e-10  # kernel vs plain numpy on the same draws
    assert sgd["sgd_replicas_8_vs_1"]["accuracy"] == 0.0  # replicas are bit-identical by design
    cuda_rows = {r["name"]: r for r in data["cases"]["sgd_cuda"]["rows"]}
    if cuda_rows:  # a GPU is present: the kernel agrees with the CPU one on the same draws
        assert cuda_rows["sgd_cuda_vs_floor"]["accuracy"] < 1e-10
    scale = data["cases"]["flow_at_scale"]["details"]
    assert [r["d"] for r in scale["steps_vs_d"]] == sorted(r["d"] for r in scale["steps_vs_d"])
    assert all(r["steps"] > 0 and r["peak_rss_mib"] > 0 for r in scale["steps_vs_d"])


def test_machine_info_and_table(quick_suite):
    data, stdout = quick_suite
    m = data["machine"]
    for key in ("cpu_model", "numpy", "numba", "scipy", "date"):
        assert m[key], key
    header = stdout.splitlines()[0].split()
    assert header[0] == "name" and header[-1] == "met"
    for name in CASES:
        assert name in stdout
    if data["cases"]["sgd_cuda"].get("skipped"):
        assert "sgd_cuda: not measured: no CUDA GPU" in stdout
