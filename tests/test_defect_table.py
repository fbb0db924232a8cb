"""docs/defects.md tabulates the defect tests' DEFECTS declarations and is kept in step with them."""

import subprocess
import sys
from pathlib import Path

import defect_table

ROOT = Path(__file__).resolve().parents[1]


def test_defect_declarations_are_well_formed():
    for module, defects in defect_table.load_defects().items():
        assert defects, module
        for name, entry in defects.items():
            assert set(entry) == {"changes", "fails", "passes"}, (module, name)
            assert entry["changes"] and entry["fails"], (module, name)
            assert not entry["fails"] & entry["passes"], (module, name)


def test_render_marks_fails_and_passes():
    text = defect_table.render({"test_defects_x": {
        "gradient x2": {"changes": "doubles the gradient", "fails": {"b.check"}, "passes": {"a.check"}}}})
    header = next(line for line in text.splitlines() if line.startswith("| defect"))
    assert header == "| defect | what is wrong | test module | `a.check` | `b.check` |"
    assert "| gradient x2 | doubles the gradient | `test_defects_x` | pass | **FAIL** |" in text
    assert "1 of 2 listed here" in text


def test_docs_page_is_up_to_date():
    res = subprocess.run([sys.executable, str(ROOT / "scripts/defect_table.py"), "--check"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
