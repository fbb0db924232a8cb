# Claims: measure every numbered claim (checks.json), then fail the run naming any failed claim.


rule claims:
    input:
        script="scripts/check_claims.py",
        library="src/prdynamics/studies/paper.py",
        population=population_files(config),
        fig3=flow_files(config, "fig3"),
        escape=THEORY_ESCAPE,
        volterra=THEORY_VOLTERRA,
        fig2_flow=flow_files(config, "fig2"),
        fig2_gd=gd_files(config),
        phase3=phase3_files(config),
        fig1_sgd=sgd_files(config, "fig1"),
        fig1_flow=flow_files(config, "fig1"),
        fragments=expand(CLAIMS_FRAGMENT, study=CLAIM_STUDIES),
    output:
        checks=report(CHECKS, caption=report_caption("checks"), category="Claims"),
        record=SIDECAR.format(stem=CHECKS.removesuffix(".json")),
    log:
        "logs/checks/claims.log",
    params:
        stop=recorded_params(config, "claims")["stop"],
        claims=recorded_params(config, "claims")["claims"],
        record=json.dumps(recorded_params(config, "claims")),
        rule="claims",
    shell:
        "python {input.script} --population {input.population} --fig3 {input.fig3}"
        " --escape {input.escape} --volterra {input.volterra} --fig2-flow {input.fig2_flow} --fig2-gd {input.fig2_gd}"
        " --phase3 {input.phase3} --fig1-sgd {input.fig1_sgd} --fig1-flow {input.fig1_flow}"
        " --sgd-time-rtol {params.claims[sgd_time_rtol]}"
        " --sgd-value-rtol {params.claims[sgd_value_rtol]} --delta {params.stop[delta]} --eps {params.stop[eps]}"
        " --s0 {params.stop[s0]}"
        " --gd-flow-time-rtol {params.claims[gd_flow_time_rtol]}"
        " --frozen-mse-rtol {params.claims[frozen_mse_rtol]}"
        " --escape-log-d-r2 {params.claims[escape_log_d_r2]}"
        " --escape-rate-rtol {params.claims[escape_rate_rtol]}"
        " --volterra-phase1-rtol {params.claims[volterra_phase1_rtol]}"
        " --volterra-theta-atol {params.claims[volterra_theta_atol]}"
        " --fragments {input.fragments} --out {output.checks} > {log} 2>&1"
        " && python scripts/record_params.py {params.rule} '{params.record}' >> {log} 2>&1"


rule claims_table:
    input:
        script="scripts/render_claims.py",
        checks=CHECKS,
    output:
        csv=report(
            f"{CHECKS_TABLE}.csv",
            caption=report_caption("checks_table"),
            category="Claims",
        ),
        md=f"{CHECKS_TABLE}.md",
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
        touch("results/checks.ok"),
    log:
        "logs/checks/checks.log",
    params:
        config=lambda wildcards: json.dumps(config),
    shell:
        "python {input.script} --config-json '{params.config}'"
        " {input.artifacts} > {log} 2>&1"
