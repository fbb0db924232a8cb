"""Config -> simulation files and the options of the jobs that write them.

The rules (workflow/rules/*.smk, through common.smk) and scripts/check_artifacts.py both import
this module: a job's command line and the inputs its result is checked against come from the same
function, and the list of files a config produces is the same list the rules expand.
Plain Python with no Snakemake globals: every function takes the merged config as an argument.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml
from snakemake.common.configfile import load_configfile
from snakemake.exceptions import WorkflowError
from snakemake.io import expand
from snakemake.utils import update_config

from prdynamics.model import escape_time_scale, full_recovery_time

ROOT = Path(__file__).resolve().parents[1]
#: The Snakefile's `configfile:`; every other config file is merged on top of it.
CONFIG = ROOT / "config/config.yaml"
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"


def load_config(*overrides: str | Path) -> dict:
    """config/config.yaml with each override merged on top, key by key (a list replaces the whole
    list), as `snakemake --configfile <overrides>` merges them; checked (check_config)."""
    cfg = load_configfile(CONFIG)
    for path in overrides:
        update_config(cfg, load_configfile(path))
    check_config(cfg)
    return cfg


def _strict_integer(checker, x) -> bool:
    """An integer as written: 2000, not 2000.0 (which would spell itself '2000.0' in file names)."""
    return isinstance(x, int) and not isinstance(x, bool)


#: The schema's draft, with "integer" meaning an int as written (jsonschema also takes 2000.0).
Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_integer),
)


def _leaves(value, key=()):
    """(key path, value) of every scalar in a nested config."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _leaves(v, (*key, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*key, str(i)))
    else:
        yield key, value


def _spelling_hint(e) -> str:
    """How to write a number that YAML read as text, or an integer written as a float."""
    if e.validator != "type":
        return ""
    types = set(e.validator_value if isinstance(e.validator_value, list) else [e.validator_value])
    x = e.instance
    if isinstance(x, str):
        try:
            value = float(x)
        except ValueError:
            return ""
        if "integer" in types and value.is_integer() and math.isfinite(value):
            return f"; {x!r} is read as text: write the integer in digits, {int(value)}"
        if "number" in types and math.isfinite(value):
            return f"; {x!r} is read as text (YAML reads an exponent only after a dot and with a sign): " \
                   f"write {_yaml_float(value)}"
    if "integer" in types and isinstance(x, float) and x.is_integer():
        return f"; write the integer in digits, {int(x)} (no decimal point or exponent)"
    return ""


def _yaml_float(value: float) -> str:
    """A spelling of value that YAML 1.1 reads as this float: 1e-3 -> 0.001, 1e-7 -> 1.0e-07."""
    text = repr(value)
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    mantissa += "" if "." in mantissa else ".0"
    return f"{mantissa}e{exponent if exponent[0] in '+-' else '+' + exponent}"


def config_errors(cfg: Mapping, schema_path: str | Path = SCHEMA) -> list[str]:
    """One line per bad key: NaN and infinity by name, then every schema error (with a hint on how
    to write a number that YAML read as text, or an integer written with an exponent)."""
    lines = [(key, f"{value} is not allowed, every value must be a finite number")
             for key, value in _leaves(cfg) if isinstance(value, float) and not math.isfinite(value)]
    with open(schema_path) as fh:
        schema = yaml.safe_load(fh)
    for e in Validator(schema).iter_errors(cfg):
        if any(isinstance(v, float) and not math.isfinite(v) for _, v in _leaves(e.instance)):
            continue  # named above
        hint = next(filter(None, map(_spelling_hint, [e, *e.context])), "")
        lines.append((tuple(map(str, e.absolute_path)), f"{e.message}{hint}"))
    if not lines:
        lines += _cross_key_errors(cfg)
    return [f"config key '{'.'.join(key) or '<top level>'}': {msg}" for key, msg in sorted(lines)]


def _cross_key_errors(cfg: Mapping) -> list[tuple[tuple[str, ...], str]]:
    """(key, message) for values a schema cannot relate to other keys."""
    if cfg["init"]["phase3_eps"] not in cfg["stopping"]["eps"]:
        return [(("init", "phase3_eps"), f"{cfg['init']['phase3_eps']} is not one of stopping.eps")]
    for section in SGD_SECTIONS:
        c, row = cfg[section], cfg[section][LARGE_D]
        if (row["d"], row["eta"]) == (c["d"], c["eta"]):
            return [((section, LARGE_D), f"the second row needs another d or eta than {section}'s own "
                                         f"(d = {c['d']}, eta = {c['eta']}): its runs would be its files")]
    c = cfg["committee"]
    if c[LARGE_D]["d"] <= c["d"]:
        return [(("committee", LARGE_D, "d"), f"{c[LARGE_D]['d']} must be larger than committee.d = {c['d']} "
                                              "(the study's claims are at the smallest d)")]
    return []


