"""The two kinds of claim: a check (pass/fail with the basis of its tolerance) and a finding
(a measurement with its interval, no pass/fail); check_artifacts fails on a failed check only."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from prdynamics.claims import check, failed_checks, finding, merge
from prdynamics.io import load_claims, save_claims

ROOT = Path(__file__).resolve().parents[1]


def test_check_needs_a_basis_of_a_known_kind():
    c = check("x.ok", "ok", 1.0, 1.0, 0.1, True, basis="derived: exact")
    assert (c.kind, c.passed, c.interval) == ("check", True, None)
    for bad in (None, "", "because", "derived:", "guess: it looked right"):
        with pytest.raises(ValueError, match="basis"):
            check("x.bad", "bad", 1.0, 1.0, 0.1, True, basis=bad)


def test_finding_has_an_interval_and_no_pass_fail():
    f = finding("x.seen", "seen", measured={"count": 1}, interval={"fraction_ci": [0.01, 0.99]})
    assert (f.kind, f.passed, f.tolerance, f.basis) == ("finding", None, None, None)
    with pytest.raises(ValueError, match="interval"):
        finding("x.bare", "bare", measured=1, interval=None)


def test_only_failed_checks_fail(tmp_path):
    claims = [check("a.pass", "p", 1, 1, 0, True, basis="derived: exact"),
              check("a.fail", "f", 2, 1, 0, False, basis="convergence: halving"),
              finding("a.seen", "s", measured=0, interval=[0, 1])]
    assert failed_checks(claims) == ["a.fail"]
    path = tmp_path / "claims.json"
    save_claims(path, claims)
    assert [c.as_dict() for c in load_claims(path)] == [c.as_dict() for c in claims]
    with pytest.raises(ValueError, match="twice"):
        merge(claims, claims[:1])


def _check_artifacts(checks_file, tmp_path):
    return subprocess.run([sys.executable, str(ROOT / "scripts/check_artifacts.py"),
                           "--checks", str(checks_file), "--no-provenance", str(checks_file)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_check_artifacts_fails_on_a_failed_check_not_on_a_finding(tmp_path):
    path = tmp_path / "checks.json"
    good = [check("a.pass", "p", 1, 1, 0, True, basis="derived: exact"),
            finding("a.seen", "s", measured=0, interval=[0, 1])]
    save_claims(path, good)
    res = _check_artifacts(path, tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 of 1 checks" in res.stdout and "1 findings" in res.stdout
    save_claims(path, [*good, check("a.fail", "f", 2, 1, 0, False, basis="derived: exact")])
    res = _check_artifacts(path, tmp_path)
    assert res.returncode == 1 and "a.fail: check FAILED" in res.stderr
    # a finding that claims a pass/fail, or has lost its interval, is malformed
    items = [c.as_dict() for c in good]
    items[1]["passed"] = True
    path.write_text(json.dumps(items))
    res = _check_artifacts(path, tmp_path)
    assert res.returncode == 1 and "a finding has no pass/fail" in res.stderr


def test_a_known_failure_is_reported_not_fatal_and_a_stale_entry_is_named(tmp_path):
    import check_artifacts

    path = tmp_path / "checks.json"
    save_claims(path, [check("a.pass", "p", 1, 1, 0, True, basis="derived: exact"),
                       check("a.fail", "f", 2, 1, 0, False, basis="derived: exact")])
    bad, notes = check_artifacts.failed_claims(path, {"a.fail": "the data disagree, see README"})
    assert bad == [] and notes == ["KNOWN FAILURE a.fail: the data disagree, see README"]
    bad, notes = check_artifacts.failed_claims(path, {})
    assert bad == ["a.fail: check FAILED (measured 2)"]
    bad, notes = check_artifacts.failed_claims(path, {"a.fail": "why", "a.pass": "why"})
    assert bad == []
    assert notes[0] == "a.pass is listed in known_failures but now passes: remove it from the config"
    bad, notes = check_artifacts.failed_claims(path, {"a.fail": "why", "a.typo": "why"})
    assert bad == [] and notes[1] == f"known_failures names a.typo, which is no check of {path}"
    bad, notes = check_artifacts.failed_claims(path, {"a.fail": None, "a.typo": None})  # unlisted here
    assert bad == ["a.fail: check FAILED (measured 2)"] and notes == []
