# Claims: measure every numbered claim (checks.json), then fail the run naming any failed claim.


rule claims:
    input:
        script="scripts/check_claims.py",
        library="src/prdynamics/studies/paper.py",
        population=population_files(config),
        fig3=flow_files(config, "fig3"),
        escape=THEORY_ESCAPE,
        volterra=THEORY_VOLTERRA,
        fig2_gd=gd_files(config),
        fig2_gd_refined=gd_files(config, "gd_eta_refined"),
        phase3=phase3_level_files(config),
        fig1_sgd=sgd_files(config, "fig1"),
        fig1_flow=flow_files(config, "fig1"),
        fragments=expand(CLAIMS_FRAGMENT, study=CLAIM_STUDIES),
    output:
        checks=update(
            report(CHECKS, caption=report_caption("checks"), category="Claims")
        ),
        record=update(SIDECAR.format(stem=CHECKS.removesuffix(".json"))),
    log:
        "logs/checks/claims.log",
    params:
        stop=recorded_params(config, "claims")["stop"],
        claims=recorded_params(config, "claims")["claims"],
        flow=recorded_params(config, "claims")["flow"],
        level=recorded_params(config, "claims")["confidence_level"],
        record=shell_json(recorded_params(config, "claims")),
        rule="claims",
    shell:
        "python {input.script} --population {input.population} --fig3 {input.fig3}"
        " --escape {input.escape} --volterra {input.volterra} --fig2-gd {input.fig2_gd}"
        " --fig2-gd-refined {input.fig2_gd_refined}"
        " --phase3 {input.phase3} --fig1-sgd {input.fig1_sgd} --fig1-flow {input.fig1_flow}"
        " --sgd-time-rtol {params.claims[sgd_time_rtol]}"
        " --sgd-value-rtol {params.claims[sgd_value_rtol]} --delta {params.stop[delta]} --eps {params.stop[eps]}"
        " --s0 {params.stop[s0]}"
        " --gd-order {params.claims[gd_order]} --gd-ratio-eta-h {params.claims[gd_ratio_eta_h]}"
        " --gd-reference-factor {params.claims[gd_reference_factor]} --flow-rtol {params.flow[rtol]}"
        " --frozen-order-min {params.claims[frozen_order_min]}"
        " --volterra-phase1-k2 {params.claims[volterra_phase1_k2]}"
        " --volterra-order-min {params.claims[volterra_order_min]}"
        " --confidence-level {params.level}"
        " --fragments {input.fragments} --out {output.checks} > {log} 2>&1"
        " && python scripts/record_params.py {params.rule} {params.record} >> {log} 2>&1"


rule claims_table:
    input:
        script="scripts/render_claims.py",
        checks=CHECKS,
    output:
        csv=update(
            report(
                f"{CHECKS_TABLE}.csv",
                caption=report_caption("checks_table"),
                category="Claims",
            )
        ),
        md=update(f"{CHECKS_TABLE}.md"),
    log:
        "logs/checks/claims_table.log",
    shell:
        "python {input.script} {input.checks} --out {output.csv} > {log} 2>&1"


rule checks:
    input:
        script="scripts/check_artifacts.py",
        checks=CHECKS,  # the script's --checks default
        artifacts=[out for name in FIGURES for out in figure_outputs(name)]
        + [f"{stem}.{ext}" for stem in TABLES.values() for ext in ("csv", "md")],
    output:
        update(touch("results/checks.ok")),
    log:
        "logs/checks/checks.log",
    params:
        config=lambda wildcards: shell_json(config),
    shell:
        "python {input.script} --config-json {params.config}"
        " {input.artifacts} > {log} 2>&1"