def check_config(cfg: Mapping, schema_path: str | Path = SCHEMA) -> None:
    """Stop before any job runs, naming every bad key in one short line each (config_errors)."""
    lines = config_errors(cfg, schema_path)
    if lines:
        raise WorkflowError("invalid configuration:\n" + "\n".join(f"  {line}" for line in lines))


#: The rules' wildcard_constraints; the same patterns read a file name back into its wildcards.
WILDCARDS = {
    "a": r"[0-9]+(\.[0-9]+)?",
    "d": r"[0-9]+",
    "seed": r"[0-9]+",
    "eta": r"[0-9.e+-]+",
    "batch": r"[0-9]+",
    "sigma2": r"[0-9.e+-]+",
    "law": r"[a-z_]+",
    "u_start": r"0\.[0-9]+",
    "p": r"[0-9]+",
    "k": r"[0-9]+",
    "activation": r"[a-z]+",
}

FLOW_NPZ = "results/sims/flow/a{a}_d{d}/seed{seed}.npz"
GD_NPZ = "results/sims/gd/eta{eta}/a{a}_d{d}/seed{seed}.npz"
PHASE3_NPZ = "results/sims/phase3/a{a}_d{d}/seed{seed}.npz"
PHASE3_LEVELS_NPZ = "results/sims/phase3_levels/u{u_start}/a{a}_d{d}/seed{seed}.npz"
ESCAPE_NPZ = "results/sims/escape/a{a}_d{d}/seed{seed}.npz"
VOLTERRA_NPZ = "results/sims/volterra/a{a}_d{d}/seed{seed}.npz"
SGD_NPZ = "results/sims/sgd/{law}/eta{eta}_b{batch}_noise{sigma2}/a{a}_d{d}.npz"
SCALING_NPZ = "results/sims/scaling/a{a}_d{d}/seed{seed}.npz"
SGD_GRID_NPZ = "results/sims/sgd_grid/b{batch}_noise{sigma2}/a{a}_d{d}/eta{eta}.npz"
SGD_LIMIT_NPZ = "results/sims/sgd_limit/a{a}_d{d}.npz"
INIT_NPZ = "results/sims/init/a{a}_d{d}.npz"
INPUTS_FLOW_NPZ = "results/sims/inputs/flow/{law}/a{a}_d{d}.npz"
INPUTS_SGD_NPZ = "results/sims/inputs/sgd/{law}/eta{eta}_a{a}_d{d}.npz"
FINITE_NPZ = "results/sims/finite/a{a}_d{d}_noise{sigma2}.npz"
COMMITTEE_FLOW_NPZ = "results/sims/committee/flow/{activation}/a{a}_d{d}_p{p}_k{k}/seed{seed}.npz"
COMMITTEE_SGD_NPZ = ("results/sims/committee/sgd/{activation}/eta{eta}_b{batch}_noise{sigma2}/"
                     "a{a}_d{d}_p{p}_k{k}/seed{seed}.npz")

#: Sections whose population-flow runs share FLOW_NPZ (the SGD grid compares with the flow of its seeds).
FLOW_SECTIONS = ("fig1", "fig2", "fig3", "fig6", "sgd_grid")
#: The figure sections of online SGD (SGD_NPZ); each has a second row at a larger d under LARGE_D.
SGD_SECTIONS = ("fig1", "fig5")
#: The key of a figure's second row: its own a, d, eta and t_max; the section's seeds, batch and label noise.
LARGE_D = "large_d"


def num(x) -> str:
    """Canonical spelling of a number in a file name (2.0 -> '2', 0.01 -> '0.01')."""
    return f"{float(x):g}"


def as_list(x) -> list:
    return x if isinstance(x, list) else [x]


def cli(options: Mapping) -> str:
    """A job's options as command-line text: {'t_max': 5, 'seed': [0, 1]} -> '--t-max 5 --seed 0 1'."""
    words = []
    for name, value in options.items():
        words += [f"--{name.replace('_', '-')}", *map(str, as_list(value))]
    return " ".join(words)


# ---- file lists: every file a config produces, in the order the rules consume them ----


def seeds_of(cfg, *sections) -> list[int]:
    """Every seed any of the sections asks for, sorted: one job runs them all for one (a, d)."""
    return sorted(set().union(*(cfg[s]["seeds"] for s in sections)))


def seed_outputs(cfg, pattern, *sections) -> list[str]:
    """One job's outputs: the pattern's file for every seed of the sections ({a}, {d} kept)."""
    return expand(pattern, seed=seeds_of(cfg, *sections), allow_missing=True)


