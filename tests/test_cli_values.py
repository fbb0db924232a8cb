"""Bad values on a command line or in config are refused by name before any work starts."""

import argparse
import copy
import os
import subprocess
import sys
from pathlib import Path

import pipeline
import pytest
from _cli import finite_float, npz_output
from cli_args import FLOW, SGD, options
from test_one_home import parser_of

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p.name for p in (ROOT / "scripts").glob("[!_]*.py"))


@pytest.mark.parametrize("text,word", [("nan", "NaN"), ("NaN", "NaN"), ("inf", "infinity"),
                                       ("-inf", "infinity"), ("1e400", "infinity"), ("x", "not a number")])
def test_finite_float_refuses_by_name(text, word):
    with pytest.raises(argparse.ArgumentTypeError, match=word):
        finite_float(text)


def test_finite_float_reads_numbers_as_float_does():
    for text in ("0.5", "1e-3", "2e3", "-0", "0.7071067811865476"):
        assert finite_float(text) == float(text)


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_float_option_is_finite(script):
    """No float option of a CLI reads NaN or infinity: every one has the shared finite_float type."""
    parser = parser_of(ROOT / "scripts" / script)
    floats = [a.option_strings[0] for a in parser._actions if a.type is float]
    assert not floats, f"{script}: float options that take NaN and infinity: {floats}"


def test_float_check_can_fail(tmp_path):
    """The walk above finds a plain float option."""
    p = argparse.ArgumentParser()
    p.add_argument("--x", type=float)
    assert [a.option_strings for a in p._actions if a.type is float] == [["--x"]]


@pytest.mark.parametrize("flag,value,word", [("--a", "nan", "NaN"), ("--t-max", "inf", "infinity"),
                                             ("--rtol", "nan", "NaN")])
def test_simulate_flow_refuses_nonfinite(flag, value, word, tmp_path):
    res = subprocess.run([sys.executable, "scripts/simulate_flow.py", "--a", "2", "--d", "10", "--seed", "0",
                          *options(FLOW, **{flag: value}), "--out", str(tmp_path / "x.npz")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert f"argument {flag}: {word}" in res.stderr
    assert not list(tmp_path.iterdir())


def test_simulate_sgd_refuses_nan_noise(tmp_path, capsys):
    import simulate_sgd

    with pytest.raises(SystemExit) as exc:
        simulate_sgd.parse_args(["--a", "1", "--d", "8", "--seed", "0", *options(SGD, **{"--sigma2": "nan"}),
                                 "--out", str(tmp_path / "x.npz")])
    assert exc.value.code == 2
    assert "argument --sigma2: NaN" in capsys.readouterr().err


# ---- output paths: suffix and a folder a file can be written in, before the run ----


def test_output_suffix_is_checked(tmp_path):
    with pytest.raises(argparse.ArgumentTypeError, match=r"must end in \.npz"):
        npz_output(str(tmp_path / "y.txt"))
    deep = str(tmp_path / "new" / "deeper" / "y.npz")
    assert npz_output(deep) == deep
    assert not (tmp_path / "new").exists()  # the check creates nothing


def test_output_under_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(argparse.ArgumentTypeError, match="is not a directory"):
        npz_output(str(tmp_path / "file" / "y.npz"))
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(argparse.ArgumentTypeError, match="is a directory"):
        npz_output(str(tmp_path / "dir.npz"))


def test_unwritable_folder_is_refused(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes in a read-only folder")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(argparse.ArgumentTypeError, match="cannot write in"):
            npz_output(str(folder / "sub" / "y.npz"))
    finally:
        folder.chmod(0o755)


def test_unwritable_output_refused_before_the_simulation(tmp_path):
    """The CLI stops at parsing (code 2, argparse's message), not after the run with a traceback."""
    (tmp_path / "file").write_text("")
    for out, word in ((tmp_path / "file" / "x.npz", "is not a directory"),
                      (tmp_path / "y.txt", "end in .npz")):
        res = subprocess.run([sys.executable, "scripts/simulate_sgd.py", "--a", "1", "--d", "8", "--seed",
                              "0", *SGD, "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                             timeout=120)
        assert res.returncode == 2 and "argument --out" in res.stderr and word in res.stderr, res.stderr
        assert "Traceback" not in res.stderr


@pytest.mark.parametrize("script", [s for s in SCRIPTS if s.startswith(("simulate_", "study_", "theory_"))])
def test_every_writer_checks_its_outputs(script):
    """Each simulation, study and theory CLI's --out (and claims file) has a checked output type."""
    parser = parser_of(ROOT / "scripts" / script)
    outs = [a for a in parser._actions if a.dest in ("out", "claims", "claims_out")]
    assert outs and all(getattr(a.type, "__name__", "").endswith("output file") for a in outs), script


# ---- config: NaN and infinity by name, integers as written ----


@pytest.fixture(scope="module")
def base_config():
    return pipeline.load_config()


def changed(cfg, section, key, value):
    cfg = copy.deepcopy(cfg)
    cfg[section][key] = value
    return cfg


@pytest.mark.parametrize("section,key,value,path", [
    ("fig2", "a", float("nan"), "fig2.a"), ("fig2", "gd_t_max", float("inf"), "fig2.gd_t_max"),
    ("stopping", "eps", [0.1, float("-inf")], "stopping.eps.1"),
])
def test_nonfinite_config_value_is_named(base_config, section, key, value, path):
    errors = pipeline.config_errors(changed(base_config, section, key, value))
    bad = value[1] if isinstance(value, list) else value
    assert errors == [f"config key '{path}': {bad} is not allowed, every value must be a finite number"]


@pytest.mark.parametrize("value,hint", [("2e3", "write the integer in digits, 2000"),
                                        (2000.0, "write the integer in digits, 2000")])
def test_integer_with_exponent_is_refused_with_how_to_write_it(base_config, value, hint):
    [error] = pipeline.config_errors(changed(base_config, "fig2", "d", value))
    assert error.startswith("config key 'fig2.d':") and hint in error


def test_number_read_as_text_gets_a_spelling(base_config):
    cfg = copy.deepcopy(base_config)
    cfg["time_grid"]["t_min"] = "1e-3"
    [error] = pipeline.config_errors(cfg)
    assert "write 0.001" in error


def test_yaml_spelling_reads_back_as_the_number():
    import yaml

    for value in (1e-3, 1e-7, 2e3, 1e20, 1.5e-12, 0.5):
        assert yaml.safe_load(pipeline._yaml_float(value)) == value


@pytest.mark.parametrize("text,words", [
    ("fig2:\n  a: .nan\n", ["fig2.a", "nan is not allowed"]),
    ("fig2:\n  d: 2e3\n", ["fig2.d", "write the integer in digits, 2000"]),
])
def test_dry_run_stops_on_bad_value(text, words, tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    res = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--nolock", "--configfile", str(cfg)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    out = res.stdout + res.stderr
    assert res.returncode != 0 and "invalid configuration" in out and "Job stats" not in out
    assert all(w in out for w in words), out[-2000:]


def test_check_artifacts_config_is_validated(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("fig2:\n  a: .inf\n")
    with pytest.raises(Exception, match="fig2.a"):
        pipeline.load_config(cfg)
