"""Committees and multi-index targets: the paper's open question 3.

Student f_W(x) = (1/p) sum_j sigma(w_j . x), teacher y = (1/k) sum_m sigma(w*_m . x) (+ noise),
x ~ N(0, Q).  The population loss depends on W (p x d) only through the Q-overlaps
M = W Q W^T, R = W Q W*^T and P = W* Q W*^T, so its gradient is (A W + B W*) Q with a p x p matrix
A and a p x k matrix B built from the overlaps (``population``); the flow integrates that structure
exactly in the modes of Q (``flow``); ``sgd`` runs online SGD on the same model; ``theory`` gives
Phase I, the flow linearised at W = 0 and its escape rates.
"""

from .flow import CommitteeTrajectory, integrate_committee_flow
from .population import (
    ACTIVATIONS,
    check_activation,
    coefficients,
    error_from_overlaps,
    gradient,
    hessian,
    learned_operator,
    learned_spectrum,
    loss,
    loss_from_overlaps,
    overlaps,
    problem,
    students_sphere,
    teachers,
)
from .sgd import CommitteeSGDResult, run_committee_sgd
from .theory import committee_escape_rates, linearised_flow

__all__ = [
    "ACTIVATIONS", "CommitteeSGDResult", "CommitteeTrajectory", "check_activation", "coefficients",
    "committee_escape_rates", "error_from_overlaps", "gradient", "hessian", "integrate_committee_flow",
    "learned_operator", "learned_spectrum", "linearised_flow", "loss", "loss_from_overlaps", "overlaps",
    "problem", "run_committee_sgd", "students_sphere", "teachers",
]
