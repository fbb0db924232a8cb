# Study scaling: Phase II and Phase III scaling laws against large-d flow runs (theory).


rule simulate_scaling:
    output:
        update(seed_outputs(config, SCALING_NPZ, "scaling")),
    log:
        "logs/simulate_scaling/a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/simulate_scaling/a{a}_d{d}.tsv"
    params:
        options=job_options("simulate_scaling"),
    shell:
        "python scripts/simulate_flow.py {params.options} --out {output} > {log} 2>&1"


rule study_scaling:
    input:
        script="scripts/study_scaling.py",
        library="src/prdynamics/studies/scaling.py",
        runs=scaling_files(config),
    output:
        theory=update(THEORY_SCALING),
        claims=update(expand(CLAIMS_FRAGMENT, study="scaling")),
    log:
        "logs/theory/scaling.log",
    benchmark:
        "results/benchmarks/theory/scaling.tsv"
    params:
        c=config["scaling"],
        s0=config["stopping"]["s0"],
        level=config["confidence_level"],
    shell:
        "python {input.script} {input.runs} --s0 {params.s0} --eps-max {params.c[eps_max]}"
        " --eps-min {params.c[eps_min]} --eps-per-decade {params.c[eps_per_decade]}"
        " --phase3-eps {params.c[phase3_eps]} --front-factor {params.c[front_factor]}"
        " --loss-x-lo {params.c[loss_x_lo]} --loss-x-hi-frac {params.c[loss_x_hi_frac]}"
        " --gamma-rtol {params.c[claims][gamma_rtol]}"
        " --loss-min-decades {params.c[claims][loss_min_decades]}"
        " --confidence-level {params.level}"
        " --out {output.theory} --claims-out {output.claims} > {log} 2>&1"


rule figure_scaling:
    input:
        notebook="notebooks/scaling.py",
        scaling=THEORY_SCALING,
        escape=THEORY_ESCAPE,
    output:
        update(figure_outputs("theory_phase3")),
        update(figure_outputs("theory_loss_law")),
        update(figure_outputs("theory_phase2")),
        update(table_outputs("scaling_laws")),
        executed=update("results/notebooks/scaling.ipynb"),
    log:
        "logs/notebooks/scaling.log",
    benchmark:
        "results/benchmarks/notebooks/scaling.tsv"
    params:
        parameters=notebook_parameters("figure_scaling"),
        rule="figure_scaling",
    shell:
        NOTEBOOK_CMD
