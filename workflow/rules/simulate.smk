# Simulation rules: one npz per (method, a, d, seed); one job runs every seed of an (a, d).
# Each job's options come from workflow/pipeline.py (job_options), the same function that
# scripts/check_artifacts.py checks the result's recorded inputs against.


rule simulate_flow:
    output:
        update(seed_outputs(config, FLOW_NPZ, *FLOW_SECTIONS)),
    log:
        "logs/simulate_flow/a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/simulate_flow/a{a}_d{d}.tsv"
    params:
        options=job_options("simulate_flow"),
    shell:
        "python scripts/simulate_flow.py {params.options} --out {output} > {log} 2>&1"


rule simulate_gd:
    output:
        update(seed_outputs(config, GD_NPZ, "fig2")),
    log:
        "logs/simulate_gd/eta{eta}_a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/simulate_gd/eta{eta}_a{a}_d{d}.tsv"
    priority: 1  # the longest jobs (minutes at full scale) start first, short ones fill in
    params:
        options=job_options("simulate_gd"),
    shell:
        "python scripts/simulate_flow.py {params.options} --out {output} > {log} 2>&1"


rule simulate_phase3:
    output:
        update(seed_outputs(config, PHASE3_NPZ, "fig4")),
    log:
        "logs/simulate_phase3/a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/simulate_phase3/a{a}_d{d}.tsv"
    params:
        options=job_options("simulate_phase3"),
    shell:
        "python scripts/simulate_phase3.py {params.options} --out {output} > {log} 2>&1"


rule simulate_phase3_levels:
    output:
        update(seed_outputs(config, PHASE3_LEVELS_NPZ, "fig4")),
    log:
        "logs/simulate_phase3_levels/u{u_start}_a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/simulate_phase3_levels/u{u_start}_a{a}_d{d}.tsv"
    params:
        options=job_options("simulate_phase3_levels"),
    shell:
        "python scripts/simulate_phase3.py {params.options} --out {output} > {log} 2>&1"


rule simulate_sgd:
    output:
        update(SGD_NPZ),
    log:
        "logs/simulate_sgd/{law}_eta{eta}_b{batch}_noise{sigma2}_a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/simulate_sgd/{law}_eta{eta}_b{batch}_noise{sigma2}_a{a}_d{d}.tsv"
    priority: 1  # the longest jobs (minutes at full scale) start first, short ones fill in
    params:
        options=job_options("simulate_sgd"),
    shell:
        "python scripts/simulate_sgd.py {params.options} --out {output} > {log} 2>&1"


rule simulate_escape:
    output:
        update(seed_outputs(config, ESCAPE_NPZ, "escape")),
    log:
        "logs/simulate_escape/a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/simulate_escape/a{a}_d{d}.tsv"
    params:
        options=job_options("simulate_escape"),
    shell:
        "python scripts/simulate_flow.py {params.options} --out {output} > {log} 2>&1"


rule simulate_volterra:
    output:
        update(seed_outputs(config, VOLTERRA_NPZ, "volterra")),
    log:
        "logs/simulate_volterra/a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/simulate_volterra/a{a}_d{d}.tsv"
    params:
        options=job_options("simulate_volterra"),
    shell:
        "python scripts/simulate_flow.py {params.options} --out {output} > {log} 2>&1"