def section_row(cfg, section, row=None) -> Mapping:
    """A section's values, or (row=LARGE_D) those of its second row over the section's own."""
    return cfg[section] if row is None else {**cfg[section], **cfg[section][row]}


def flow_files(cfg, section, row=None) -> list[str]:
    """Flow runs of a section (or of its second row): every (a, d, seed) of its grid."""
    c = section_row(cfg, section, row)
    return expand(FLOW_NPZ, a=[num(a) for a in as_list(c["a"])], d=as_list(c["d"]), seed=c["seeds"])


def population_files(cfg) -> list[str]:
    """Every population-flow run of the paper figures, once each (tables and claims)."""
    return sorted(set().union(*(flow_files(cfg, s) for s in ("fig1", "fig2", "fig3", "fig6"))))


def all_flow_files(cfg) -> list[str]:
    """Every FLOW_NPZ run, once each: the flows of every section that shares them (and of Fig. 1's
    second row)."""
    return sorted(set().union(*(flow_files(cfg, s) for s in FLOW_SECTIONS), flow_files(cfg, "fig1", LARGE_D)))


def gd_files(cfg, step="gd_eta") -> list[str]:
    """GD runs of Fig. 2 at the paper's step (step="gd_eta") or at the refined one ("gd_eta_refined")."""
    c = cfg["fig2"]
    return expand(GD_NPZ, eta=num(c[step]), a=num(c["a"]), d=c["d"], seed=c["seeds"])


def all_gd_files(cfg) -> list[str]:
    """Every GD run: the paper's step and its refinement (the convergence test of gd.matches_flow)."""
    return gd_files(cfg) + gd_files(cfg, "gd_eta_refined")


def sgd_files(cfg, section, law="gaussian", row=None) -> list[str]:
    """One SGD file per a of a figure section (or of its second row); each holds every seed as a replica."""
    c = section_row(cfg, section, row)
    noise = num(c.get("sigma2", 0.0))  # Fig. 1 has no label noise
    return expand(SGD_NPZ, law=law, eta=num(c["eta"]), batch=c["batch"], sigma2=noise,
                  a=[num(a) for a in as_list(c["a"])], d=c["d"])


def all_sgd_files(cfg) -> list[str]:
    rows = (None, LARGE_D)
    return [f for section in SGD_SECTIONS for row in rows for f in sgd_files(cfg, section, row=row)]


def sgd_section(cfg, w) -> Mapping:
    """The figure section (or second row) whose grid produced this SGD file (for its seeds and t_max)."""
    for section in SGD_SECTIONS:
        for row in (None, LARGE_D):
            if SGD_NPZ.format(**w) in sgd_files(cfg, section, w["law"], row):
                return section_row(cfg, section, row)
    raise WorkflowError(f"no config section produces {SGD_NPZ.format(**w)}")


def escape_files(cfg) -> list[str]:
    c = cfg["escape"]
    return expand(ESCAPE_NPZ, a=[num(a) for a in c["a"]], d=c["d"], seed=c["seeds"])


def volterra_files(cfg) -> list[str]:
    c = cfg["volterra"]
    return expand(VOLTERRA_NPZ, a=num(c["a"]), d=c["d"], seed=c["seeds"])


def phase3_files(cfg) -> list[str]:
    c = cfg["fig4"]
    return expand(PHASE3_NPZ, a=num(c["a"]), d=c["d"], seed=c["seeds"])


def phase3_level_files(cfg) -> list[str]:
    """Phase III runs of Fig. 4's seeds from each |u(T2)| of fig4.u_start_levels (phase3.frozen_approx)."""
    c = cfg["fig4"]
    return expand(PHASE3_LEVELS_NPZ, u_start=[num(u) for u in c["u_start_levels"]], a=num(c["a"]), d=c["d"],
                  seed=c["seeds"])


def scaling_files(cfg) -> list[str]:
    c = cfg["scaling"]
    return expand(SCALING_NPZ, a=[num(a) for a in c["a"]], d=c["d"], seed=c["seeds"])


def sgd_grid_outputs(cfg) -> list[str]:
    """Outputs of one (batch, sigma2) job: every eta of the grid, run in one process."""
    return expand(SGD_GRID_NPZ, eta=[num(e) for e in cfg["sgd_grid"]["eta"]], allow_missing=True)


def sgd_grid_files(cfg) -> list[str]:
    """Every SGD run of the study: (batch, sigma2, eta), all seeds as replicas of one file."""
    c = cfg["sgd_grid"]
    return expand(SGD_GRID_NPZ, batch=c["batch"], sigma2=[num(s) for s in c["sigma2"]], a=num(c["a"]),
                  d=c["d"], eta=[num(e) for e in c["eta"]])


def sgd_limit_files(cfg) -> list[str]:
    """The flow-limit replicas of the SGD grid study (check sgd_grid.flow_limit): one file."""
    c = cfg["sgd_grid"]
    return expand(SGD_LIMIT_NPZ, a=num(c["a"]), d=c["d"])


