"""A small-state generator for the SGD kernel: xoshiro256++ lanes and a 256-layer ziggurat.

Streams.  A stream is LANES independent xoshiro256++ generators (4 x uint64 each, filled
from ``SeedSequence([base_seed, *coordinates]).generate_state``), so it depends only on its
coordinates, never on threads or on how draws are grouped.  A block of normals has a length
that is a multiple of LANES; value i comes from lane i % LANES.  Each block is made in three
passes over a buffer that stays in L1: one uint64 per value, lane by lane; the ziggurat's
fast path on every value (vectorised, about 99% accepted); then, value by value, the exact
slow path (wedge test or the Marsaglia tail beyond R) for the rejected ones, each from the
lane of its value, with fresh bits.  Every value is then exactly the ziggurat's normal
(i.i.d. bits, disjoint between values), and a stream is a fixed function of its block
lengths: drawing blocks one by one or in any chunks gives the same numbers.

Bits of one uint64: 0-7 the layer, 8 the sign, 12-63 the 52-bit magnitude.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Lanes of one stream: one AVX-512 vector of uint64; block lengths are multiples of it.
LANES = 8

#: The ziggurat: 256 layers of area V each, base strip beyond R (Marsaglia & Tsang 2000,
#: the constants of numpy's 256-layer normal ziggurat).
LAYERS = 256
R = 3.6541528853610088
V = 0.00492867323399


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(XW, XK, XF): layer i's right edge x_i, the fraction x_{i-1} / x_i inside the layer
    below the curve, and f(x_i) = exp(-x_i^2 / 2); the base strip has XW[0] = V / f(R)."""
    f = lambda x: math.exp(-0.5 * x * x)  # noqa: E731
    xw, xk, xf = np.zeros(LAYERS), np.zeros(LAYERS), np.zeros(LAYERS)
    q = V / f(R)
    xk[0], xw[0], xw[-1] = R / q, q, R
    xf[0], xf[-1] = 1.0, f(R)
    dn = tn = R
    for i in range(LAYERS - 2, 0, -1):
        dn = math.sqrt(-2.0 * math.log(V / dn + f(dn)))
        xk[i + 1] = dn / tn
        tn = dn
        xf[i] = f(dn)
        xw[i] = dn
    return xw, xk, xf


XW, XK, XF = _tables()
_TWO_M52 = 2.0**-52
_TWO_M53 = 2.0**-53


