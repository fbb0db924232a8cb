# Study init: initialisation: other starts for the same target and spectrum.