def init_files(cfg) -> list[str]:
    """One flow file per (a, d) of the init grid; each holds every start and seed."""
    c = cfg["init"]
    return expand(INIT_NPZ, a=[num(a) for a in c["a"]], d=c["d"])


def inputs_flow_dims(cfg) -> list[int]:
    """Flow dimensions: the configured ones and the SGD dimension (SGD is compared with its flows)."""
    c = cfg["inputs"]
    return sorted(set(as_list(c["d"])) | {c["sgd"]["d"]})


def inputs_flow_files(cfg) -> list[str]:
    c = cfg["inputs"]
    return expand(INPUTS_FLOW_NPZ, law=c["laws"], a=num(c["a"]), d=inputs_flow_dims(cfg))


def inputs_sgd_files(cfg) -> list[str]:
    c = cfg["inputs"]
    return expand(INPUTS_SGD_NPZ, law=c["laws"], eta=[num(e) for e in c["sgd"]["eta"]], a=num(c["a"]),
                  d=c["sgd"]["d"])


def finite_files(cfg) -> list[str]:
    """One finite-sample file per (a, sigma^2); each holds every n/d and seed."""
    c = cfg["finite"]
    return expand(FINITE_NPZ, a=[num(a) for a in c["a"]], d=c["d"], sigma2=[num(s) for s in c["sigma2"]])


def committee_flow_files(cfg) -> list[str]:
    """Committee flows: every (a, seed) of each quadratic, erf and relu pair, and the quadratic pairs of
    the larger d (committee.large_d)."""
    c, big = cfg["committee"], cfg["committee"][LARGE_D]
    runs = [(act, p, k) for act, key in (("quadratic", "pairs"), ("erf", "erf_pairs"), ("relu", "relu_pairs"))
            for p, k in c[key]]
    files = [f for act, p, k in runs
             for f in expand(COMMITTEE_FLOW_NPZ, activation=act, a=[num(a) for a in c["a"]], d=c["d"], p=p,
                             k=k, seed=c["seeds"])]
    return files + [f for p, k in big["pairs"]
                    for f in expand(COMMITTEE_FLOW_NPZ, activation="quadratic", a=[num(a) for a in big["a"]],
                                    d=big["d"], p=p, k=k, seed=c["seeds"])]


def committee_sgd_files(cfg) -> list[str]:
    """Committee online SGD (quadratic units): every eta and seed of each SGD pair."""
    c, s = cfg["committee"], cfg["committee"]["sgd"]
    return [f for p, k in s["pairs"]
            for f in expand(COMMITTEE_SGD_NPZ, activation="quadratic", eta=[num(e) for e in s["eta"]],
                            batch=s["batch"], sigma2=num(s["sigma2"]), a=num(s["a"]), d=c["d"], p=p, k=k,
                            seed=c["seeds"])]


# ---- job options: every option a simulation rule passes, as {argparse dest: value} ----


def recovery_t_max(factor, w) -> float:
    """factor times (escape scale + recovery time): a flow run that covers all three phases for any a."""
    a, d = float(w["a"]), int(w["d"])
    return factor * (escape_time_scale(d, a) + full_recovery_time(d, a))


def flow_run(cfg, w, seeds, points_per_decade, t_max) -> dict:
    """Options of a gradient-flow run of scripts/simulate_flow.py."""
    return {
        "method": "flow", "a": w["a"], "d": w["d"], "seed": seeds, "base_seed": cfg["base_seed"],
        "t_max": t_max, "t_min": cfg["time_grid"]["t_min"], "points_per_decade": points_per_decade,
        "rtol": cfg["flow"]["rtol"], "atol": cfg["flow"]["atol"],
    }


def simulate_flow(cfg, w) -> dict:
    return flow_run(cfg, w, seeds_of(cfg, *FLOW_SECTIONS), cfg["time_grid"]["points_per_decade"],
                    recovery_t_max(cfg["flow"]["t_max_factor"], w))


def simulate_escape(cfg, w) -> dict:
    c = cfg["escape"]
    return flow_run(cfg, w, c["seeds"], c["points_per_decade"], c["t_max"])


def simulate_volterra(cfg, w) -> dict:
    c = cfg["volterra"]
    return flow_run(cfg, w, c["seeds"], c["points_per_decade"],
                    recovery_t_max(cfg["flow"]["t_max_factor"], w))


def simulate_scaling(cfg, w) -> dict:
    c = cfg["scaling"]
    return flow_run(cfg, w, c["seeds"], c["points_per_decade"],
                    recovery_t_max(cfg["flow"]["t_max_factor"], w))


