"""A value lives in config and nowhere else: no CLI default or notebook parameter restates it.

The options the pipeline passes come from the shell commands of a dry run of the quick config with
every job forced; each must be required by (or have no default in) the parser of the script that
reads it. test_restated_default_is_caught shows the check failing on a default put back.
"""

import argparse
import ast
import importlib.util
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Options a script does not define itself are passed on to another script's parser.
PASSED_ON = {"simulate_sgd_grid.py": "simulate_sgd.py"}


class _Parser(Exception):
    pass


def parser_of(script: Path) -> argparse.ArgumentParser:
    """The script's argument parser, caught where its parse_args (or main) first parses."""
    spec = importlib.util.spec_from_file_location(f"script_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def catch(self, *args, **kwargs):
        raise _Parser(self)

    with mock.patch.object(argparse.ArgumentParser, "parse_known_args", catch), pytest.raises(_Parser) as got:
        getattr(module, "parse_args", module.main)([])
    return got.value.args[0]


def restated_defaults(parser: argparse.ArgumentParser, options) -> list[str]:
    """The options that the parser neither requires nor leaves without a default."""
    bad = []
    for option in sorted(options):
        action = parser._option_string_actions.get(option)
        if action is None:
            bad.append(f"{option} (unknown)")
        elif not action.required and action.default is not None:
            bad.append(f"{option} (default {action.default!r})")
    return bad


@pytest.fixture(scope="module")
def commands() -> list[str]:
    """Every shell command of the quick DAG, all jobs forced (a dry run: nothing is written)."""
    res = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "-p", "--forceall", "--nolock", "--configfile",
         "config/quick.yaml"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    found = re.findall(r"^Shell command: (.+)$", res.stdout + res.stderr, flags=re.M)
    assert len(found) > 40
    return [c.split(" > ")[0] for c in found]


def test_passed_options_have_no_default(commands):
    passed: dict[str, set[str]] = {}
    for cmd in commands:
        words = shlex.split(cmd)
        if words[0] == "python":
            passed.setdefault(Path(words[1]).name, set()).update(w for w in words[2:] if w.startswith("--"))
    assert {"simulate_flow.py", "simulate_sgd.py", "simulate_sgd_grid.py", "study_init.py",
            "check_claims.py", "check_artifacts.py"} <= set(passed)
    bad = []
    for name, options in sorted(passed.items()):
        parser = parser_of(ROOT / "scripts" / name)
        own = {o for o in options if o in parser._option_string_actions}
        if name in PASSED_ON:
            bad += [f"{PASSED_ON[name]} {b}" for b in
                    restated_defaults(parser_of(ROOT / "scripts" / PASSED_ON[name]), options - own)]
            options = own
        bad += [f"{name} {b}" for b in restated_defaults(parser, options)]
    assert not bad, "options the pipeline passes that keep a CLI default: " + ", ".join(bad)


def test_restated_default_is_caught(tmp_path):
    """Put a default back on simulate_flow.py's --rtol: the check names it."""
    script = tmp_path / "simulate_flow.py"
    text = (ROOT / "scripts/simulate_flow.py").read_text()
    assert 'p.add_argument("--rtol", type=finite_float,\n' in text
    script.write_text(text.replace('p.add_argument("--rtol", type=finite_float,\n',
                                   'p.add_argument("--rtol", type=finite_float, default=1e-7,\n'))
    assert restated_defaults(parser_of(ROOT / "scripts/simulate_flow.py"), {"--rtol", "--t-max"}) == []
    assert restated_defaults(parser_of(script), {"--rtol", "--t-max"}) == ["--rtol (default 1e-07)"]


def parameters_cell(notebook: Path) -> ast.Module:
    text = notebook.read_text()
    start = text.index('# %% tags=["parameters"]\n')
    end = text.index("\n# %%", start + 1)
    return ast.parse(text[start:end])


@pytest.mark.parametrize("notebook", sorted(p.name for p in (ROOT / "notebooks").glob("*.py")))
def test_notebook_parameters_are_placeholders(notebook):
    cell = parameters_cell(ROOT / "notebooks" / notebook)
    assert cell.body, "empty parameters cell"
    for stmt in cell.body:
        assert isinstance(stmt, ast.Assign) and len(stmt.targets) == 1, ast.unparse(stmt)
        assert isinstance(stmt.value, ast.Constant) and stmt.value.value is None, ast.unparse(stmt)


def test_rules_pass_every_notebook_parameter(commands):
    seen = set()
    for cmd in commands:
        m = re.match(r"jupytext .* -o - (\S+) \| papermill .* -y '(.+)'$", cmd)
        if m:
            cell = parameters_cell(ROOT / m[1])
            assert set(json.loads(m[2])) == {s.targets[0].id for s in cell.body}, m[1]
            seen.add(Path(m[1]).name)
    assert seen == {p.name for p in (ROOT / "notebooks").glob("*.py")}


def usage_examples(doc: str) -> list[list[str]]:
    """The `python scripts/...` command lines of a docstring, continuation lines joined."""
    lines = re.sub(r"\\\n\s*", " ", doc or "").splitlines()
    commands = [line for line in lines if line.strip().startswith("python scripts/")]
    return [shlex.split(line, comments=True)[2:] for line in commands]


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "scripts").glob("[!_]*.py")))
def test_usage_examples_parse(script):
    """Every usage example of a script's docstring gives all the options it requires."""
    path = ROOT / "scripts" / script
    examples = usage_examples(ast.get_docstring(ast.parse(path.read_text()), clean=False))
    if not examples:
        pytest.skip("no usage example")
    spec = importlib.util.spec_from_file_location(f"script_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for argv in examples:
        if not hasattr(module, "parse_args"):
            parser_of(path).parse_args(argv)
        elif script in PASSED_ON:  # the options it passes on, as it passes them (one eta, one output)
            args, rest = module.parse_args(argv)
            passed_on = importlib.import_module(Path(PASSED_ON[script]).stem)
            passed_on.parse_args([*rest, "--eta", repr(args.eta[0]), "--out", args.out[0]])
        else:
            module.parse_args(argv)
