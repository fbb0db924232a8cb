# Theory rules: predictions of the paper's analysis, evaluated on the runs they describe.


rule theory_escape:
    input:
        script="scripts/theory_escape.py",
        runs=escape_files(config),
    output:
        update(THEORY_ESCAPE),
    log:
        "logs/theory/escape.log",
    benchmark:
        "results/benchmarks/theory/escape.tsv"
    params:
        delta=config["stopping"]["delta"],
        s_max=config["escape"]["s_max"],
    shell:
        "python {input.script} {input.runs} --delta {params.delta} --s-max {params.s_max}"
        " --out {output} > {log} 2>&1"


rule theory_volterra:
    input:
        script="scripts/theory_volterra.py",
        runs=volterra_files(config),
    output:
        update(THEORY_VOLTERRA),
    log:
        "logs/theory/volterra.log",
    benchmark:
        "results/benchmarks/theory/volterra.tsv"
    params:
        s_phase1=config["volterra"]["s_phase1"],
        s0=config["stopping"]["s0"],
        tol=config["flow"],
    shell:
        "python {input.script} {input.runs} --s-phase1 {params.s_phase1} --s0 {params.s0}"
        " --rtol {params.tol[rtol]} --atol {params.tol[atol]} --out {output} > {log} 2>&1"