def simulate_gd(cfg, w) -> dict:
    # every GD run records on multiples of the paper's step (record_step), so the runs at gd_eta and
    # gd_eta_refined share their times; the flow reference is integrated on those same times
    grid = cfg["time_grid"]
    return {
        "method": "gd", "eta": w["eta"], "a": w["a"], "d": w["d"], "seed": cfg["fig2"]["seeds"],
        "base_seed": cfg["base_seed"], "t_max": cfg["fig2"]["gd_t_max"], "t_min": grid["t_min"],
        "points_per_decade": grid["points_per_decade"], "record_step": cfg["fig2"]["gd_eta"],
        "rtol": cfg["flow"]["rtol"], "atol": cfg["flow"]["atol"],
    }


def simulate_phase3(cfg, w) -> dict:
    c, grid = cfg["fig4"], cfg["time_grid"]
    return {
        "a": w["a"], "d": w["d"], "seed": c["seeds"], "base_seed": cfg["base_seed"], "u_start": c["u_start"],
        "tau_max_factor": c["tau_max_factor"], "tau_min": grid["t_min"],
        "points_per_decade": grid["points_per_decade"],
        "rtol": cfg["flow"]["rtol"], "atol": cfg["flow"]["atol"],
    }


def simulate_phase3_levels(cfg, w) -> dict:
    return simulate_phase3(cfg, w) | {"u_start": float(w["u_start"])}


def sgd_run(cfg, w, *, law, seeds, batch, sigma2, t_max, t_min, points_per_decade, backend,
            law_param=None) -> dict:
    """Options of an online-SGD run of scripts/simulate_sgd.py (one eta, or the grid's list of them)."""
    return {
        "a": w["a"], "d": w["d"], "seed": seeds, "base_seed": cfg["base_seed"], "eta": w["eta"],
        "batch": batch, "sigma2": sigma2, "input_law": law,
        **({} if law_param is None else {"law_param": law_param}),
        "t_max": t_max, "t_min": t_min, "points_per_decade": points_per_decade,
        "blowup": cfg["sgd_blowup"], "backend": backend,
        # the fused generator draws Gaussian inputs only; other laws keep numpy's
        "sgd_rng": cfg["sgd_rng"] if law == "gaussian" else "numpy",
    }


def simulate_sgd(cfg, w) -> dict:
    c, grid = sgd_section(cfg, w), cfg["time_grid"]
    return sgd_run(cfg, w, law=w["law"], seeds=c["seeds"], batch=w["batch"], sigma2=w["sigma2"],
                   t_max=c["t_max"], t_min=grid["t_min"], points_per_decade=grid["points_per_decade"],
                   backend=cfg["sgd_backend"])


def simulate_sgd_grid(cfg, w) -> dict:
    c, grid = cfg["sgd_grid"], cfg["time_grid"]
    return sgd_run(cfg, {**w, "eta": [num(e) for e in c["eta"]]}, law="gaussian", seeds=c["seeds"],
                   batch=w["batch"], sigma2=w["sigma2"], t_max=c["t_max"], t_min=grid["t_min"],
                   points_per_decade=grid["points_per_decade"], backend=cfg["sgd_backend"])


def simulate_sgd_limit(cfg, w) -> dict:
    c = cfg["sgd_grid"]["limit"]
    return {
        "a": w["a"], "d": w["d"], "seed": c["seed"], "base_seed": cfg["base_seed"], "eta": c["eta"],
        "batch": c["batch"], "replicas": c["replicas"], "times": c["times"], "blowup": cfg["sgd_blowup"],
        "rtol": cfg["flow"]["rtol"], "atol": cfg["flow"]["atol"],
    }


def inputs_law_param(cfg, law):
    """The parameter of a law of the inputs study (None for the laws without one)."""
    c = cfg["inputs"]
    return {"student_t": c["student_t_nu"], "sparse": c["sparse_p"]}.get(law)


def simulate_inputs_flow(cfg, w) -> dict:
    c = cfg["inputs"]
    law_param = inputs_law_param(cfg, w["law"])
    return {
        "a": w["a"], "d": w["d"], "seed": c["seeds"], "base_seed": cfg["base_seed"], "input_law": w["law"],
        **({} if law_param is None else {"law_param": law_param}),
        "t_max": recovery_t_max(c["t_max_factor"], w), "t_min": c["t_min"],
        "points_per_decade": c["points_per_decade"], "rtol": c["rtol"], "atol": c["atol"],
    }


def simulate_inputs_sgd(cfg, w) -> dict:
    # batch 1 without label noise, on the CPU kernel: the CUDA one draws Gaussian inputs only
    c = cfg["inputs"]
    return sgd_run(cfg, w, law=w["law"], seeds=c["seeds"], batch=1, sigma2=0.0, t_max=c["sgd"]["t_max"],
                   t_min=c["t_min"], points_per_decade=c["points_per_decade"], backend="cpu",
                   law_param=inputs_law_param(cfg, w["law"]))


