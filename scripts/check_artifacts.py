#!/usr/bin/env python
"""Check that artifacts exist and are well formed, that every check in checks.json passed (findings
have no pass/fail; each must carry its interval),
and that every result's provenance matches the current config.

With no paths, checks every artifact listed in the README's output table. Exits 1 naming
each missing or malformed artifact, each failed check, and each result made by other config
values than the current ones (config/config.yaml with the --config files merged on top, as
`snakemake --configfile` merges them).

    python scripts/check_artifacts.py                      # README's list + results/checks.json
    python scripts/check_artifacts.py --config config/quick.yaml   # the quick run's config
    python scripts/check_artifacts.py --checks results/checks.json figures/x.png ...
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))
from pipeline import (  # noqa: E402
    RECORDED,
    SIDECAR,
    SIMULATIONS,
    load_config,
    param_differences,
    recorded_inputs,
    recorded_params,
    wildcards_of,
)

CLAIM_FIELDS = {"id", "kind", "statement", "measured", "expected", "tolerance", "basis", "interval", "passed"}


def readme_artifacts(readme: Path) -> list[str]:
    """Backticked figures/... and results/... paths in the README's output table, braces expanded."""
    paths = []
    for line in readme.read_text().splitlines():
        if not line.startswith("|"):
            continue
        for token in re.findall(r"`((?:figures|results)/[^`]+)`", line.split("|")[1]):
            paths.extend(expand_braces(token))
    return paths


def expand_braces(pattern: str) -> list[str]:
    parts = re.split(r"\{([^}]*)\}", pattern)
    choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    return ["".join(c) for c in itertools.product(*choices)]


def problem_with(path: Path) -> str | None:
    """None if the file looks right for its type, else what is wrong."""
    if not path.exists():
        return "missing"
    if path.stat().st_size == 0:
        return "empty"
    data = path.read_bytes()
    suffix = path.suffix
    if suffix == ".png":
        if not data.startswith(b"\x89PNG\r\n\x1a\n"):
            return "not a PNG"
        import matplotlib.image

        image = matplotlib.image.imread(path)
        if image.shape[0] < 100 or image.shape[1] < 100:
            return f"PNG too small ({image.shape[1]}x{image.shape[0]})"
    elif suffix == ".pdf":
        if not data.startswith(b"%PDF") or b"%%EOF" not in data[-1024:]:
            return "not a complete PDF"
    elif suffix == ".csv":
        import pandas as pd

        df = pd.read_csv(path)
        if df.empty:
            return "CSV has no rows"
    elif suffix == ".md":
        if "|---" not in data.decode():
            return "Markdown file has no table"
    elif suffix == ".npz":
        from prdynamics.io import CorruptResultError, load_result

        try:
            load_result(path, required=())
        except CorruptResultError as exc:
            return str(exc)
    elif suffix == ".json":
        try:
            json.loads(data)
        except json.JSONDecodeError as exc:
            return f"invalid JSON ({exc})"
    return None


def failed_claims(checks: Path, known_failures: dict[str, str]) -> tuple[list[str], list[str]]:
    """(problems, notes) of checks.json: malformed entries and failed checks are problems, except a
    failed check listed in known_failures (config: id -> reason), which is a note, as is a listed
    check that passes or is not there.  An id mapped to None is not listed (an override's unlisting)."""
    known_failures = {k: v for k, v in known_failures.items() if v is not None}
    claims = json.loads(checks.read_text())
    if not isinstance(claims, list) or not claims:
        return [f"{checks}: expected a non-empty list of claims"], []
    bad, notes = [], []
    for c in claims:
        missing = CLAIM_FIELDS - set(c)
        if missing:
            bad.append(f"{c.get('id', '?')}: missing fields {sorted(missing)}")
        elif c["kind"] not in ("check", "finding"):
            bad.append(f"{c['id']}: kind must be check or finding, got {c['kind']!r}")
        elif c["kind"] == "finding" and (c["passed"] is not None or c["interval"] is None):
            bad.append(f"{c['id']}: a finding has no pass/fail and needs an interval")
        elif c["kind"] == "check" and not c["basis"]:
            bad.append(f"{c['id']}: a check needs the basis of its tolerance")
        elif c["kind"] == "check" and c["passed"] is not True and c["id"] in known_failures:
            notes.append(f"KNOWN FAILURE {c['id']}: {known_failures[c['id']]}")
        elif c["kind"] == "check" and c["passed"] is not True:
            bad.append(f"{c['id']}: check FAILED (measured {json.dumps(c['measured'])})")
        elif c["kind"] == "check" and c["id"] in known_failures:
            notes.append(f"{c['id']} is listed in known_failures but now passes: remove it from the config")
    checks_here = {c.get("id") for c in claims if c.get("kind") == "check"}
    notes += [f"known_failures names {i}, which is no check of {checks}" for i in known_failures
              if i not in checks_here]
    return bad, notes


def same(got, want) -> bool:
    """Whether a recorded input equals the option the config gives (numbers, also as file-name text)."""
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(same, got, want))
    if isinstance(got, int | float) and not isinstance(got, bool):
        try:
            return math.isclose(got, float(want), rel_tol=1e-12)
        except (TypeError, ValueError):
            return False
    return got == want


