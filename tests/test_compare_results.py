"""scripts/compare_results.py: the bit-identity gate of refactorings must see one changed bit."""

import compare_results  # scripts/ is on the path (conftest)
import numpy as np

from prdynamics.io import provenance, save_result


def make_tree(root, value, when="x"):
    save_result(root / "results/sims/a/seed0.npz", {"t": np.array([1.0, 2.0]), "s": np.array([0.5, value])},
                provenance({"made": when}))
    (root / "results/checks.json").write_text("[]\n")
    return root


def test_identical_trees_pass_and_provenance_is_ignored(tmp_path):
    a, b = make_tree(tmp_path / "a", 0.25, "monday"), make_tree(tmp_path / "b", 0.25, "tuesday")
    assert compare_results.differences(a, b) == []
    assert compare_results.main([str(a), str(b)]) == 0


def test_one_changed_value_or_file_is_named(tmp_path):
    a, b = make_tree(tmp_path / "a", 0.25), make_tree(tmp_path / "b", np.nextafter(0.25, 1.0))
    assert compare_results.differences(a, b) == ["differs: results/sims/a/seed0.npz:s"]
    (b / "results/checks.json").write_text("[1]\n")
    assert "differs: results/checks.json" in compare_results.differences(a, b)
    assert compare_results.main([str(a), str(b)]) == 1