def simulate_init(cfg, w) -> dict:
    c = cfg["init"]
    return {
        "a": w["a"], "d": w["d"], "seeds": c["seeds"], "base_seed": cfg["base_seed"],
        "t_max": recovery_t_max(cfg["flow"]["t_max_factor"], w), "t_min": cfg["time_grid"]["t_min"],
        "points_per_decade": c["points_per_decade"], "rtol": cfg["flow"]["rtol"], "atol": cfg["flow"]["atol"],
    }


def simulate_finite(cfg, w) -> dict:
    c = cfg["finite"]
    return {
        "a": w["a"], "d": w["d"], "sigma2": w["sigma2"], "seeds": c["seeds"], "n_over_d": c["n_over_d"],
        "base_seed": cfg["base_seed"], "eta": c["eta"], "horizon_factor": c["horizon_factor"],
        "points_per_decade": c["points_per_decade"],
    }


def committee_t_max(cfg, w) -> float:
    """t_max_factor times the end of the tail window, tau(x_d = tail_x_hi_frac d) = H_{d,a} x_d^a / 16:
    the horizon of the SGD runs."""
    c = cfg["committee"]
    a = float(w["a"])
    return c["t_max_factor"] * full_recovery_time(int(w["d"]), a) * c["tail_x_hi_frac"] ** a


def committee_flow_t_max(cfg, w) -> float:
    """The flows' horizon: committee_t_max, at least sequence_t_max (the learning sequence at small a)."""
    return max(committee_t_max(cfg, w), float(cfg["committee"]["sequence_t_max"]))


def committee_run(cfg, w, method, t_max) -> dict:
    """Options of scripts/simulate_committee.py shared by the flow and SGD (the seeds of the section)."""
    return {
        "method": method, "a": w["a"], "d": w["d"], "p": w["p"], "k": w["k"], "activation": w["activation"],
        "seed": cfg["committee"]["seeds"], "base_seed": cfg["base_seed"], "t_max": t_max,
        "t_min": cfg["time_grid"]["t_min"], "points_per_decade": cfg["committee"]["points_per_decade"],
    }


def simulate_committee_flow(cfg, w) -> dict:
    return committee_run(cfg, w, "flow", committee_flow_t_max(cfg, w)) | {
        "rtol": cfg["flow"]["rtol"], "atol": cfg["flow"]["atol"],
        "phase3_loss": cfg["committee"]["phase3_loss"], "learn_level": cfg["committee"]["learn_level"]}


def simulate_committee_sgd(cfg, w) -> dict:
    return committee_run(cfg, w, "sgd", committee_t_max(cfg, w)) | {
        "eta": w["eta"], "batch": w["batch"], "sigma2": w["sigma2"], "blowup": cfg["sgd_blowup"],
        "sgd_rng": cfg["sgd_rng"]}


@dataclass(frozen=True)
class Simulation:
    """A simulation rule: its output pattern, the files a config asks of it and the options of the
    job behind one output's wildcards."""

    pattern: str
    files: Callable[[dict], list[str]]
    options: Callable[[dict, Mapping], dict]


SIMULATIONS = {
    "simulate_flow": Simulation(FLOW_NPZ, all_flow_files, simulate_flow),
    "simulate_gd": Simulation(GD_NPZ, all_gd_files, simulate_gd),
    "simulate_phase3": Simulation(PHASE3_NPZ, phase3_files, simulate_phase3),
    "simulate_phase3_levels": Simulation(PHASE3_LEVELS_NPZ, phase3_level_files, simulate_phase3_levels),
    "simulate_sgd": Simulation(SGD_NPZ, all_sgd_files, simulate_sgd),
    "simulate_escape": Simulation(ESCAPE_NPZ, escape_files, simulate_escape),
    "simulate_volterra": Simulation(VOLTERRA_NPZ, volterra_files, simulate_volterra),
    "simulate_scaling": Simulation(SCALING_NPZ, scaling_files, simulate_scaling),
    "simulate_sgd_grid": Simulation(SGD_GRID_NPZ, sgd_grid_files, simulate_sgd_grid),
    "simulate_sgd_limit": Simulation(SGD_LIMIT_NPZ, sgd_limit_files, simulate_sgd_limit),
    "simulate_init": Simulation(INIT_NPZ, init_files, simulate_init),
    "simulate_inputs_flow": Simulation(INPUTS_FLOW_NPZ, inputs_flow_files, simulate_inputs_flow),
    "simulate_inputs_sgd": Simulation(INPUTS_SGD_NPZ, inputs_sgd_files, simulate_inputs_sgd),
    "simulate_finite": Simulation(FINITE_NPZ, finite_files, simulate_finite),
    "simulate_committee_flow": Simulation(COMMITTEE_FLOW_NPZ, committee_flow_files, simulate_committee_flow),
    "simulate_committee_sgd": Simulation(COMMITTEE_SGD_NPZ, committee_sgd_files, simulate_committee_sgd),
}


