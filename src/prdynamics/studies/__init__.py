"""The studies: one module each, named like its config section, rule file and notebook.

Each holds what its study measures, its summary and its claims; the engines it builds on
(model, population, flow, gd, sgd, volterra, theory, phases, seeding, io) stay study-free.
"""
