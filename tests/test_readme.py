"""The README stays short, the module list (docs/modules.md) matches the source tree, and the docs
links resolve.

The module list is the Markdown list in docs/modules.md whose items start with a backticked path,
e.g. ``- `src/prdynamics/flow.py`: ...``. It must name exactly the ``.py`` files
under ``src/prdynamics`` (subpackages included) and ``src/prfigures``, every ``__init__.py``
included: adding, removing or renaming a module without its README line fails here.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MODULES = ROOT / "docs" / "modules.md"
PACKAGES = ("src/prdynamics", "src/prfigures")
MAX_LINES = 250


def listed_modules(text: str) -> list[str]:
    """Backticked paths that start the list items of docs/modules.md."""
    return re.findall(r"^- `(src/[^`]+\.py)`", text, flags=re.M)


def tree_modules() -> set[str]:
    return {p.relative_to(ROOT).as_posix() for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def test_module_list_matches_the_tree():
    listed = listed_modules(MODULES.read_text())
    assert len(listed) == len(set(listed)), "a module is listed twice"
    tree = tree_modules()
    assert tree, "no modules found under src/"
    assert set(listed) == tree, (f"in the tree, not in docs/modules.md: {sorted(tree - set(listed))}; "
                                 f"in docs/modules.md, not in the tree: {sorted(set(listed) - tree)}")


def test_module_list_parser_sees_a_missing_module():
    text = MODULES.read_text()
    dropped = re.sub(r"^- `src/prdynamics/flow\.py`:.*\n", "", text, flags=re.M)
    assert dropped != text
    assert "src/prdynamics/flow.py" not in listed_modules(dropped)


def test_readme_is_short():
    n = len(README.read_text().splitlines())
    assert n < MAX_LINES, f"README.md has {n} lines, the limit is {MAX_LINES - 1}"


def test_docs_links_resolve():
    links = re.findall(r"\]\(((?:\./)?docs/[^)#\s]+)", README.read_text())
    assert links, "README links no docs/ page"
    missing = sorted({link for link in links if not (ROOT / link).is_file()})
    assert not missing, f"README links missing files: {missing}"


def test_docs_pages_link_existing_files():
    missing = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        for link in re.findall(r"\]\(([^)#\s:]+\.md)\)", page.read_text()):
            if not (page.parent / link).is_file():
                missing.append(f"{page.relative_to(ROOT)} -> {link}")
    assert not missing, missing


def test_ci_runs_the_readme_test_command():
    """.ci/run ends with the README's "Run the tests" command, verbatim, and it installs from the lock."""
    blocks = re.findall(r"```bash\n(.*?)\n```", README.read_text(), flags=re.S)
    test_command = next(b for b in blocks if b.endswith("python -m pytest"))
    assert "pip install -r requirements/lock-py3.11.txt && pip install --no-deps -e ." in test_command
    assert (ROOT / ".ci/run").read_text().rstrip().splitlines()[-1] == test_command
