#!/usr/bin/env python
"""Check that artifacts exist and are well formed, that every claim in checks.json passed,
and that every result's provenance matches the current config.

With no paths, checks every artifact listed in the README's output table. Exits 1 naming
each missing or malformed artifact, each failed claim, and each result made by other config
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
from pipeline import load_config  # noqa: E402  (the pipeline's own config loading)

CLAIM_FIELDS = {"id", "statement", "measured", "expected", "tolerance", "passed"}


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


def failed_claims(checks: Path) -> list[str]:
    claims = json.loads(checks.read_text())
    if not isinstance(claims, list) or not claims:
        return [f"{checks}: expected a non-empty list of claims"]
    bad = []
    for c in claims:
        missing = CLAIM_FIELDS - set(c)
        if missing:
            bad.append(f"{c.get('id', '?')}: missing fields {sorted(missing)}")
        elif c["passed"] is not True:
            bad.append(f"{c['id']}: FAILED (measured {json.dumps(c['measured'])})")
    return bad


SECTIONS = {
    "flow": ("fig1", "fig2", "fig3", "fig6"),
    "gd": ("fig2",),
    "phase3": ("fig4",),
    "sgd": ("fig1", "fig5"),
    "escape": ("escape",),
    "volterra": ("volterra",),
    "scaling": ("scaling",),
}


def in_config_grid(kind: str, coords: dict, cfg: dict) -> bool:
    """Whether the current config's DAG produces a result with these file-name coordinates."""
    def listed(value, options):
        options = options if isinstance(options, list) else [options]
        return any(math.isclose(float(value), float(o)) for o in options)

    for section in SECTIONS.get(kind, ()):
        c = cfg[section]
        if not (listed(coords["a"], c["a"]) and listed(coords["d"], c["d"])):
            continue
        if "seed" in coords and not listed(coords["seed"], c["seeds"]):
            continue
        if kind == "gd" and not listed(coords["eta"], c["gd_eta"]):
            continue
        if kind == "sgd" and not (listed(coords["eta"], c["eta"]) and listed(coords["b"], c["batch"])
                                  and listed(coords["noise"], c.get("sigma2", 0.0))):
            continue
        return True
    return False


def expected_inputs(rel: Path, cfg: dict) -> dict:
    """The CLI inputs the current config gives the job that wrote results/sims/<kind>/...npz.

    Empty for a file outside the current config's grid (a leftover of another config).
    """
    from prdynamics.model import escape_time_scale, full_recovery_time

    kind, name = rel.parts[2], rel.stem
    grid, tol, base = cfg["time_grid"], cfg["flow"], {"base_seed": cfg["base_seed"]}
    words = "_".join(rel.parts[3:-1] + (name,))
    coords = dict(re.findall(r"(a|d|seed|eta|b|noise)([0-9.e+-]+?)(?=_|$)", words))
    if not in_config_grid(kind, coords, cfg):
        return {}
    if kind == "flow":
        a, d = float(coords["a"]), int(coords["d"])
        t_max = cfg["flow"]["t_max_factor"] * (escape_time_scale(d, a) + full_recovery_time(d, a))
        return base | {"t_min": grid["t_min"], "points_per_decade": grid["points_per_decade"],
                       "rtol": tol["rtol"], "atol": tol["atol"], "t_max": t_max, "method": "flow"}
    if kind == "escape":
        e = cfg["escape"]
        return base | {"t_min": grid["t_min"], "points_per_decade": e["points_per_decade"],
                       "rtol": tol["rtol"], "atol": tol["atol"], "t_max": e["t_max"], "method": "flow"}
    if kind == "volterra":
        a, d = float(coords["a"]), int(coords["d"])
        t_max = cfg["flow"]["t_max_factor"] * (escape_time_scale(d, a) + full_recovery_time(d, a))
        return base | {"t_min": grid["t_min"], "points_per_decade": cfg["volterra"]["points_per_decade"],
                       "rtol": tol["rtol"], "atol": tol["atol"], "t_max": t_max, "method": "flow"}
    if kind == "scaling":
        a, d = float(coords["a"]), int(coords["d"])
        t_max = cfg["flow"]["t_max_factor"] * (escape_time_scale(d, a) + full_recovery_time(d, a))
        return base | {"t_min": grid["t_min"], "points_per_decade": cfg["scaling"]["points_per_decade"],
                       "rtol": tol["rtol"], "atol": tol["atol"], "t_max": t_max, "method": "flow"}
    if kind == "gd":
        return base | {"t_min": grid["t_min"], "points_per_decade": grid["points_per_decade"],
                       "t_max": cfg["fig2"]["gd_t_max"], "method": "gd"}
    if kind == "phase3":
        f4 = cfg["fig4"]
        return base | {"u_start": f4["u_start"], "tau_max_factor": f4["tau_max_factor"],
                       "points_per_decade": grid["points_per_decade"],
                       "rtol": tol["rtol"], "atol": tol["atol"]}
    if kind == "sgd":
        a = float(coords["a"])
        for section in ("fig1", "fig5"):
            c = cfg[section]
            if a in map(float, c["a"]) and float(coords["noise"]) == float(c.get("sigma2", 0.0)):
                return base | {"seed": list(c["seeds"]), "t_max": c["t_max"],
                               "points_per_decade": grid["points_per_decade"],
                               "backend": cfg.get("sgd_backend", "cpu")}
        return {"config section": "none produces this file"}
    return {}


def provenance_mismatches(root: Path, cfg: dict) -> list[str]:
    """Results under results/sims whose recorded inputs differ from what the config asks for."""
    from prdynamics.io import CorruptResultError, load_result

    problems = []
    for path in sorted((root / "results/sims").rglob("*.npz")):
        rel = path.relative_to(root)
        try:
            recorded = load_result(path, required=())["provenance"]["inputs"]
        except CorruptResultError as exc:
            problems.append(str(exc))
            continue
        for key, want in expected_inputs(rel, cfg).items():
            got = recorded.get(key, "<absent>")
            numeric = isinstance(want, float) and isinstance(got, int | float)
            same = math.isclose(got, want, rel_tol=1e-12) if numeric else got == want
            if not same:
                problems.append(f"{rel}: made with {key} = {got!r}, the config now gives {want!r}")
    for path in sorted((root / "results/tables").glob("*.provenance.json")):
        recorded = json.loads(path.read_text())["inputs"]
        for key in ("delta", "eps", "s0"):
            if key in recorded and recorded[key] != cfg["stopping"][key]:
                problems.append(f"{path.relative_to(root)}: made with {key} = {recorded.get(key)!r}, "
                                f"the config now gives {cfg['stopping'][key]!r}")
    return problems


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", help="artifacts to check (default: the README's output table)")
    p.add_argument("--readme", default="README.md")
    p.add_argument("--checks", default="results/checks.json", help="claims file; every claim must pass")
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
    errors += failed_claims(checks) if checks.exists() else [f"{checks}: missing"]
    if not args.no_provenance:
        cfg = json.loads(args.config_json) if args.config_json else load_config(*args.config)
        errors += provenance_mismatches(Path("."), cfg)
    for path in paths:
        print(f"ok  {path}" if not any(e.startswith(f"{path}:") for e in errors) else f"BAD {path}")
    if errors:
        print("\n".join(["", "problems:", *errors]), file=sys.stderr)
        return 1
    print(f"all {len(paths)} artifacts well formed; every claim in {checks} passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
