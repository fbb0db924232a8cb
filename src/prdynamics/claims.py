"""The Claim record and the merge of every study's claims into one list.

A Claim records what was measured, what was expected and with which tolerance, and whether
it passed.  The claims themselves live next to what they measure, in prdynamics.studies.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str
    measured: object
    expected: object
    tolerance: object
    passed: bool

    def as_dict(self) -> dict:
        return plain(asdict(self))


def merge(*claim_lists) -> list[Claim]:
    """One list of every claim, in order; an id measured twice is an error."""
    merged = [c for claims in claim_lists for c in claims]
    ids = [c.id for c in merged]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"claim ids measured twice: {', '.join(repeated)}")
    return merged


def plain(obj):
    """JSON-ready: numpy scalars to Python, NaN to None."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
