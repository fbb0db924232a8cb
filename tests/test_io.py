import os
import stat

import numpy as np
import pytest

from prdynamics.io import CorruptResultError, load_result, provenance, save_result

REQUIRED = ("t", "s")


def test_roundtrip_with_provenance(tmp_path):
    path = tmp_path / "sub" / "r.npz"
    save_result(path, {"t": np.arange(3.0), "s": np.ones(3), "a": 2.0}, provenance({"a": 2.0}))
    r = load_result(path, required=REQUIRED)
    np.testing.assert_array_equal(r["t"], np.arange(3.0))
    assert r["a"] == 2.0 and isinstance(r["a"], float)
    assert r["provenance"]["inputs"] == {"a": 2.0}
    assert {"git_commit", "git_dirty", "versions", "created_utc"} <= set(r["provenance"])
    assert list(tmp_path.joinpath("sub").iterdir()) == [path]  # no temporary file left


def test_truncated_and_garbage_files_are_refused(tmp_path):
    path = tmp_path / "r.npz"
    save_result(path, {"t": np.arange(1000.0), "s": np.ones(1000)}, provenance({}))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptResultError, match="corrupt or truncated"):
        load_result(path, required=REQUIRED)
    path.write_bytes(b"not an npz at all")
    with pytest.raises(CorruptResultError, match=str(path.name)):
        load_result(path, required=REQUIRED)
    with pytest.raises(CorruptResultError, match="does not exist"):
        load_result(tmp_path / "missing.npz", required=REQUIRED)


def test_missing_key_is_refused(tmp_path):
    path = tmp_path / "r.npz"
    save_result(path, {"t": np.arange(3.0)}, provenance({}))
    with pytest.raises(CorruptResultError, match="missing keys"):
        load_result(path, required=REQUIRED)


def test_failed_write_leaves_nothing(tmp_path):
    path = tmp_path / "r.npz"

    class Unsaveable:
        def __array__(self, *a, **k):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        save_result(path, {"t": Unsaveable()}, provenance({}))
    assert list(tmp_path.iterdir()) == []


def test_leftover_of_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    """SIGKILL between mkstemp and the rename leaves .<name>.*.tmp; rewriting the file clears it."""
    path = tmp_path / "seed1.npz"
    stale = tmp_path / ".seed1.npz.k1ll3d.tmp"
    stale.write_bytes(b"half a file")
    other = tmp_path / ".seed10.npz.abcdef.tmp"  # another file's temporary: left alone
    other.write_bytes(b"")
    save_result(path, {"t": np.arange(3.0)}, provenance({}))
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name, path.name]
    np.testing.assert_array_equal(load_result(path, required=("t",))["t"], np.arange(3.0))


def test_saved_figure_clears_its_own_leftovers(tmp_path):
    import matplotlib.pyplot as plt

    from prfigures import save_figure

    (tmp_path / ".fig.png.k1ll3d.tmp").write_bytes(b"")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    first = save_figure(fig, tmp_path / "fig")
    pdf_bytes = first[0].read_bytes()
    save_figure(fig, tmp_path / "fig")
    plt.close(fig)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.pdf", "fig.png"]
    assert first[0].read_bytes() == pdf_bytes  # byte-stable reruns


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_outputs_get_the_mode_of_a_plain_open(tmp_path, umask):
    """npz, text (tables, claims) and figures all go through atomic_file: 0644 under umask 022."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from prdynamics.io import write_text_atomic
    from prfigures import save_figure

    old = os.umask(umask)
    try:
        save_result(tmp_path / "r.npz", {"t": np.arange(3.0)}, provenance({}))
        write_text_atomic(tmp_path / "table.csv", "a,b\n1,2\n")
        fig, _ = plt.subplots()
        save_figure(fig, tmp_path / "fig")
        plain = tmp_path / "plain"
        plain.write_text("x")
    finally:
        os.umask(old)
    want = 0o666 & ~umask
    assert stat.S_IMODE(plain.stat().st_mode) == want
    for name in ("r.npz", "table.csv", "fig.png", "fig.pdf"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == want, name