def provenance_mismatches(root: Path, cfg: dict) -> list[str]:
    """Results under results/sims whose recorded inputs differ from the options the config gives
    their job (pipeline.recorded_inputs, from the function that builds the rule's command line).

    A file of a simulation rule outside the current config's grid is a leftover of another config
    and is not checked; a file that no simulation rule writes is a problem.
    """
    from prdynamics.io import CorruptResultError, load_result

    problems = []
    grids = {rule: set(sim.files(cfg)) for rule, sim in SIMULATIONS.items()}
    for path in sorted((root / "results/sims").rglob("*.npz")):
        rel = path.relative_to(root).as_posix()
        try:
            recorded = load_result(path, required=())["provenance"]["inputs"]
        except CorruptResultError as exc:
            problems.append(str(exc))
            continue
        writers = [(rule, w) for rule, sim in SIMULATIONS.items()
                   if (w := wildcards_of(sim.pattern, rel)) is not None]
        if not writers:
            problems.append(f"{rel}: no simulation rule of the pipeline writes this file")
            continue
        [(rule, w)] = writers  # the patterns are disjoint
        if rel not in grids[rule]:
            continue
        for key, want in recorded_inputs(cfg, rule, w).items():
            got = recorded.get(key, "<absent>")
            if not same(got, want):
                problems.append(f"{rel}: made with {key} = {got!r}, the config now gives {want!r}")
    for path in sorted((root / "results/tables").glob("*.provenance.json")):
        recorded = json.loads(path.read_text())["inputs"]
        for key in ("delta", "eps", "s0"):
            if key in recorded and recorded[key] != cfg["stopping"][key]:
                problems.append(f"{path.relative_to(root)}: made with {key} = {recorded.get(key)!r}, "
                                f"the config now gives {cfg['stopping'][key]!r}")
    return problems


def stale_records(root: Path, cfg: dict) -> list[str]:
    """Figures, tables and the claims file whose recorded parameters (<stem>.provenance.json,
    written by scripts/record_params.py) differ from what the config gives their rule
    (pipeline.recorded_params, the function that builds the rule's params), one line per key.

    A stem with no artifact is not checked (the existence check names it); an artifact without a
    record, or with a record of another rule, is a problem."""
    problems = []
    for rule in RECORDED:
        want = recorded_params(cfg, rule)
        for stem in RECORDED[rule].stems:
            if not any((root / f"{stem}{ext}").exists() for ext in (".png", ".pdf", ".csv", ".json")):
                continue
            sidecar = SIDECAR.format(stem=stem)
            try:
                record = json.loads((root / sidecar).read_text())
            except (OSError, json.JSONDecodeError) as exc:
                problems.append(f"{sidecar}: no readable record of the parameters that made {stem} ({exc})")
                continue
            if record.get("rule") != rule or "params" not in record:
                problems.append(f"{sidecar}: not a parameter record of rule {rule}")
                continue
            for key, got, given in param_differences(record["params"], want):
                problems.append(f"{sidecar}: {stem} was made with {key} = {got!r}, "
                                f"the config now gives {given!r}")
    return problems


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", help="artifacts to check (default: the README's output table)")
    p.add_argument("--readme", default="README.md")
    p.add_argument("--checks", default="results/checks.json", help="claims file; every check must pass")
    p.add_argument("--config", nargs="*", default=[],
                   help="config files merged on top of config/config.yaml, as snakemake --configfile")
    p.add_argument("--config-json", help="the effective config as JSON (used by the checks rule)")
    p.add_argument("--no-provenance", action="store_true", help="skip the provenance-vs-config check")
    args = p.parse_args(argv)
    paths = args.paths or readme_artifacts(Path(args.readme))
    if not paths:
        print(f"no artifacts found in {args.readme}", file=sys.stderr)
        return 1
    errors = [f"{path}: {msg}" for path in paths if (msg := problem_with(Path(path)))]
    checks = Path(args.checks)
    cfg = json.loads(args.config_json) if args.config_json else load_config(*args.config)
    claim_errors, notes = failed_claims(checks, cfg["known_failures"]) if checks.exists() else \
        ([f"{checks}: missing"], [])
    errors += claim_errors
    if not args.no_provenance:
        errors += provenance_mismatches(Path("."), cfg) + stale_records(Path("."), cfg)
    for path in paths:
        print(f"ok  {path}" if not any(e.startswith(f"{path}:") for e in errors) else f"BAD {path}")
    for note in notes:
        print(note)
    if errors:
        print("\n".join(["", "problems:", *errors]), file=sys.stderr)
        return 1
    claims = json.loads(checks.read_text())
    n_checks = sum(c["kind"] == "check" for c in claims)
    n_passed = sum(c["kind"] == "check" and c["passed"] is True for c in claims)
    print(f"all {len(paths)} artifacts well formed; {n_passed} of {n_checks} checks in {checks} passed, "
          f"the other {n_checks - n_passed} listed in known_failures; {len(claims) - n_checks} findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
