# Study sgd_grid: online SGD against the flow over step size and batch size.


rule simulate_sgd_grid:
    input:
        script="scripts/simulate_sgd_grid.py",
    output:
        update(sgd_grid_outputs(config)),
    log:
        "logs/sgd_grid/simulate_b{batch}_noise{sigma2}_a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/sgd_grid/simulate_b{batch}_noise{sigma2}_a{a}_d{d}.tsv"
    params:
        options=job_options("simulate_sgd_grid"),
    shell:
        "python {input.script} {params.options} --out {output} > {log} 2>&1"


rule simulate_sgd_limit:
    input:
        script="scripts/simulate_sgd_limit.py",
        library="src/prdynamics/studies/sgd_grid.py",
    output:
        update(SGD_LIMIT_NPZ),
    log:
        "logs/sgd_grid/simulate_limit_a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/sgd_grid/simulate_limit_a{a}_d{d}.tsv"
    params:
        options=job_options("simulate_sgd_limit"),
    shell:
        "python {input.script} {params.options} --out {output} > {log} 2>&1"


rule study_sgd_grid:
    input:
        script="scripts/study_sgd_grid.py",
        library="src/prdynamics/studies/sgd_grid.py",
        sgd=sgd_grid_files(config),
        flow=flow_files(config, "sgd_grid"),
        limit=sgd_limit_files(config),
    output:
        study=update(SGD_GRID_STUDY),
        claims=update(expand(CLAIMS_FRAGMENT, study="sgd_grid")),
    log:
        "logs/sgd_grid/study.log",
    benchmark:
        "results/benchmarks/sgd_grid/study.tsv"
    params:
        level=config["confidence_level"],
        base_seed=config["base_seed"],
        c=config["sgd_grid"],
        stop=config["stopping"],
    shell:
        "python {input.script} --sgd {input.sgd} --flow {input.flow} --delta {params.stop[delta]}"
        " --s0 {params.stop[s0]} --eps {params.c[eps]} --target-time {params.c[target_time]}"
        " --floor-window {params.c[floor_window]} --edge-factor {params.c[claims][edge_factor]}"
        " --loss-factor {params.c[claims][loss_factor]} --limit {input.limit}"
        " --limit-order-eta-ms {params.c[claims][limit_order_eta_ms]}"
        " --limit-halfwidth-max {params.c[claims][limit_halfwidth_max]} --ms-factor {params.c[claims][ms_factor]}"
        " --ms-samples {params.c[claims][ms_samples]} --ms-e0 {params.c[claims][ms_e0]}"
        " --base-seed {params.base_seed} --out {output.study}"
        " --confidence-level {params.level} --claims {output.claims} > {log} 2>&1"


rule figure_sgd_grid:
    input:
        notebook="notebooks/sgd_grid.py",
        study=SGD_GRID_STUDY,
        sgd=sgd_grid_files(config),
        flow=flow_files(config, "sgd_grid"),
    output:
        update(figure_outputs("sgd_grid")),
        update(table_outputs("sgd_grid_table")),
        executed=update("results/notebooks/sgd_grid.ipynb"),
    log:
        "logs/notebooks/sgd_grid.log",
    benchmark:
        "results/benchmarks/sgd_grid/notebook.tsv"
    params:
        parameters=notebook_parameters("figure_sgd_grid"),
        rule="figure_sgd_grid",
    shell:
        NOTEBOOK_CMD
