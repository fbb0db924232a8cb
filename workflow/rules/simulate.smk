# Simulation rules: one npz per (method, a, d, seed); one job runs every seed of an (a, d).


rule simulate_flow:
    output:
        seed_outputs(FLOW_NPZ, *FLOW_SECTIONS),
    log:
        "logs/simulate_flow/a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/simulate_flow/a{a}_d{d}.tsv"
    params:
        seeds=seed_arguments(*FLOW_SECTIONS),
        t_max=flow_t_max,
        base_seed=config["base_seed"],
        grid=config["time_grid"],
        tol=config["flow"],
    shell:
        "python scripts/simulate_flow.py --method flow --a {wildcards.a} --d {wildcards.d}"
        " --seed {params.seeds} --base-seed {params.base_seed} --t-max {params.t_max}"
        " --t-min {params.grid[t_min]} --points-per-decade {params.grid[points_per_decade]}"
        " --rtol {params.tol[rtol]} --atol {params.tol[atol]} --out {output} > {log} 2>&1"


rule simulate_gd:
    output:
        seed_outputs(GD_NPZ, "fig2"),
    log:
        "logs/simulate_gd/eta{eta}_a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/simulate_gd/eta{eta}_a{a}_d{d}.tsv"
    params:
        seeds=seed_arguments("fig2"),
        t_max=config["fig2"]["gd_t_max"],
        base_seed=config["base_seed"],
        grid=config["time_grid"],
    shell:
        "python scripts/simulate_flow.py --method gd --eta {wildcards.eta} --a {wildcards.a}"
        " --d {wildcards.d} --seed {params.seeds} --base-seed {params.base_seed}"
        " --t-max {params.t_max} --t-min {params.grid[t_min]}"
        " --points-per-decade {params.grid[points_per_decade]} --out {output} > {log} 2>&1"


rule simulate_phase3:
    output:
        seed_outputs(PHASE3_NPZ, "fig4"),
    log:
        "logs/simulate_phase3/a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/simulate_phase3/a{a}_d{d}.tsv"
    params:
        seeds=seed_arguments("fig4"),
        base_seed=config["base_seed"],
        grid=config["time_grid"],
        tol=config["flow"],
        fig4=config["fig4"],
    shell:
        "python scripts/simulate_phase3.py --a {wildcards.a} --d {wildcards.d} --seed {params.seeds}"
        " --base-seed {params.base_seed} --u-start {params.fig4[u_start]}"
        " --tau-max-factor {params.fig4[tau_max_factor]} --tau-min {params.grid[t_min]}"
        " --points-per-decade {params.grid[points_per_decade]} --rtol {params.tol[rtol]}"
        " --atol {params.tol[atol]} --out {output} > {log} 2>&1"


rule simulate_sgd:
    output:
        SGD_NPZ,
    log:
        "logs/simulate_sgd/{law}_eta{eta}_b{batch}_noise{sigma2}_a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/simulate_sgd/{law}_eta{eta}_b{batch}_noise{sigma2}_a{a}_d{d}.tsv"
    params:
        seeds=lambda wildcards: " ".join(map(str, sgd_section(wildcards)["seeds"])),
        t_max=lambda wildcards: sgd_section(wildcards)["t_max"],
        sigma=lambda wildcards: float(wildcards.sigma2) ** 0.5,
        base_seed=config["base_seed"],
        backend=config["sgd_backend"],
        grid=config["time_grid"],
    shell:
        "python scripts/simulate_sgd.py --a {wildcards.a} --d {wildcards.d} --seed {params.seeds}"
        " --eta {wildcards.eta} --batch {wildcards.batch} --sigma {params.sigma}"
        " --input-law {wildcards.law} --t-max {params.t_max} --base-seed {params.base_seed}"
        " --t-min {params.grid[t_min]} --points-per-decade {params.grid[points_per_decade]}"
        " --backend {params.backend} --out {output} > {log} 2>&1"


rule simulate_escape:
    output:
        seed_outputs(ESCAPE_NPZ, "escape"),
    log:
        "logs/simulate_escape/a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/simulate_escape/a{a}_d{d}.tsv"
    params:
        seeds=seed_arguments("escape"),
        escape=config["escape"],
        base_seed=config["base_seed"],
        t_min=config["time_grid"]["t_min"],
        tol=config["flow"],
    shell:
        "python scripts/simulate_flow.py --method flow --a {wildcards.a} --d {wildcards.d}"
        " --seed {params.seeds} --base-seed {params.base_seed} --t-max {params.escape[t_max]}"
        " --t-min {params.t_min} --points-per-decade {params.escape[points_per_decade]}"
        " --rtol {params.tol[rtol]} --atol {params.tol[atol]} --out {output} > {log} 2>&1"


rule simulate_volterra:
    output:
        seed_outputs(VOLTERRA_NPZ, "volterra"),
    log:
        "logs/simulate_volterra/a{a}_d{d}.log",
    benchmark:
        "results/benchmarks/simulate_volterra/a{a}_d{d}.tsv"
    params:
        seeds=seed_arguments("volterra"),
        t_max=flow_t_max,
        ppd=config["volterra"]["points_per_decade"],
        base_seed=config["base_seed"],
        t_min=config["time_grid"]["t_min"],
        tol=config["flow"],
    shell:
        "python scripts/simulate_flow.py --method flow --a {wildcards.a} --d {wildcards.d}"
        " --seed {params.seeds} --base-seed {params.base_seed} --t-max {params.t_max}"
        " --t-min {params.t_min} --points-per-decade {params.ppd}"
        " --rtol {params.tol[rtol]} --atol {params.tol[atol]} --out {output} > {log} 2>&1"
