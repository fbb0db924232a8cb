# Study inputs: non-Gaussian product-measure inputs with the same covariance.


rule simulate_inputs_flow:
    output:
        update(INPUTS_FLOW_NPZ),
    log:
        "logs/inputs/flow_{law}_a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/inputs/flow_{law}_a{a}_d{d}.tsv"
    params:
        options=job_options("simulate_inputs_flow"),
    shell:
        "python scripts/simulate_inputs.py {params.options} --out {output} > {log} 2>&1"


rule simulate_inputs_sgd:
    output:
        update(INPUTS_SGD_NPZ),
    log:
        "logs/inputs/sgd_{law}_eta{eta}_a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/inputs/sgd_{law}_eta{eta}_a{a}_d{d}.tsv"
    params:
        options=job_options("simulate_inputs_sgd"),
    shell:
        "python scripts/simulate_sgd.py {params.options} --out {output} > {log} 2>&1"


rule study_inputs:
    input:
        script="scripts/study_inputs.py",
        library="src/prdynamics/studies/inputs.py",
        flows=inputs_flow_files(config),
        sgd=inputs_sgd_files(config),
    output:
        study=update(INPUTS_STUDY),
        claims=update(expand(CLAIMS_FRAGMENT, study="inputs")),
    log:
        "logs/inputs/summary.log",
    benchmark:
        "results/benchmarks/inputs/summary.tsv"
    params:
        level=config["confidence_level"],
        stop=config["stopping"],
        c=config["inputs"]["claims"],
        phase3_eps=config["inputs"]["phase3_eps"],
    shell:
        "python {input.script} --flows {input.flows} --sgd {input.sgd} --delta {params.stop[delta]}"
        " --eps {params.stop[eps]} --s0 {params.stop[s0]} --phase3-eps {params.phase3_eps}"
        " --loss-tol {params.c[loss_tol]}"
        " --grad-tol {params.c[grad_tol]} --tail-x-min {params.c[tail_x_min]}"
        " --tail-x-max-frac {params.c[tail_x_max_frac]} --tail-min-points {params.c[tail_min_points]}"
        " --tail-atol {params.c[tail_atol]} --sgd-log-atol {params.c[sgd_log_atol]}"
        " --out {output.study} --confidence-level {params.level} --claims {output.claims} > {log} 2>&1"


rule figure_inputs:
    input:
        notebook="notebooks/inputs.py",
        study=INPUTS_STUDY,
        flows=inputs_flow_files(config),
        sgd=inputs_sgd_files(config),
    output:
        update(figure_outputs("inputs")),
        update(table_outputs("inputs_table")),
        executed=update("results/notebooks/inputs.ipynb"),
    log:
        "logs/notebooks/inputs.log",
    benchmark:
        "results/benchmarks/inputs/notebook.tsv"
    params:
        parameters=notebook_parameters("figure_inputs"),
        rule="figure_inputs",
    shell:
        NOTEBOOK_CMD
