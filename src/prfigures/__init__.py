"""Figure helpers shared by the notebooks: one style, one saver, one way to draw seeds.

Kept apart from the numerical library `prdynamics`, which never plots.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402

from prdynamics.io import atomic_file, load_result  # noqa: E402

PDF_METADATA = {"Creator": "prdynamics", "Producer": "matplotlib", "CreationDate": None}
PNG_METADATA = {"Software": "prdynamics"}


def set_style() -> None:
    """Readable defaults for every figure of the project."""
    sns.set_theme(context="paper", style="ticks", font_scale=1.2)
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 200, "axes.grid": True, "grid.alpha": 0.3})


def save_figure(fig, stem: str | os.PathLike) -> list[Path]:
    """Write stem.pdf and stem.png atomically, with fixed metadata (byte-stable reruns)."""
    stem = Path(stem)
    written = []
    for ext, meta in (("pdf", PDF_METADATA), ("png", PNG_METADATA)):
        final = stem.with_suffix(f".{ext}")
        with atomic_file(final) as fh:
            fig.savefig(fh, format=ext, metadata=meta, bbox_inches="tight")
        written.append(final)
    return written


def load_runs(files, keys=("s", "u", "u2", "mse", "loss")) -> dict:
    """Stack the trajectories of several runs that share one time grid.

    Returns {"t": (T,), key: (n_runs, T) for each key, "runs": [loaded dicts]}.
    """
    runs = [load_result(f) for f in files]
    if not runs:
        raise ValueError("no result files given")
    t = runs[0]["t"]
    for f, r in zip(files, runs, strict=True):
        if r["t"].shape != t.shape or not np.allclose(r["t"], t, rtol=1e-12):
            raise ValueError(f"{f}: time grid differs from {files[0]}")
    out = {"t": t, "runs": runs}
    for k in keys:
        out[k] = np.vstack([np.atleast_2d(r[k]) for r in runs])
    return out


def median_band(ax, t, values, label=None, color=None, band=(0.0, 1.0), **kw):
    """Median over runs (rows) as a line, and the band between the given quantiles (None: no band)."""
    values = np.asarray(values, float)
    (line,) = ax.plot(t, np.nanmedian(values, axis=0), label=label, color=color, **kw)
    if band is not None:
        lo, hi = (np.nanquantile(values, q, axis=0) for q in band)
        ax.fill_between(t, lo, hi, color=line.get_color(), alpha=0.25, linewidth=0)
    return line


def write_table(df, stem: str | os.PathLike, caption: str = "", floatfmt: str = ".4g",
                inputs: dict | None = None) -> list[Path]:
    """Write a DataFrame as stem.csv, a Markdown rendering stem.md and, when inputs are
    given, its provenance as stem.provenance.json; all atomically."""
    import json

    from prdynamics.io import provenance, write_text_atomic

    stem = Path(stem)
    if inputs is not None:
        prov = json.dumps(provenance(inputs), indent=2, sort_keys=True, default=str)
        write_text_atomic(stem.with_suffix(".provenance.json"), prov + "\n")
    write_text_atomic(stem.with_suffix(".csv"), df.to_csv(index=False, float_format="%.10g"))

    def cell(v):
        if isinstance(v, float | np.floating):
            return "NaN" if np.isnan(v) else format(float(v), floatfmt)
        return str(v)

    lines = [f"| {' | '.join(map(str, df.columns))} |", f"|{'---|' * len(df.columns)}"]
    lines += [f"| {' | '.join(cell(v) for v in row)} |" for row in df.itertuples(index=False)]
    text = (f"{caption}\n\n" if caption else "") + "\n".join(lines) + "\n"
    write_text_atomic(stem.with_suffix(".md"), text)
    return [stem.with_suffix(".csv"), stem.with_suffix(".md")]
