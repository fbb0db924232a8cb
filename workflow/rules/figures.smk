# Notebook rules: jupytext source -> papermill -> figures; the executed notebook is kept.
NOTEBOOK_CMD = (
    "jupytext --to ipynb --set-kernel python3 -o - {input.notebook}"
    " | papermill - {output.executed} -k python3 --no-progress-bar -y '{params.parameters}'"
    " > {log} 2>&1"
)


rule figure2:
    input:
        notebook="notebooks/fig2_population_dynamics.py",
        flow=fig2_flow_files(),
        gd=fig2_gd_files(),
    output:
        pdf=f"{FIG2}.pdf",
        png=f"{FIG2}.png",
        executed="results/notebooks/fig2_population_dynamics.ipynb",
    log:
        "logs/notebooks/fig2_population_dynamics.log",
    benchmark:
        "results/benchmarks/notebooks/fig2_population_dynamics.tsv"
    params:
        parameters=lambda wildcards, input: notebook_parameters(
            flow_files=list(input.flow),
            gd_files=list(input.gd),
            delta=config["stopping"]["delta"],
            eps=config["fig2"]["eps"],
            out_stem=FIG2,
        ),
    shell:
        NOTEBOOK_CMD
