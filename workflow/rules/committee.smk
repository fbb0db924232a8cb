# Study committee: p student and k teacher units, the population flow and online SGD.


rule simulate_committee_flow:
    input:
        script="scripts/simulate_committee.py",
    output:
        update(seed_outputs(config, COMMITTEE_FLOW_NPZ, "committee")),
    log:
        "logs/committee/flow_{activation}_a{a}_d{d}_p{p}_k{k}.log",
    benchmark:
        "results/benchmarks/committee/flow_{activation}_a{a}_d{d}_p{p}_k{k}.tsv"
    priority: 1  # the longest jobs (minutes at full scale) start first, short ones fill in
    params:
        options=job_options("simulate_committee_flow"),
    shell:
        "python {input.script} {params.options} --out {output} > {log} 2>&1"


rule simulate_committee_sgd:
    input:
        script="scripts/simulate_committee.py",
    output:
        update(seed_outputs(config, COMMITTEE_SGD_NPZ, "committee")),
    log:
        "logs/committee/sgd_{activation}_eta{eta}_b{batch}_noise{sigma2}_a{a}_d{d}_p{p}_k{k}.log",
    benchmark:
        "results/benchmarks/committee/sgd_{activation}_eta{eta}_b{batch}_noise{sigma2}_a{a}_d{d}_p{p}_k{k}.tsv"
    priority: 1  # the longest jobs (minutes at full scale) start first, short ones fill in
    params:
        options=job_options("simulate_committee_sgd"),
    shell:
        "python {input.script} {params.options} --out {output} > {log} 2>&1"


rule study_committee:
    input:
        script="scripts/study_committee.py",
        library="src/prdynamics/studies/committee.py",
        flow=committee_flow_files(config),
        sgd=committee_sgd_files(config),
    output:
        study=update(COMMITTEE_STUDY),
        claims=update(expand(CLAIMS_FRAGMENT, study="committee")),
    log:
        "logs/committee/study.log",
    benchmark:
        "results/benchmarks/committee/study.tsv"
    params:
        level=config["confidence_level"],
        m=config["committee"],
    shell:
        "python {input.script} --flow {input.flow} --sgd {input.sgd}"
        " --tail-x-lo {params.m[tail_x_lo]} --tail-x-hi-frac {params.m[tail_x_hi_frac]}"
        " --tail-min-points {params.m[tail_min_points]} --phase3-loss {params.m[phase3_loss]}"
        " --learn-level {params.m[learn_level]} --phase1-s-max {params.m[phase1_s_max]}"
        " --early-t-max {params.m[early_t_max]} --rate-e-max {params.m[claims][rate_e_max]}"
        " --sgd-leave-rtol {params.m[sgd][leave_rtol]}"
        " --confidence-level {params.level} --out {output.study} --claims {output.claims}"
        " > {log} 2>&1"


rule figure_committee:
    input:
        notebook="notebooks/committee.py",
        flow=committee_flow_files(config),
        study=COMMITTEE_STUDY,
    output:
        update(figure_outputs("committee")),
        update(table_outputs("committee_table")),
        executed=update("results/notebooks/committee.ipynb"),
    log:
        "logs/notebooks/committee.log",
    benchmark:
        "results/benchmarks/committee/notebook.tsv"
    params:
        parameters=notebook_parameters("figure_committee"),
        rule="figure_committee",
    shell:
        NOTEBOOK_CMD