def block_length(d: int) -> int:
    """d rounded up to whole lanes: the length of one sample's block of normals (kernels pad to it)."""
    return -(-int(d) // LANES) * LANES


def stream_state(base_seed: int, *coordinates: int, lanes: int = LANES) -> np.ndarray:
    """The (4, lanes) uint64 state of the stream named by (base_seed, *coordinates)."""
    entropy = [int(base_seed), *(int(c) for c in coordinates)]
    if any(c < 0 for c in entropy):
        raise ValueError(f"seeds and coordinates must be non-negative, got {entropy}")
    state = np.random.SeedSequence(entropy).generate_state(4 * lanes, np.uint64).reshape(lanes, 4).T.copy()
    if np.any(np.all(state == 0, axis=0)):  # xoshiro's one bad state (probability 2^-256)
        raise ValueError(f"an all-zero xoshiro state from {entropy}")
    return state


# --------------------------------------------------------------------------- kernels


@njit(inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(inline="always")
def _next(S, j):
    """xoshiro256++: the next uint64 of lane j of the state S (4, lanes), advanced in place."""
    s0, s1, s2, s3 = S[0, j], S[1, j], S[2, j], S[3, j]
    out = _rotl(s0 + s3, 23) + s0
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    S[0, j], S[1, j], S[2, j], S[3, j] = s0, s1, s2, s3
    return out


@njit(inline="always")
def _open_uniform(S, j):
    """A uniform on (0, 1] from 53 bits (so its log is finite)."""
    return (np.float64(_next(S, j) >> np.uint64(11)) + 1.0) * _TWO_M53


@njit(inline="always")
def _fast(r):
    """The fast path of one uint64: (value, accepted) -- value = +-u x_i with u in [0, 1)."""
    idx = np.int64(r & np.uint64(0xFF))
    u = np.float64(np.int64(r >> np.uint64(12))) * _TWO_M52
    x = u * XW[idx]
    neg = np.int64((r >> np.uint64(8)) & np.uint64(1))
    return x - 2.0 * neg * x, u < XK[idx]


@njit(cache=True, nogil=True)
def _tail(S, j):
    """A normal conditioned on z > R, from lane j (Marsaglia 1964: exact, by rejection)."""
    while True:
        xx = -math.log(_open_uniform(S, j)) / R
        yy = -math.log(_open_uniform(S, j))
        if yy + yy > xx * xx:
            return R + xx


@njit(cache=True, nogil=True)
def _slow(r, S, j):
    """The exact normal of a uint64 r the fast path rejected, finished with lane j's next bits."""
    while True:
        idx = np.int64(r & np.uint64(0xFF))
        u = np.float64(np.int64(r >> np.uint64(12))) * _TWO_M52
        neg = (r >> np.uint64(8)) & np.uint64(1)
        x = u * XW[idx]
        if u < XK[idx]:
            return -x if neg else x
        if idx == 0:
            t = _tail(S, j)
            return -t if neg else t
        y = XF[idx] + (np.float64(_next(S, j) >> np.uint64(11)) * _TWO_M53) * (XF[idx - 1] - XF[idx])
        if y < math.exp(-0.5 * x * x):
            return -x if neg else x
        r = _next(S, j)


@njit(cache=True, nogil=True)
def fill_normals(S, bits, out):
    """Fill out (length n, a multiple of the lanes; bits a uint64 buffer as long) with the
    stream's next n standard normals, value i from lane i % lanes."""
    n = out.shape[0]
    lanes = S.shape[1]
    for j in range(lanes):  # lane by lane: each lane's state stays in registers
        s0, s1, s2, s3 = S[0, j], S[1, j], S[2, j], S[3, j]
        for i in range(j, n, lanes):
            bits[i] = _rotl(s0 + s3, 23) + s0
            t = s1 << np.uint64(17)
            s2 ^= s0
            s3 ^= s1
            s1 ^= s2
            s0 ^= s3
            s2 ^= t
            s3 = _rotl(s3, 45)
        S[0, j], S[1, j], S[2, j], S[3, j] = s0, s1, s2, s3
    for i in range(n):  # vectorised; NaN marks a rejected value
        x, ok = _fast(bits[i])
        out[i] = x if ok else np.nan
    for i in range(n):
        if out[i] != out[i]:
            out[i] = _slow(bits[i], S, i % lanes)


@njit(cache=True, nogil=True)
def normal(S):
    """One standard normal from lane 0 of S (the label noise: one value per sample)."""
    r = _next(S, 0)
    x, ok = _fast(r)
    return x if ok else _slow(r, S, 0)


@njit(cache=True, nogil=True)
def _draw_blocks(S, blocks, block):
    out = np.empty((blocks, block))
    bits = np.empty(block, dtype=np.uint64)
    for k in range(blocks):
        fill_normals(S, bits, out[k])
    return out


@njit(cache=True, nogil=True)
def refill(S, bits, out, blocks):
    """Fill out with the stream's next block, blocks times over (the draw bound of the benchmarks:
    the generator alone, its block in L1 as in the SGD kernel)."""
    for _ in range(blocks):
        fill_normals(S, bits, out)


@njit(cache=True, nogil=True)
def _draw_bits(S, n):
    out = np.empty(n, dtype=np.uint64)
    lanes = S.shape[1]
    for i in range(n):
        out[i] = _next(S, i % lanes)
    return out


@njit(cache=True, nogil=True)
def _draw_tail(S, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = _tail(S, 0)
    return out


def draw_tail(state: np.ndarray, n: int) -> np.ndarray:
    """n draws of the ziggurat's tail sampler (law: z given z > R), from lane 0 (for tests)."""
    _check_state(state)
    return _draw_tail(state, int(n))


def draw_normals(state: np.ndarray, blocks: int, block: int) -> np.ndarray:
    """(blocks, block) normals from the stream state (advanced in place), one block at a time
    as the SGD kernel draws them; block must be a multiple of the state's lanes."""
    _check_state(state)
    if block < 1 or block % state.shape[1]:
        raise ValueError(f"block must be a positive multiple of {state.shape[1]} lanes, got {block}")
    return _draw_blocks(state, int(blocks), int(block))


def draw_bits(state: np.ndarray, n: int) -> np.ndarray:
    """The next n raw uint64 of the stream, value i from lane i % lanes (for tests of the bits)."""
    _check_state(state)
    return _draw_bits(state, int(n))


def _check_state(state: np.ndarray) -> None:
    if state.dtype != np.uint64 or state.ndim != 2 or state.shape[0] != 4 or not state.flags.c_contiguous:
        raise ValueError("state must be a C-contiguous (4, lanes) uint64 array (stream_state)")
