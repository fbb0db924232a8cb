# Study finite: finite samples: full-batch GD reusing n samples.