def wildcards_of(pattern: str, path: str) -> dict | None:
    """The wildcards of path under pattern (with the rules' constraints), or None if it does not match."""
    parts = re.split(r"\{(\w+)\}", pattern)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>{WILDCARDS[p]})" for i, p in enumerate(parts))
    m = re.fullmatch(regex, path)
    return None if m is None else {k: m[k] for k in parts[1::2]}


def recorded_inputs(cfg, rule: str, w: Mapping) -> dict:
    """The inputs one output file of the rule records (provenance "inputs"): the options of its job,
    where a wildcard of the file itself (one seed of a job's seeds, one eta of a grid's) takes the
    file's value."""
    options = SIMULATIONS[rule].options(cfg, w)
    return options | {k: w[k] for k in options.keys() & w.keys()}


# ---- notebooks and claims: the parameters each job reads, recorded beside what it makes ----

THEORY_ESCAPE = "results/theory/escape.npz"
THEORY_VOLTERRA = "results/theory/volterra.npz"
THEORY_SCALING = "results/theory/scaling.npz"
SGD_GRID_STUDY = "results/studies/sgd_grid.npz"
INIT_STUDY = "results/studies/init.npz"
INPUTS_STUDY = "results/studies/inputs.npz"
FINITE_STUDY = "results/studies/finite.npz"
COMMITTEE_STUDY = "results/studies/committee.npz"
CHECKS = "results/checks.json"
FIGURES = {
    "fig1": "figures/fig1_sgd_mse",
    "fig2": "figures/fig2_population_dynamics",
    "fig3": "figures/fig3_escape_over_a",
    "fig4": "figures/fig4_phase3_frozen",
    "fig5": "figures/fig5_sgd_label_noise",
    "fig6": "figures/fig6_one_minus_u",
    "theory_escape": "figures/theory_escape",
    "theory_volterra": "figures/theory_volterra",
    "theory_phase3": "figures/theory_phase3_collapse",  # study: scaling
    "theory_loss_law": "figures/theory_loss_law",
    "theory_phase2": "figures/theory_phase2_T2",
    "sgd_grid": "figures/sgd_grid",  # study: sgd_grid
    "init": "figures/init",  # study: init
    "inputs": "figures/inputs",  # study: inputs
    "finite": "figures/finite",  # study: finite
    "committee": "figures/committee",  # study: committee
}
TABLES = {
    "stopping_times": "results/tables/stopping_times",
    "threshold_check": "results/tables/threshold_check",
    "scaling_laws": "results/tables/scaling_laws",
    "sgd_grid_table": "results/tables/sgd_grid",
    "init_table": "results/tables/init",
    "inputs_table": "results/tables/inputs",
    "finite_table": "results/tables/finite",
    "committee_table": "results/tables/committee",
}
#: Provenance sidecar of a figure, table or claims file: <stem>.provenance.json.
SIDECAR = "{stem}.provenance.json"


@dataclass(frozen=True)
class Recorded:
    """A rule whose parameters (built here, from config) are recorded in the sidecar of each stem it
    makes; scripts/record_params.py writes them, scripts/check_artifacts.py compares them."""

    stems: tuple[str, ...]
    params: Callable[[dict], dict]


def _stopping(cfg, *keys):
    return {k: cfg["stopping"][k] for k in keys}


