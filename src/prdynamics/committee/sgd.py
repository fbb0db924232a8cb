"""Online SGD for a committee, several replicas (seeds) at once.

Per-sample loss (f_W(x) - y)^2 with y = (1/k) sum_m sigma(w*_m . x) + xi, xi ~ N(0, sigma2); its
gradient in w_j is 2 (f - y) (1/p) sigma'(w_j . x) x.  For x ~ N(0, Q) and xi independent its mean
is grad_W E (f - y)^2 = grad_W L (the noise term is constant), so online SGD with step eta follows
the population flow of committee.flow in SGD time t = steps * eta as eta -> 0.  Every step uses b
fresh samples and the mean of their gradients.  With p = k = 1 and sigma(z) = z^2 the gradient is
4 ((x.w)^2 - y) (x.w) x, the paper's (sgd.py).

Random streams.  Replica r (run seed seed_r) takes W* and W(0) from committee.population.problem
(the same as the committee flow of that seed) and its inputs x = sqrt(lam) z from
rng_for(base_seed, d, seed_r, SGD_STREAM), the label noise from a child spawned from it: the same
streams, drawn the same way, as sgd.run_sgd, so with p = k = 1 (quadratic) a committee run is the
paper's online SGD run of that seed, and runs that differ only in (p, k, activation, sigma2) share
their inputs (common random numbers).  Draws are split-invariant (numpy's standard normals), so
the numbers do not depend on the chunk size or on which replicas run together.

With rng "fused" the kernel draws replica r's inputs and label noise itself, one sample at a time,
from sgd.fused_streams(base_seed, d, seed_r): the streams of sgd.run_sgd's fused runs, so again
p = k = 1 (quadratic) is the paper's run of that seed, and again the numbers do not depend on chunks
or on the replicas run together.

Divergence: a replica whose state is not finite or whose max_j M_jj (the largest w_j^T Q w_j)
exceeds blowup is marked diverged at that step, frozen, and recorded as NaN from then on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numba import njit
from scipy.special import erf

from ..fused_rng import block_length, fill_normals, normal
from ..model import BYTES_PER_COORDINATE, FAST_REDUCTIONS, check_memory
from ..seeding import SGD_STREAM, rng_for
from ..sgd import CHUNK_VALUES, SGD_RNGS, accumulate, check_sgd_arguments, descend, fused_streams
from .population import (
    ACTIVATIONS,
    ERROR_METRICS,
    check_activation,
    error_from_overlaps,
    loss_from_overlaps,
    overlaps,
    problem,
)

ProgressFn = Callable[[float, int], None]


@njit(cache=True, inline="always")
def _act(z, act):
    if act == 0:
        return z * z
    if act == 1:
        return math.erf(z * (1.0 / math.sqrt(2.0)))
    return max(z, 0.0)


@njit(cache=True, inline="always")
def _act_prime(z, act):
    if act == 0:
        return 2.0 * z
    if act == 1:
        return math.sqrt(2.0 / math.pi) * math.exp(-0.5 * z * z)
    return 1.0 if z > 0.0 else 0.0


@njit(cache=True, nogil=True)
def _advance(W, sl, lam, V, Z, XI, n, eta, noise, blowup, act):
    """Apply the first n steps of a chunk to one replica's W (p x d), in place.

    Z (chunk, b, d) standard normals (x = sl * z), XI (chunk, b) standard normals for the label
    noise (scaled by noise = sqrt(sigma2)), V = sl * W* (k x d).  Returns -1, or the step (1-based
    within the chunk) after which some w_j^T Q w_j was not finite and <= blowup; W is then left as
    it was after that step.
    """
    p, d = W.shape
    k = V.shape[0]
    b = Z.shape[1]
    c = np.empty((b, p))
    pre = np.empty(p)
    eta_b = eta / b
    for step in range(n):
        for j in range(b):
            z = Z[step, j]
            f = 0.0
            for u in range(p):
                h = 0.0
                for i in range(d):
                    h += z[i] * (sl[i] * W[u, i])
                pre[u] = h
                f += _act(h, act)
            y = 0.0
            for m in range(k):
                q = 0.0
                for i in range(d):
                    q += z[i] * V[m, i]
                y += _act(q, act)
            e = f / p - (y / k + noise * XI[step, j])
            for u in range(p):
                c[j, u] = 2.0 * e * _act_prime(pre[u], act) / p
        bad = False
        for u in range(p):
            s = 0.0
            if b == 1:
                z = Z[step, 0]
                f = eta_b * c[0, u]
                for i in range(d):
                    wi = W[u, i] - f * (sl[i] * z[i])
                    W[u, i] = wi
                    s += lam[i] * wi * wi
            else:
                for i in range(d):
                    g = 0.0
                    for j in range(b):
                        g += c[j, u] * Z[step, j, i]
                    wi = W[u, i] - eta_b * (sl[i] * g)
                    W[u, i] = wi
                    s += lam[i] * wi * wi
            if not s <= blowup or s == math.inf:
                bad = True
        if bad:
            return step + 1
    return -1


@njit(cache=True, nogil=True, fastmath=FAST_REDUCTIONS)
def _projections(z, sl, W, V, pre, q):
    """pre[u] = sum_i z_i sl_i W[u, i] (the student's pre-activations), q[m] = sum_i z_i V[m, i]."""
    for u in range(W.shape[0]):
        h = 0.0
        for i in range(z.shape[0]):
            h += z[i] * (sl[i] * W[u, i])
        pre[u] = h
    for m in range(V.shape[0]):
        h = 0.0
        for i in range(z.shape[0]):
            h += z[i] * V[m, i]
        q[m] = h


@njit(cache=True, nogil=True)
def _advance_fused(W, sl, lam, V, S, SN, bits, z, G, n, batch, eta, noise, blowup, act):
    """_advance with the fused generator: each sample's inputs are drawn into z (length a multiple
    of the lanes; W, sl, lam, V zero-padded to it) from the stream state S, its label noise from
    SN.  With batch > 1 the gradient of row u accumulates in G[u], so memory stays O(p d) for any
    b.  Returns as _advance."""
    p, k = W.shape[0], V.shape[0]
    pre, q, c = np.empty(p), np.empty(k), np.empty(p)
    eta_b = eta / batch
    for step in range(n):
        if batch > 1:
            G[:] = 0.0
        for _ in range(batch):
            fill_normals(S, bits, z)
            _projections(z, sl, W, V, pre, q)
            f = 0.0
            for u in range(p):
                f += _act(pre[u], act)
            y = 0.0
            for m in range(k):
                y += _act(q[m], act)
            e = f / p - (y / k + (noise * normal(SN) if noise > 0.0 else 0.0))
            for u in range(p):
                c[u] = 2.0 * e * _act_prime(pre[u], act) / p
            if batch > 1:
                for u in range(p):
                    accumulate(G[u], c[u], z)
        bad = False
        for u in range(p):
            if batch == 1:
                s = descend(W[u], sl, lam, z, eta_b * c[u])
            else:
                s = descend(W[u], sl, lam, G[u], eta_b)
            if not s <= blowup or s == math.inf:
                bad = True
        if bad:
            return step + 1
    return -1


def committee_sgd_step_reference(W, lam, Wstar, z, xi, eta, sigma2, activation):
    """One SGD step in plain numpy (the slow baseline): W - eta * mean over the batch of gradients.

    z (b, d) standard normals (x = sqrt(lam) z), xi (b,) standard normals (noise sqrt(sigma2) xi).
    """
    check_activation(activation)
    x = np.sqrt(lam) * np.atleast_2d(z)
    p, k = W.shape[0], Wstar.shape[0]
    pre = x @ W.T
    if activation == "quadratic":
        f, y, dsig = (pre**2).sum(1) / p, ((x @ Wstar.T) ** 2).sum(1) / k, 2 * pre
    elif activation == "erf":
        f = erf(pre / math.sqrt(2)).sum(1) / p
        y = erf((x @ Wstar.T) / math.sqrt(2)).sum(1) / k
        dsig = math.sqrt(2 / math.pi) * np.exp(-0.5 * pre**2)
    else:
        f, y = np.maximum(pre, 0).sum(1) / p, np.maximum(x @ Wstar.T, 0).sum(1) / k
        dsig = (pre > 0).astype(float)
    e = f - (y + math.sqrt(sigma2) * np.atleast_1d(xi))
    grads = 2.0 * (e[:, None] * dsig)[:, :, None] * x[:, None, :] / p  # (b, p, d)
    return W - eta * grads.mean(axis=0)


@dataclass
class CommitteeSGDResult:
    """loss, error (R, T), M (R, T, p, p), R (R, T, p, k) per replica on the recorded times t
    (NaN once a replica diverged), the problems (lam, Wstar (R, k, d), W0 (R, p, d)), the final
    states and the divergence steps (-1 if never)."""

    t: np.ndarray
    loss: np.ndarray
    error: np.ndarray
    M: np.ndarray
    R: np.ndarray
    W_final: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray
    lam: np.ndarray
    Wstar: np.ndarray
    W0: np.ndarray
    info: dict = field(default_factory=dict)


def run_committee_sgd(
    a: float,
    d: int,
    p: int,
    k: int,
    activation: str,
    seeds,
    eta: float,
    batch: int,
    sigma2: float,
    t_eval: np.ndarray,
    *,
    base_seed: int,
    blowup: float,
    orthogonal_teacher: bool,
    rng: str,
    chunk_steps: int | None = None,
    progress: ProgressFn | None = None,
) -> CommitteeSGDResult:
    """Online SGD for every seed, recorded at the first step at or after each t_eval (t = steps eta).

    loss is the excess population risk of the state (committee.population, Gaussian inputs), error
    the metric ERROR_METRICS[activation].  rng (sgd.SGD_RNGS) picks the generator (module docstring).
    chunk_steps (default: about sgd.CHUNK_VALUES draws per replica with numpy, up to the next recorded
    time with the fused generator) changes the speed only.  progress(t, steps) is called after each
    recorded time.
    """
    check_activation(activation)
    if rng not in SGD_RNGS:
        raise ValueError(f"unknown rng {rng!r}; choose one of {', '.join(SGD_RNGS)}")
    if not (np.isfinite(sigma2) and sigma2 >= 0):
        raise ValueError(f"sigma2 must be finite and >= 0, got {sigma2}")
    seeds, eta, batch, noise, blowup, t_eval, d, steps = check_sgd_arguments(
        d, seeds, eta, batch, math.sqrt(sigma2), blowup, t_eval)
    fused = rng == "fused"
    if chunk_steps is None:
        chunk_steps = int(steps[-1]) if fused else max(1, CHUNK_VALUES // (batch * d))
    if int(chunk_steps) != chunk_steps or chunk_steps < 1:
        raise ValueError(f"chunk_steps must be an integer >= 1, got {chunk_steps}")
    chunk_steps = min(int(chunk_steps), int(steps[-1]))
    n_rep = seeds.size
    problems = [problem(a, d, p, k, int(sd), base_seed, orthogonal_teacher) for sd in seeds]
    p, k = problems[0][2].shape[0], problems[0][1].shape[0]
    per_coordinate = BYTES_PER_COORDINATE // 8
    m = block_length(d)  # fused: the padding has sl = lam = V = W = 0
    drawn = (2 + p) * m if fused else chunk_steps * batch * (d + 1)  # fused: bits, z, G per replica
    check_memory(-(-(d + n_rep * (3 * (p + k) * d + drawn)) // per_coordinate))
    lam = problems[0][0]
    WS = np.stack([q[1] for q in problems])
    W0 = np.stack([q[2] for q in problems])
    sl = np.sqrt(lam)
    W, V = W0.copy(), sl * WS
    act = ACTIVATIONS.index(activation)
    if fused:
        pad = ((0, 0), (0, 0), (0, m - d))
        W, V, sl, lamP = np.pad(W, pad), np.pad(V, pad), np.pad(sl, (0, m - d)), np.pad(lam, (0, m - d))
        S, SN = zip(*(fused_streams(base_seed, d, sd) for sd in seeds), strict=True)
        bits, zbuf, G = np.empty((n_rep, m), dtype=np.uint64), np.empty((n_rep, m)), np.empty((n_rep, p, m))
    else:
        z_rngs = [rng_for(base_seed, d, int(sd), SGD_STREAM) for sd in seeds]
        xi_rngs = [g.spawn(1)[0] for g in z_rngs]
        Z = np.empty((n_rep, chunk_steps, batch, d))
        XI = np.zeros((n_rep, chunk_steps, batch))

    def chunk(r: int, n: int) -> int:
        if fused:
            return _advance_fused(W[r], sl, lamP, V[r], S[r], SN[r], bits[r], zbuf[r], G[r], n, batch, eta,
                                  noise, blowup, act)
        z_rngs[r].standard_normal(out=Z[r, :n])
        if noise > 0:
            xi_rngs[r].standard_normal(out=XI[r, :n])
        return _advance(W[r], sl, lam, V[r], Z[r], XI[r], n, eta, noise, blowup, act)

    div_step = np.full(n_rep, -1, dtype=np.int64)
    T = len(steps)
    loss, error = np.full((n_rep, T), np.nan), np.full((n_rep, T), np.nan)
    Ms, Rs = np.full((n_rep, T, p, p), np.nan), np.full((n_rep, T, p, k), np.nan)
    done = 0
    for j, target_step in enumerate(steps):
        while done < target_step and np.any(div_step < 0):
            n = min(chunk_steps, int(target_step) - done)
            for r in np.flatnonzero(div_step < 0):
                bad = chunk(r, n)
                if bad >= 0:
                    div_step[r] = done + bad
            done += n
        done = int(target_step)
        for r in np.flatnonzero(div_step < 0):
            M, R, P = overlaps(W[r, :, :d], lam, WS[r])
            loss[r, j] = loss_from_overlaps(M, R, P, activation)
            error[r, j] = error_from_overlaps(M, R, P, activation)
            Ms[r, j], Rs[r, j] = M, R
        if progress is not None:
            progress(done * eta, done)
    W = np.ascontiguousarray(W[:, :, :d])
    return CommitteeSGDResult(
        t=steps * eta, loss=loss, error=error, M=Ms, R=Rs, W_final=W, diverged=div_step >= 0,
        diverged_step=div_step, lam=lam, Wstar=WS, W0=W0,
        info={"method": "sgd", "activation": activation, "rng": rng, "eta": eta, "batch": batch,
              "sigma2": float(sigma2), "blowup": blowup, "chunk_steps": chunk_steps,
              "n_steps": int(steps[-1]), "seeds": seeds.tolist(), "base_seed": int(base_seed),
              "orthogonal_teacher": bool(orthogonal_teacher), "error_metric": ERROR_METRICS[activation]},
    )
