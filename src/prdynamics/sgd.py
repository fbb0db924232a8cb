"""Online SGD on the phase-retrieval loss, several replicas at once.

Per-sample loss ((x.w)^2 - y)^2 with y = (x.w*)^2 + xi, xi ~ N(0, sigma^2), and
gradient 4 ((x.w)^2 - y) (x.w) x.  Every step uses b fresh samples and the mean
of their gradients; SGD time is t = steps * eta, the unit of the population flow.

Inputs are x = sqrt(lam) * z with i.i.d. standardised z (the Gaussian is the
paper's law; the others change only the higher moments).

Random streams.  Replica r (run seed seed_r) takes its target and start from
``seeding.problem`` -- the same (w*, w0) as the population flow of that seed --
and its inputs z from ``rng_for(base_seed, d, seed_r, SGD_STREAM)``.  The label
noise comes from a child stream spawned from that generator, so the z draws
are identical for every sigma (common random numbers) and the order of draws
does not depend on how steps are grouped into chunks.  Every sampler below is
split-invariant: drawing n + m steps at once gives the same numbers as n then
m.  Hence results are bit-identical for any chunk size and any set of
replicas run together.

With rng "fused" (Gaussian inputs only) the kernel draws its own inputs and label noise from
``fused_rng`` streams instead (see run_sgd); the properties above hold the same way.

Speed.  A chunk of steps is drawn with numpy per replica into preallocated
buffers, then one numba kernel applies the whole chunk: per sample one fused
pass for (x.w, x.w*), then one pass that updates w and accumulates
s = w^T Q w, which is checked against the blow-up bound at every step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from .flow import STAT_NAMES, check_times, trajectory_statistics
from .fused_rng import LANES, block_length, fill_normals, normal, stream_state
from .gd import gd_record_steps
from .model import BYTES_PER_COORDINATE, FAST_REDUCTIONS, check_memory, spectrum
from .seeding import FUSED_STREAM, SGD_STREAM, problem, rng_for

#: Generators of the Gaussian inputs and label noise: numpy's (drawn per chunk, the original
#: streams) or the fused xoshiro256++ ziggurat drawn inside the kernel (Gaussian inputs only).
SGD_RNGS = ("numpy", "fused")

#: Input laws of the standardised coordinates z (mean 0, variance 1).
INPUT_LAWS = ("gaussian", "rademacher", "uniform", "student_t", "sparse")

#: Target size, in float64 values per replica, of one chunk of drawn inputs
#: (about 1 MiB: large enough to amortise the Python overhead per chunk, small
#: enough that the kernel reads the draws back from cache).
CHUNK_VALUES = 2**17

ProgressFn = Callable[[float, int], None]

#: The population loss of a Gaussian input; run_sgd adds the fourth-cumulant term for other laws.
LOSS_FORMULA = "Gaussian population loss 3 s^2 + 3 s*^2 - 4 u^2 - 2 s* s"
_LOSS_ROW = STAT_NAMES.index("loss")


# --------------------------------------------------------------------------- input laws


def check_law(law: str, param: float | None = None) -> float | None:
    """Validate an input law and return its parameter (student_t's nu and sparse's p must be given)."""
    if law not in INPUT_LAWS:
        raise ValueError(f"unknown input law {law!r}; choose one of {', '.join(INPUT_LAWS)}")
    if law in ("gaussian", "rademacher", "uniform"):
        if param is not None:
            raise ValueError(f"input law {law!r} takes no parameter, got {param}")
        return None
    if param is None:
        raise ValueError(f"input law {law!r} needs its parameter (student_t: nu, sparse: p)")
    if law == "student_t":
        if param is None or not (math.isfinite(param) and param > 4):
            raise ValueError(f"student_t needs its degrees of freedom nu > 4 (finite E z^4), got {param}")
    elif law == "sparse":
        if not (0 < param <= 1):
            raise ValueError(f"sparse needs a Bernoulli probability 0 < p <= 1, got {param}")
    return float(param)


def fourth_moment(law: str, param: float | None = None) -> float:
    """E z^4 of the standardised law (3 for the Gaussian; the variance is 1 for all)."""
    param = check_law(law, param)
    if law == "gaussian":
        return 3.0
    if law == "rademacher":
        return 1.0
    if law == "uniform":
        return 9.0 / 5.0
    if law == "student_t":
        return 3.0 * (param - 2.0) / (param - 4.0)
    return 3.0 / param  # sparse


def draw_standardised(
    rng: np.random.Generator,
    law: str,
    shape: tuple[int, ...],
    param: float | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """I.i.d. standardised draws of one law, filled in C order.

    Values are generated one after another from the stream, each from its own
    draws (no buffered state across calls), so drawing shape (n + m, ...)
    equals drawing (n, ...) then (m, ...).

    gaussian   N(0, 1)
    rademacher +-1 with probability 1/2 (sign of a uniform)
    uniform    uniform on [-sqrt 3, sqrt 3]
    student_t  t_nu * sqrt((nu - 2) / nu), nu = param > 4
    sparse     g * B / sqrt(p), g ~ N(0, 1), B = 1{g' < Phi^-1(p)} with a second normal g'
    """
    param = check_law(law, param)
    shape = tuple(int(n) for n in shape)
    if out is None:
        out = np.empty(shape, dtype=np.float64)
    elif out.shape != shape or out.dtype != np.float64 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float64 array of shape {shape}")
    if law == "gaussian":
        rng.standard_normal(out=out)
    elif law == "rademacher":
        rng.random(out=out)
        np.copysign(1.0, out - 0.5, out=out)
    elif law == "uniform":
        rng.random(out=out)
        out -= 0.5
        out *= 2.0 * math.sqrt(3.0)
    elif law == "student_t":
        out[...] = rng.standard_t(param, size=shape)
        out *= math.sqrt((param - 2.0) / param)
    else:  # sparse: pairs (g, g') per value, so the stream stays split-invariant
        from scipy.special import ndtri  # here only: scipy.special costs ~0.1 s of every run's start-up

        pair = rng.standard_normal(size=(*shape, 2))
        keep = pair[..., 1] < ndtri(param)
        np.multiply(pair[..., 0], keep / math.sqrt(param), out=out)
    return out


# --------------------------------------------------------------------------- kernels


@njit(cache=True, nogil=True)
def _advance(w, sl, lam, v, Z, XI, n, eta, sigma, blowup):
    """Apply the first n steps of a chunk to one replica's state w, in place.

    Z (chunk, b, d) standardised inputs, XI (chunk, b) standard normals for the
    label noise, v = sqrt(lam) * w*.  Returns -1, or the step k (1-based within
    the chunk) after which s = w^T Q w was not finite and <= blowup; w is then
    left as it was after that step.  With blowup = inf only non-finite states count.
    """
    d = w.shape[0]
    b = Z.shape[1]
    c = np.empty(b)
    eta_b = eta / b
    for k in range(n):
        for j in range(b):
            z = Z[k, j]
            p = 0.0
            q = 0.0
            for i in range(d):
                p += z[i] * (sl[i] * w[i])
                q += z[i] * v[i]
            y = q * q + sigma * XI[k, j]
            c[j] = 4.0 * (p * p - y) * p
        s = 0.0
        if b == 1:
            z = Z[k, 0]
            f = eta_b * c[0]
            for i in range(d):
                wi = w[i] - f * (sl[i] * z[i])
                w[i] = wi
                s += lam[i] * wi * wi
        else:
            for i in range(d):
                g = 0.0
                for j in range(b):
                    g += c[j] * Z[k, j, i]
                wi = w[i] - eta_b * (sl[i] * g)
                w[i] = wi
                s += lam[i] * wi * wi
        if not s <= blowup or s == math.inf:  # NaN or inf: w is not finite (lam > 0)
            return k + 1
    return -1


@njit(cache=True, nogil=True, fastmath=FAST_REDUCTIONS)
def _dots(z, sl, w, v):
    """(sum z (sl w), sum z v)."""
    p = 0.0
    q = 0.0
    for i in range(z.shape[0]):
        p += z[i] * (sl[i] * w[i])
        q += z[i] * v[i]
    return p, q


@njit(cache=True, nogil=True, fastmath=FAST_REDUCTIONS)
def descend(w, sl, lam, z, f):
    """w -= f sl z in place; returns s = sum lam w^2 (the SGD kernels' step, single neuron and committee)."""
    s = 0.0
    for i in range(w.shape[0]):
        wi = w[i] - f * (sl[i] * z[i])
        w[i] = wi
        s += lam[i] * wi * wi
    return s


@njit(cache=True, nogil=True, fastmath=FAST_REDUCTIONS)
def accumulate(g, c, z):
    """g += c z in place (a batch's gradient, one sample at a time)."""
    for i in range(g.shape[0]):
        g[i] += c * z[i]


@njit(cache=True, nogil=True)
def _advance_fused(w, sl, lam, v, S, SN, bits, z, g, n, batch, eta, sigma, blowup, draw):
    """_advance with the fused generator: each sample's inputs are drawn into z (length a
    multiple of 8; w, sl, lam, v zero-padded to it) from the stream state S, its label noise
    from SN.  With batch > 1 the gradient accumulates in g, so memory stays O(d) for any b.
    draw=False reuses z as given (the compute bound of the benchmarks).  Returns as _advance."""
    eta_b = eta / batch
    for k in range(n):
        if batch == 1:
            if draw:
                fill_normals(S, bits, z)
            p, q = _dots(z, sl, w, v)
            y = q * q + (sigma * normal(SN) if sigma > 0.0 else 0.0)
            s = descend(w, sl, lam, z, eta_b * (4.0 * (p * p - y) * p))
        else:
            g[:] = 0.0
            for _ in range(batch):
                if draw:
                    fill_normals(S, bits, z)
                p, q = _dots(z, sl, w, v)
                y = q * q + (sigma * normal(SN) if sigma > 0.0 else 0.0)
                c = 4.0 * (p * p - y) * p
                accumulate(g, c, z)
            s = descend(w, sl, lam, g, eta_b)
        if not s <= blowup or s == math.inf:
            return k + 1
    return -1


def sgd_steps(
    w: np.ndarray,
    lam: np.ndarray,
    wstar: np.ndarray,
    z: np.ndarray,
    xi: np.ndarray,
    eta: float,
    sigma: float,
    blowup: float,
) -> tuple[np.ndarray, int]:
    """Fast kernel on given draws for one replica: (w after the steps, divergence step or -1).

    z has shape (n, b, d) (standardised inputs) and xi shape (n, b) (standard
    normals, scaled by sigma inside).  It is what run_sgd applies to a chunk,
    exposed to compare with sgd_step_reference on identical draws.
    """
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    z = np.ascontiguousarray(z, dtype=np.float64)
    xi = np.ascontiguousarray(xi, dtype=np.float64)
    w = np.array(w, dtype=np.float64, copy=True)
    wstar = np.asarray(wstar, dtype=np.float64)
    if lam.ndim != 1 or w.shape != lam.shape or wstar.shape != lam.shape:
        raise ValueError("lam, w and wstar must be 1-D arrays of one length")
    if z.ndim != 3 or z.shape[2] != lam.shape[0] or xi.shape != z.shape[:2]:
        raise ValueError(f"need z of shape (n, b, {lam.shape[0]}) and xi of shape (n, b), "
                         f"got {z.shape} and {xi.shape}")
    sl = np.sqrt(lam)
    v = sl * wstar
    k = _advance(w, sl, lam, v, z, xi, z.shape[0], float(eta), float(sigma), float(blowup))
    return w, int(k)


def sgd_step_reference(
    w: np.ndarray, lam: np.ndarray, wstar: np.ndarray, z: np.ndarray, xi: np.ndarray,
    eta: float, sigma: float,
) -> np.ndarray:
    """One SGD step in plain numpy (the slow baseline): w - eta * mean_j grad_j.

    z (b, d) standardised inputs, xi (b,) standard normals.  Agrees with the
    kernel to rounding (only the order of the sums differs).
    """
    x = np.sqrt(lam) * np.atleast_2d(z)
    p = x @ w
    y = (x @ wstar) ** 2 + sigma * np.atleast_1d(xi)
    grads = 4.0 * ((p * p - y) * p)[:, None] * x
    return w - eta * grads.mean(axis=0)


# --------------------------------------------------------------------------- driver


@dataclass
class SGDResult:
    """Statistics (R, T) per replica on the recorded times t (NaN once a replica diverged).

    diverged_step is the step after which the bound was crossed (-1 if never);
    w_final is the state at the end, or at that step for a diverged replica.
    lam, wstar (R, d) and w0 (R, d) are the problems the replicas solved.
    """

    t: np.ndarray
    stats: dict[str, np.ndarray]
    w_final: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray
    lam: np.ndarray
    wstar: np.ndarray
    w0: np.ndarray
    info: dict = field(default_factory=dict)


def fused_streams(base_seed: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The fused generator's states for run seed (every SGD driver's): its inputs from
    (base_seed, d, seed, FUSED_STREAM, 0), its label noise from (..., FUSED_STREAM, 1), one lane."""
    return (stream_state(base_seed, d, int(seed), FUSED_STREAM, 0),
            stream_state(base_seed, d, int(seed), FUSED_STREAM, 1, lanes=1))


def check_sgd_arguments(d, seeds, eta, batch, sigma, blowup, t_eval):
    """Validate the arguments every SGD backend shares; returns them normalised, with the
    recorded steps: (seeds, eta, batch, sigma, blowup, t_eval, d, steps)."""
    seeds = np.atleast_1d(np.asarray(seeds))
    if seeds.ndim != 1 or seeds.size == 0 or not np.issubdtype(seeds.dtype, np.integer):
        raise ValueError(f"seeds must be a non-empty 1-D sequence of integers, got {seeds!r}")
    if np.any(seeds < 0):
        raise ValueError(f"seeds must be non-negative, got {seeds.tolist()}")
    seeds = seeds.astype(np.int64)
    if not (np.isfinite(eta) and eta > 0):
        raise ValueError(f"eta must be positive and finite, got {eta}")
    if int(batch) != batch or batch < 1:
        raise ValueError(f"batch must be an integer >= 1, got {batch}")
    batch = int(batch)
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be finite and >= 0, got {sigma}")
    if not blowup > 0:
        raise ValueError(f"blowup must be positive, got {blowup}")
    t_eval = check_times(t_eval)
    if int(d) != d or d < 2:
        raise ValueError(f"d must be an integer >= 2, got {d}")
    d = int(d)
    steps = gd_record_steps(t_eval, eta)
    return seeds, float(eta), batch, float(sigma), float(blowup), t_eval, d, steps


def run_sgd(
    a: float,
    d: int,
    seeds,
    eta: float,
    batch: int,
    sigma: float,
    t_eval: np.ndarray,
    *,
    base_seed: int,
    blowup: float,
    rng: str,
    input_law: str = "gaussian",
    law_param: float | None = None,
    chunk_steps: int | None = None,
    progress: ProgressFn | None = None,
    workers: int = 1,
) -> SGDResult:
    """Online SGD for every seed in seeds, recorded at the first step at or after each t_eval.

    Recorded times are t = steps * eta (unique steps, so fewer than t_eval if
    eta is coarse).  ``loss`` is the exact population loss of the run's input
    law: the Gaussian 3 s^2 + 3 s*^2 - 4 u^2 - 2 s* s plus, for another law,
    kappa sum_i lam_i^2 (w_i^2 - w*_i^2)^2 with kappa = E z^4 - 3 (the product-
    measure loss of ``studies.inputs.loss_product``); the Gaussian numbers are
    those of the Gaussian formula alone, unchanged.
    A replica whose state becomes non-finite or whose s exceeds blowup is
    marked diverged at that step, frozen, and recorded as NaN from then on.
    chunk_steps (default: about CHUNK_VALUES draws per replica) and workers
    (threads, each drawing and stepping whole replicas) change the speed only,
    never the numbers.  progress(t, steps) is called after each recorded time.

    rng "numpy" draws as the module docstring says; rng "fused" (Gaussian inputs only) draws
    replica r's inputs inside the kernel from fused_rng.stream_state(base_seed, d, seed_r,
    FUSED_STREAM, 0) and its label noise from (..., FUSED_STREAM, 1): other numbers of the same
    law, again independent of chunks, workers and the replicas run together.  Its chunk is up
    to the next recorded time (it holds no drawn inputs).
    """
    if int(workers) != workers or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers}")
    if rng not in SGD_RNGS:
        raise ValueError(f"unknown rng {rng!r}; choose one of {', '.join(SGD_RNGS)}")
    law_param = check_law(input_law, law_param)
    if rng == "fused" and input_law != "gaussian":
        raise ValueError(f"rng 'fused' draws Gaussian inputs only, got input law {input_law!r}")
    seeds, eta, batch, sigma, blowup, t_eval, d, steps = check_sgd_arguments(
        d, seeds, eta, batch, sigma, blowup, t_eval)
    fused = rng == "fused"
    if chunk_steps is None:
        chunk_steps = int(steps[-1]) if fused else max(1, CHUNK_VALUES // (batch * d))
    if int(chunk_steps) != chunk_steps or chunk_steps < 1:
        raise ValueError(f"chunk_steps must be an integer >= 1, got {chunk_steps}")

    chunk_steps = min(int(chunk_steps), int(steps[-1]))
    R = seeds.size
    # float64 working set, checked before anything of size d is allocated:
    # lam, W, W0, WS, V (R, d), Z (R, chunk, b, d), XI (R, chunk, b)
    per_coordinate = BYTES_PER_COORDINATE // 8  # float64 values check_memory counts per coordinate
    drawn = 3 * (d + LANES) if fused else chunk_steps * batch * (d + 1)  # fused: bits, z, g per replica
    check_memory(-(-(d + R * (4 * d + drawn)) // per_coordinate))
    lam = spectrum(d, a)  # also validates a
    problems = [problem(a, d, int(sd), base_seed) for sd in seeds]
    WS = np.stack([p[1] for p in problems])
    W0 = np.stack([p[2] for p in problems])
    W = W0.copy()
    sl = np.sqrt(lam)
    V = sl * WS
    sstar = np.sum(lam * WS * WS, axis=1)
    if fused:
        m = block_length(d)  # the padding has sl = lam = v = w = 0
        pad = ((0, 0), (0, m - d))
        slP, lamP = np.pad(sl, (0, m - d)), np.pad(lam, (0, m - d))
        VP, WP = np.pad(V, pad), np.pad(W, pad)
        S, SN = zip(*(fused_streams(base_seed, d, sd) for sd in seeds), strict=True)
        bits = np.empty((R, m), dtype=np.uint64)
        zbuf, gbuf = np.empty((R, m)), np.empty((R, m))
    else:
        z_rngs = [rng_for(base_seed, d, int(sd), SGD_STREAM) for sd in seeds]
        xi_rngs = [g.spawn(1)[0] for g in z_rngs]
        Z = np.empty((R, chunk_steps, batch, d))
        XI = np.zeros((R, chunk_steps, batch))
    div_step = np.full(R, -1, dtype=np.int64)
    stats = np.full((len(STAT_NAMES), R, len(steps)), np.nan)
    kappa = fourth_moment(input_law, law_param) - 3.0

    def chunk_fused(r: int, n: int, done: int) -> None:
        bad = _advance_fused(WP[r], slP, lamP, VP[r], S[r], SN[r], bits[r], zbuf[r], gbuf[r], n, batch,
                             eta, sigma, blowup, True)
        W[r] = WP[r, :d]
        if bad >= 0:
            div_step[r] = done + bad

    def chunk_numpy(r: int, n: int, done: int) -> None:
        draw_standardised(z_rngs[r], input_law, (n, batch, d), law_param, out=Z[r, :n])
        if sigma > 0:
            xi_rngs[r].standard_normal(out=XI[r, :n])
        bad = _advance(W[r], sl, lam, V[r], Z[r], XI[r], n, eta, sigma, blowup)
        if bad >= 0:
            div_step[r] = done + bad

    chunk = chunk_fused if fused else chunk_numpy
    pool = ThreadPoolExecutor(min(int(workers), R)) if workers > 1 and R > 1 else None
    try:
        done = 0
        for k, target_step in enumerate(steps):
            while done < target_step and np.any(div_step < 0):
                n = min(chunk_steps, int(target_step) - done)
                active = np.flatnonzero(div_step < 0)
                if pool is None:
                    for r in active:
                        chunk(r, n, done)
                else:
                    for fut in [pool.submit(chunk, r, n, done) for r in active]:
                        fut.result()
                done += n
            done = int(target_step)
            for r in np.flatnonzero(div_step < 0):
                stats[:, r, k] = trajectory_statistics(lam, WS[r], W[r], sstar[r])
                if kappa != 0.0:  # the fourth-cumulant term of a non-Gaussian law
                    excess = lam * (W[r] * W[r] - WS[r] * WS[r])
                    stats[_LOSS_ROW, r, k] += kappa * float(excess @ excess)
            if progress is not None:
                progress(done * eta, done)
    finally:
        if pool is not None:
            pool.shutdown()

    return SGDResult(
        t=steps * eta,
        stats={name: stats[j] for j, name in enumerate(STAT_NAMES)},
        w_final=W,
        diverged=div_step >= 0,
        diverged_step=div_step,
        lam=lam,
        wstar=WS,
        w0=W0,
        info={
            "method": "sgd", "eta": eta, "batch": batch, "sigma": sigma,
            "input_law": input_law, "law_param": law_param, "rng": rng,
            "fourth_moment": fourth_moment(input_law, law_param),
            "blowup": blowup, "chunk_steps": chunk_steps, "n_steps": int(steps[-1]),
            "seeds": seeds.tolist(), "base_seed": int(base_seed),
            "loss_formula": LOSS_FORMULA if kappa == 0.0 else f"{LOSS_FORMULA} + kappa sum_i lam_i^2 "
            f"(w_i^2 - w*_i^2)^2, kappa = {kappa:g} (exact for the {input_law} law)",
        },
    )
