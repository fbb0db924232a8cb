# Study sgd_grid: online SGD against the flow over step size and batch size.
