"""Learning dynamics of phase retrieval under power-law data (arXiv 2511.18661)."""

__version__ = "0.1.0"
