"""Data model: power-law spectrum, target and initialisation, exactly as in the paper.

- spectrum  lam_i = i^-a / H_{d,a},  H_{d,a} = sum_{j<=d} j^-a  (so tr Q = 1)
- target    w* = g / ||Q^{1/2} g||,  g ~ N(0, I_d)            (so s* = w*^T Q w* = 1)
- start     w(0) uniform on the unit sphere S^{d-1}
"""

from __future__ import annotations

import numpy as np

#: numba fastmath flags of the hot loops' reductions (GD steps, SGD kernels): sums may be reassociated
#: (vectorised) and contracted (FMA), never assume finite values (the divergence tests read NaN and
#: inf).  Their order is LLVM's choice for the machine: fixed on one machine for any chunks, workers
#: or replicas, though a CPU of another vector width can differ in the last bits.
FAST_REDUCTIONS = {"reassoc", "contract"}

#: Bytes of float64 working memory per coordinate that one population run needs
#: (lam, w*, w0, w and the integrator's stage vectors), used to refuse a d that
#: cannot fit before anything is allocated.
BYTES_PER_COORDINATE = 8 * 12


def harmonic(d: int, a: float) -> float:
    """Generalised harmonic number H_{d,a} = sum_{j=1}^d j^-a."""
    _check_d_a(d, a)
    return float(np.sum(np.arange(1, d + 1, dtype=np.float64) ** (-a)))


def spectrum(d: int, a: float) -> np.ndarray:
    """Eigenvalues lam_i = i^-a / H_{d,a}, i = 1..d, decreasing, summing to 1."""
    _check_d_a(d, a)
    raw = np.arange(1, d + 1, dtype=np.float64) ** (-a)
    return raw / raw.sum()


def full_recovery_time(d: int, a: float) -> float:
    """Time d^a H_{d,a} / 16 after which even the last mode is learned (Phase III)."""
    return d**a * harmonic(d, a) / 16.0


def escape_time_scale(d: int, a: float) -> float:
    """log(d) / (4 lam_1): an upper scale of the Phase I time, since u grows at least like e^{4 lam_1 t}.

    For a = 0 (lam_1 = 1/d) this is d log(d) / 4, far longer than the recovery
    time d / 16, so run horizons add it to full_recovery_time.
    """
    return float(np.log(d) / (4.0 * spectrum(d, a)[0]))


def target(lam: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """w* = g / ||Q^{1/2} g|| with g ~ N(0, I_d), so that w*^T Q w* = 1."""
    g = rng.standard_normal(lam.shape[0])
    return g / np.sqrt(np.sum(lam * g * g))


def init_sphere(d: int, rng: np.random.Generator, radius: float = 1.0) -> np.ndarray:
    """A point uniform on the sphere of the given radius in R^d."""
    if radius <= 0:
        raise ValueError(f"radius must be positive, got {radius}")
    g = rng.standard_normal(d)
    return radius * g / np.linalg.norm(g)


def check_memory(d: int, available_bytes: int | None = None) -> None:
    """Refuse a dimension whose working set would not fit in memory."""
    if available_bytes is None:
        available_bytes = _available_memory()
    need = BYTES_PER_COORDINATE * int(d)
    if need > available_bytes:
        raise MemoryError(
            f"d = {d} needs about {need / 2**30:.1f} GiB of working memory, "
            f"but only {available_bytes / 2**30:.1f} GiB is available"
        )


def _available_memory() -> int:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 2**62


def _check_d_a(d: int, a: float) -> None:
    if int(d) != d or d < 2:
        raise ValueError(f"d must be an integer >= 2, got {d}")
    if not np.isfinite(a) or a < 0:
        raise ValueError(f"a must be a finite number >= 0, got {a}")


def check_problem(lam, wstar, w0=None):
    """(lam, wstar, w0) as float arrays of one length, finite, lam >= 0; w0 is a fresh copy
    (None when only the problem (lam, wstar) is checked)."""
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    wstar = np.ascontiguousarray(wstar, dtype=np.float64)
    w = lam if w0 is None else np.array(w0, dtype=np.float64, copy=True)
    if not (lam.ndim == wstar.ndim == w.ndim == 1 and lam.shape == wstar.shape == w.shape):
        raise ValueError("lam, wstar and w0 must be 1-D arrays of one length")
    check_memory(lam.shape[0])
    for name, arr in (("lam", lam), ("wstar", wstar), ("w0", w)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} has non-finite entries")
    if np.any(lam < 0):
        raise ValueError("the spectrum lam must be non-negative")
    return lam, wstar, None if w0 is None else w