RECORDED = {
    "figure1": Recorded((FIGURES["fig1"],), lambda cfg: {
        "sgd_files": sgd_files(cfg, "fig1"), "flow_files": flow_files(cfg, "fig1"),
        "large_d_sgd_files": sgd_files(cfg, "fig1", row=LARGE_D),
        "large_d_flow_files": flow_files(cfg, "fig1", LARGE_D), "out_stem": FIGURES["fig1"]}),
    "figure5": Recorded((FIGURES["fig5"],), lambda cfg: {
        "sgd_files": sgd_files(cfg, "fig5"), "large_d_sgd_files": sgd_files(cfg, "fig5", row=LARGE_D),
        "out_stem": FIGURES["fig5"]}),
    "figure2": Recorded((FIGURES["fig2"],), lambda cfg: {
        "flow_files": flow_files(cfg, "fig2"), "gd_files": gd_files(cfg), **_stopping(cfg, "delta"),
        "eps": cfg["fig2"]["eps"], "out_stem": FIGURES["fig2"]}),
    "figure3": Recorded((FIGURES["fig3"],), lambda cfg: {
        "flow_files": flow_files(cfg, "fig3"), **_stopping(cfg, "delta"), "out_stem": FIGURES["fig3"]}),
    "figure4": Recorded((FIGURES["fig4"],), lambda cfg: {
        "phase3_files": phase3_files(cfg), "rtol": cfg["claims"]["frozen_mse_rtol"],
        "out_stem": FIGURES["fig4"]}),
    "figure6": Recorded((FIGURES["fig6"],), lambda cfg: {
        "flow_files": flow_files(cfg, "fig6"), "out_stem": FIGURES["fig6"]}),
    "tables": Recorded((TABLES["stopping_times"], TABLES["threshold_check"]), lambda cfg: {
        "flow_files": population_files(cfg), **_stopping(cfg, "delta", "eps", "s0"),
        "out_stems": {k: TABLES[k] for k in ("stopping_times", "threshold_check")}}),
    "figure_theory_escape": Recorded((FIGURES["theory_escape"],), lambda cfg: {
        "theory_file": THEORY_ESCAPE, "out_stem": FIGURES["theory_escape"]}),
    "figure_theory_volterra": Recorded((FIGURES["theory_volterra"],), lambda cfg: {
        "theory_file": THEORY_VOLTERRA, "out_stem": FIGURES["theory_volterra"]}),
    "figure_scaling": Recorded(
        tuple({**FIGURES, **TABLES}[k] for k in ("theory_phase3", "theory_loss_law", "theory_phase2",
                                                 "scaling_laws")),
        lambda cfg: {"scaling_file": THEORY_SCALING, "escape_file": THEORY_ESCAPE, "out_stems": {
            k: {**FIGURES, **TABLES}[k] for k in ("theory_phase3", "theory_loss_law", "theory_phase2",
                                                  "scaling_laws")}}),
    "figure_sgd_grid": Recorded((FIGURES["sgd_grid"], TABLES["sgd_grid_table"]), lambda cfg: {
        "study_file": SGD_GRID_STUDY, "sgd_files": sgd_grid_files(cfg),
        "flow_files": flow_files(cfg, "sgd_grid"), "stopping": cfg["stopping"],
        "out_stem": FIGURES["sgd_grid"], "table_stem": TABLES["sgd_grid_table"]}),
    "figure_init": Recorded((FIGURES["init"], TABLES["init_table"]), lambda cfg: {
        "study_file": INIT_STUDY, "run_files": init_files(cfg), **_stopping(cfg, "delta", "eps", "s0"),
        "phase3_eps": cfg["init"]["phase3_eps"], "x_hi": cfg["init"]["x_hi"], "out_stem": FIGURES["init"],
        "table_stem": TABLES["init_table"]}),
    "figure_inputs": Recorded((FIGURES["inputs"], TABLES["inputs_table"]), lambda cfg: {
        "study_file": INPUTS_STUDY, "flow_files": inputs_flow_files(cfg),
        "sgd_files": inputs_sgd_files(cfg), "sgd_d": cfg["inputs"]["sgd"]["d"], "out_stem": FIGURES["inputs"],
        "table_stem": TABLES["inputs_table"]}),
    "figure_finite": Recorded((FIGURES["finite"], TABLES["finite_table"]), lambda cfg: {
        "sim_files": finite_files(cfg), "study_file": FINITE_STUDY,
        "floor_factor": cfg["finite"]["claims"]["floor_factor"], "out_stem": FIGURES["finite"],
        "table_stem": TABLES["finite_table"]}),
    "figure_committee": Recorded((FIGURES["committee"], TABLES["committee_table"]), lambda cfg: {
        "study_file": COMMITTEE_STUDY, "flow_files": committee_flow_files(cfg),
        "learn_level": cfg["committee"]["learn_level"], "confidence_level": cfg["confidence_level"],
        "out_stem": FIGURES["committee"],
        "table_stem": TABLES["committee_table"]}),
    "claims": Recorded((CHECKS.removesuffix(".json"),), lambda cfg: {
        "stop": cfg["stopping"], "claims": cfg["claims"], "flow": cfg["flow"],
        "confidence_level": cfg["confidence_level"]}),
}


def recorded_params(cfg, rule: str) -> dict:
    """The parameters a notebook (or the claims) rule passes its job, as the rule builds them."""
    return RECORDED[rule].params(cfg)


def param_differences(recorded, want, key="") -> list[tuple[str, object, object]]:
    """(dotted key, recorded, config's) for every leaf where a record differs from the config's params."""
    if isinstance(want, Mapping) and isinstance(recorded, Mapping):
        out = []
        for k in sorted(set(want) | set(recorded)):
            out += param_differences(recorded.get(k, "<absent>"), want.get(k, "<absent>"),
                                     f"{key}.{k}" if key else k)
        return out
    return [] if recorded == want else [(key, recorded, want)]
