# Study inputs: non-Gaussian product-measure inputs with the same covariance.
