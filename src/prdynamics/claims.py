"""The Claim record and the merge of every study's claims into one list.

A claim is one of two kinds:

- a **check** compares a measurement with a criterion fixed before the data and passes or fails;
  its ``basis`` says where the tolerance comes from: ``derived: ...`` (a bound or an exact
  property of the model), ``convergence: ...`` (the rate at which a discretisation error must
  shrink) or ``interval: ...`` (a confidence interval over seeds or replicas);
- a **finding** reports a measurement with its uncertainty (``interval``) and has no pass/fail
  (``passed`` is None).

The claims themselves live next to what they measure, in prdynamics.studies.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

KINDS = ("check", "finding")

#: The prefixes a check's basis starts with.
BASES = ("derived", "convergence", "interval")


@dataclass(frozen=True)
class Claim:
    id: str
    kind: str
    statement: str
    measured: object
    expected: object
    tolerance: object
    basis: str | None
    interval: object
    passed: bool | None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "check":
            if not isinstance(self.passed, bool):
                raise ValueError(f"check {self.id}: passed must be True or False, got {self.passed!r}")
            if not (isinstance(self.basis, str) and self.basis.split(":", 1)[0] in BASES
                    and self.basis.split(":", 1)[-1].strip()):
                raise ValueError(f"check {self.id}: basis must read '<{'|'.join(BASES)}>: why', "
                                 f"got {self.basis!r}")
        else:
            if self.passed is not None or self.tolerance is not None or self.basis is not None:
                raise ValueError(f"finding {self.id} has no pass/fail, tolerance or basis")
            if self.interval is None:
                raise ValueError(f"finding {self.id}: needs an interval (its uncertainty)")

    def as_dict(self) -> dict:
        return plain(asdict(self))


def check(id: str, statement: str, measured, expected, tolerance, passed, *, basis: str) -> Claim:
    """A check: passed is the criterion applied to measured; basis says where the tolerance comes from."""
    return Claim(id, "check", statement, measured, expected, tolerance, basis, None, bool(passed))


def finding(id: str, statement: str, *, measured, interval) -> Claim:
    """A finding: a measurement and its uncertainty, no pass/fail."""
    return Claim(id, "finding", statement, measured, None, None, None, interval, None)


def failed_checks(claims) -> list[str]:
    """Ids of the checks that failed (findings never fail)."""
    return [c.id for c in claims if c.kind == "check" and not c.passed]


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
