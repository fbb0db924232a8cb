# Study finite: finite samples: full-batch GD reusing n samples.


rule simulate_finite:
    input:
        script="scripts/simulate_finite.py",
    output:
        update(FINITE_NPZ),
    log:
        "logs/finite/simulate_a{a}_d{d}_noise{sigma2}.log",
    benchmark:
        "results/benchmarks/finite/simulate_a{a}_d{d}_noise{sigma2}.tsv"
    params:
        options=job_options("simulate_finite"),
    shell:
        "python {input.script} {params.options} --out {output} > {log} 2>&1"


rule study_finite:
    input:
        script="scripts/study_finite.py",
        library="src/prdynamics/studies/finite.py",
        runs=finite_files(config),
    output:
        study=update(FINITE_STUDY),
        claims=update(expand(CLAIMS_FRAGMENT, study="finite")),
    log:
        "logs/finite/study.log",
    benchmark:
        "results/benchmarks/finite/study.tsv"
    params:
        level=config["confidence_level"],
        c=config["finite"]["claims"],
    shell:
        "python {input.script} {input.runs} --match-exponent {params.c[match_exponent]}"
        " --floor-factor {params.c[floor_factor]} --fit-min {params.c[fit_min]}"
        " --floor-slope {params.c[floor_slope]} --floor-bias-c {params.c[floor_bias_c]}"
        " --overfit-ratio {params.c[overfit_ratio]}"
        " --rate-fraction {params.c[rate_fraction]} --out {output.study} --confidence-level {params.level} --claims {output.claims}"
        " > {log} 2>&1"


rule figure_finite:
    input:
        notebook="notebooks/finite.py",
        runs=finite_files(config),
        study=FINITE_STUDY,
    output:
        update(figure_outputs("finite")),
        update(table_outputs("finite_table")),
        executed=update("results/notebooks/finite.ipynb"),
    log:
        "logs/notebooks/finite.log",
    benchmark:
        "results/benchmarks/finite/notebook.tsv"
    params:
        parameters=notebook_parameters("figure_finite"),
        rule="figure_finite",
    shell:
        NOTEBOOK_CMD
