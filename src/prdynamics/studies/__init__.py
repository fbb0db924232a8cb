"""The studies: one module each, named like its config section, rule file and notebook.

Each holds what its study measures, its summary and its claims; the engines it builds on
(model, population, flow, gd, sgd, volterra, theory, phases, seeding, io) stay study-free.
Every module has the same two entry points, pure functions on loaded results (no files, no
command-line arguments): ``summarise(runs, ..., *, settings) -> dict`` of the arrays of the
study's npz, and ``claims(summary, *, criteria) -> list[Claim]``.  The script of a study loads,
calls the two and writes.
"""


class StudyInputError(ValueError):
    """The input files of a study do not fit together (a missing reference run, a repeated grid point).

    The scripts report it in one line; any other error keeps its traceback.
    """
