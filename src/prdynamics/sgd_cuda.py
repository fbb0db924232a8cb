"""Online SGD on a CUDA GPU, many replicas at once: the optional backend (`sgd_backend: cuda`).

The CPU kernel of ``prdynamics.sgd`` stays the default and the reference. This backend is
written with numba.cuda because the CPU kernels are numba already, because numba's CUDA
simulator (NUMBA_ENABLE_CUDASIM=1) runs the same kernel on a CPU, so the tests check it
without a GPU, and because its xoroshiro128p generators let each thread draw its inputs
itself: the samples x never go to memory.

Layout.  Thread block r holds replica r.  Thread k owns the coordinates i = k + e * TPB
(e < MAX_PER_THREAD) and keeps w_i, lam_i, sqrt(lam_i) and sqrt(lam_i) w*_i in registers for
the whole launch.  Per sample every thread draws its z_i, forms its parts of x.w and x.w*, the
block adds them up in shared memory, thread 0 forms c = 4 ((x.w)^2 - y) (x.w), and each thread
adds c z_i to its part of the gradient; after b samples each thread updates its w_i, and a
second sum gives s = w^T Q w for the blow-up check of every step.

Random streams.  Replica r (run seed seed_r) owns TPB + 1 xoroshiro128p states, drawn from
SeedSequence([base_seed, d, seed_r, CUDA_STREAM]) (as ``seeding.rng_for``): state k feeds thread k's
inputs, in the order (step, sample, e), and state TPB the label noise.  The numbers therefore
depend on (base_seed, d, seed) only, never on the other replicas of a launch, but they are
not those of the CPU path, whose inputs come from numpy's generator.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
from numba import cuda, float64
from numba.cuda.random import xoroshiro128p_dtype, xoroshiro128p_normal_float64

from .flow import STAT_NAMES, trajectory_statistics
from .seeding import CUDA_STREAM, problem
from .sgd import LOSS_FORMULA, SGDResult, check_sgd_arguments

#: Coordinates per thread kept in registers; the block size grows with d to keep it so.
MAX_PER_THREAD = 8
MAX_THREADS = 1024
MAX_D = MAX_PER_THREAD * MAX_THREADS

ProgressFn = Callable[[float, int], None]


def threads_per_block(d: int) -> int:
    """The block size for dimension d: a power of two from 32 to 1024 (fixed by d alone)."""
    if not 2 <= d <= MAX_D:
        raise ValueError(f"the cuda backend handles 2 <= d <= {MAX_D}, got d = {d}; use the cpu backend")
    tpb = 32
    while tpb * MAX_PER_THREAD < d:
        tpb *= 2
    return tpb


def replica_states(seeds, d: int, base_seed: int = 0) -> np.ndarray:
    """The host xoroshiro128p states of the replicas: (len(seeds) * (TPB + 1),), replica-major.

    Each state is two words of SeedSequence([base_seed, d, seed, CUDA_STREAM]) output: well
    mixed and never all zero, so every thread has its own stream of period 2^128 - 1."""
    n = threads_per_block(d) + 1
    states = np.empty(len(seeds) * n, dtype=xoroshiro128p_dtype)
    for r, seed in enumerate(seeds):
        if int(seed) < 0 or int(base_seed) < 0:
            raise ValueError(f"seeds must be non-negative, got {seed} and base seed {base_seed}")
        words = np.random.SeedSequence([int(base_seed), d, int(seed), CUDA_STREAM]).generate_state(
            2 * n, dtype=np.uint64)
        states["s0"][r * n:(r + 1) * n] = words[0::2]
        states["s1"][r * n:(r + 1) * n] = words[1::2] | np.uint64(1)  # never the all-zero state
    return states


def replay_draws(states: np.ndarray, replica: int, d: int, n_steps: int, batch: int, sigma: float):
    """The inputs z (n_steps, batch, d) and noise xi (n_steps, batch) a launch draws for one
    replica, regenerated on the host from a copy of its states (advanced in place, as the
    kernel would). It lets the tests compare the kernel with ``sgd.sgd_steps`` on the same draws."""
    tpb = threads_per_block(d)
    base = replica * (tpb + 1)
    z = np.zeros((n_steps, batch, d))
    xi = np.zeros((n_steps, batch))
    for k in range(n_steps):
        for j in range(batch):
            for t in range(tpb):
                for e in range(MAX_PER_THREAD):
                    i = t + e * tpb
                    if i < d:
                        z[k, j, i] = xoroshiro128p_normal_float64(states, base + t)
            if sigma > 0:
                xi[k, j] = xoroshiro128p_normal_float64(states, base + tpb)
    return z, xi


def _require_device() -> None:
    if not cuda.is_available():
        raise RuntimeError("no CUDA device (numba.cuda.is_available() is False); use the cpu backend")


@functools.cache
def _kernel(tpb: int):
    """The SGD kernel for one block size (shared and register arrays need it at compile time)."""
    per = MAX_PER_THREAD

    @cuda.jit(device=True)
    def block_sum(red, k, v0, v1):
        """Sum v0 and v1 over the block (every thread returns both totals)."""
        red[0, k] = v0
        red[1, k] = v1
        cuda.syncthreads()
        stride = tpb // 2
        while stride > 0:
            if k < stride:
                red[0, k] += red[0, k + stride]
                red[1, k] += red[1, k + stride]
            cuda.syncthreads()
            stride //= 2
        total0 = red[0, 0]
        total1 = red[1, 0]
        cuda.syncthreads()  # every thread has read the totals before red is written again
        return total0, total1

    @cuda.jit
    def advance(W, lam, V, states, n_steps, eta, sigma, blowup, batch, diverged):
        """Apply n_steps SGD steps to every replica whose diverged[r] < 0, in place.

        diverged[r] becomes the step (1-based within the launch) after which s was not finite
        or exceeded blowup; W[r] is then the state after that step."""
        r = cuda.blockIdx.x
        k = cuda.threadIdx.x
        if diverged[r] >= 0:
            return  # the whole block leaves together
        d = lam.shape[0]
        red = cuda.shared.array((2, tpb), float64)
        shared_c = cuda.shared.array(1, float64)
        w = cuda.local.array(per, float64)
        la = cuda.local.array(per, float64)
        sl = cuda.local.array(per, float64)
        v = cuda.local.array(per, float64)
        z = cuda.local.array(per, float64)
        g = cuda.local.array(per, float64)
        for e in range(per):
            i = k + e * tpb
            if i < d:
                w[e] = W[r, i]
                la[e] = lam[i]
                sl[e] = math.sqrt(lam[i])
                v[e] = V[r, i]
            else:
                w[e] = 0.0
                la[e] = 0.0
                sl[e] = 0.0
                v[e] = 0.0
        own = r * (tpb + 1) + k
        noise = r * (tpb + 1) + tpb
        eta_b = eta / batch
        for step in range(n_steps):
            for e in range(per):
                g[e] = 0.0
            for _ in range(batch):
                p = 0.0
                q = 0.0
                for e in range(per):
                    ze = 0.0
                    if k + e * tpb < d:
                        ze = xoroshiro128p_normal_float64(states, own)
                    z[e] = ze
                    p += ze * (sl[e] * w[e])
                    q += ze * v[e]
                p, q = block_sum(red, k, p, q)
                if k == 0:
                    xi = 0.0
                    if sigma > 0:
                        xi = xoroshiro128p_normal_float64(states, noise)
                    y = q * q + sigma * xi
                    shared_c[0] = 4.0 * (p * p - y) * p
                cuda.syncthreads()
                c = shared_c[0]  # thread 0 writes it again only after the next block_sum's barriers
                for e in range(per):
                    g[e] += c * z[e]
            s = 0.0
            for e in range(per):
                wi = w[e] - eta_b * (sl[e] * g[e])
                w[e] = wi
                s += la[e] * wi * wi
            s, _ = block_sum(red, k, s, 0.0)
            if not s <= blowup or s == math.inf:  # the same total in every thread: all stop
                if k == 0:
                    diverged[r] = step + 1
                break
        for e in range(per):
            i = k + e * tpb
            if i < d:
                W[r, i] = w[e]

    return advance


def sgd_steps_cuda(w, lam, wstar, states, replica, n_steps, eta, sigma, batch=1, blowup=np.inf):
    """One launch for one replica from w with the given states (advanced in place):
    (w after the steps, divergence step or -1). The kernel of run_sgd_cuda, exposed for tests."""
    _require_device()
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    d = lam.shape[0]
    tpb = threads_per_block(d)
    W = np.array(np.atleast_2d(w), dtype=np.float64)
    V = np.atleast_2d(np.sqrt(lam) * np.asarray(wstar, dtype=np.float64))
    n = tpb + 1
    block = states[replica * n:(replica + 1) * n]
    d_states = cuda.to_device(block)
    diverged = np.full(1, -1, dtype=np.int64)
    d_W, d_div = cuda.to_device(W), cuda.to_device(diverged)
    _kernel(tpb)[1, tpb](d_W, cuda.to_device(lam), cuda.to_device(V), d_states, int(n_steps),
                         float(eta), float(sigma), float(blowup), int(batch), d_div)
    block[:] = d_states.copy_to_host()
    return d_W.copy_to_host()[0], int(d_div.copy_to_host()[0])


def run_sgd_cuda(
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
    input_law: str = "gaussian",
    progress: ProgressFn | None = None,
) -> SGDResult:
    """``sgd.run_sgd`` on the GPU (Gaussian inputs): the same recording, divergence rule and
    result, with inputs from the device generators (see the module text)."""
    if input_law != "gaussian":
        raise ValueError(f"the cuda backend draws Gaussian inputs only, got {input_law!r}; "
                         "use the cpu backend")
    _require_device()
    seeds, eta, batch, sigma, blowup, t_eval, d, steps = check_sgd_arguments(
        d, seeds, eta, batch, sigma, blowup, t_eval)
    tpb = threads_per_block(d)
    problems = [problem(a, d, int(sd), base_seed) for sd in seeds]
    lam = problems[0][0]
    WS = np.stack([p[1] for p in problems])
    W0 = np.stack([p[2] for p in problems])
    sstar = np.sum(lam * WS * WS, axis=1)
    R = seeds.size
    d_W = cuda.to_device(W0)
    d_lam, d_V = cuda.to_device(lam), cuda.to_device(np.sqrt(lam) * WS)
    d_states = cuda.to_device(replica_states(seeds, d, base_seed))
    d_div = cuda.to_device(np.full(R, -1, dtype=np.int64))
    div_step = np.full(R, -1, dtype=np.int64)
    stats = np.full((len(STAT_NAMES), R, len(steps)), np.nan)
    kernel = _kernel(tpb)
    done = 0
    for k, target_step in enumerate(steps):
        n = int(target_step) - done
        if n > 0 and np.any(div_step < 0):
            kernel[R, tpb](d_W, d_lam, d_V, d_states, n, eta, sigma, blowup, batch, d_div)
            launch_div = d_div.copy_to_host()
            new = (launch_div >= 0) & (div_step < 0)
            div_step[new] = done + launch_div[new]
        done = int(target_step)
        W = d_W.copy_to_host()
        for r in np.flatnonzero(div_step < 0):
            stats[:, r, k] = trajectory_statistics(lam, WS[r], W[r], sstar[r])
        if progress is not None:
            progress(done * eta, done)
    return SGDResult(
        t=steps * eta,
        stats={name: stats[j] for j, name in enumerate(STAT_NAMES)},
        w_final=W,  # the state after the last recorded step (steps is never empty)
        diverged=div_step >= 0,
        diverged_step=div_step,
        lam=lam,
        wstar=WS,
        w0=W0,
        info={
            "method": "sgd", "backend": "cuda", "eta": eta, "batch": batch, "sigma": sigma,
            "input_law": "gaussian", "law_param": None, "fourth_moment": 3.0,
            "blowup": blowup, "threads_per_block": tpb, "n_steps": int(steps[-1]),
            "seeds": seeds.tolist(), "base_seed": int(base_seed), "loss_formula": LOSS_FORMULA,
        },
    )
