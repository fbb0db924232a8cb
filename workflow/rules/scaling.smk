# Study scaling: Phase II and Phase III scaling laws against large-d flow runs (theory).
