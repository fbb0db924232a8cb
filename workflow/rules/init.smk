# Study init: initialisation: other starts for the same target and spectrum.


rule simulate_init:
    input:
        script="scripts/simulate_init.py",
    output:
        update(INIT_NPZ),
    log:
        "logs/init/simulate_a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/init/simulate_a{a}_d{d}.tsv"
    params:
        options=job_options("simulate_init"),
    shell:
        "python {input.script} {params.options} --out {output} > {log} 2>&1"


rule study_init:
    input:
        script="scripts/study_init.py",
        library="src/prdynamics/studies/init.py",
        runs=init_files(config),
    output:
        study=update(INIT_STUDY),
        claims=update(expand(CLAIMS_FRAGMENT, study="init")),
    log:
        "logs/init/study.log",
    benchmark:
        "results/benchmarks/init/study.tsv"
    params:
        level=config["confidence_level"],
        stop=config["stopping"],
        eps=lambda wildcards: " ".join(map(str, config["stopping"]["eps"])),
        init=config["init"],
        base_seed=config["base_seed"],
    shell:
        "python {input.script} {input.runs} --delta {params.stop[delta]} --eps {params.eps}"
        " --s0 {params.stop[s0]} --phase3-eps {params.init[phase3_eps]} --x-hi {params.init[x_hi]}"
        " --overlap-draws {params.init[overlap_draws]} --base-seed {params.base_seed}"
        " --p-min {params.init[claims][p_min]} --escaped-max {params.init[claims][escaped_max]}"
        " --phase3-rtol {params.init[claims][phase3_rtol]} --beta-atol {params.init[claims][beta_atol]}"
        " --out {output.study} --confidence-level {params.level} --claims {output.claims} > {log} 2>&1"


rule figure_init:
    input:
        notebook="notebooks/init.py",
        study=INIT_STUDY,
        runs=init_files(config),
    output:
        update(figure_outputs("init")),
        update(table_outputs("init_table")),
        executed=update("results/notebooks/init.ipynb"),
    log:
        "logs/notebooks/init.log",
    benchmark:
        "results/benchmarks/init/notebook.tsv"
    params:
        parameters=notebook_parameters("figure_init"),
        rule="figure_init",
    shell:
        NOTEBOOK_CMD
