# Notebook rules: jupytext source -> papermill -> figures and tables; the executed notebook is kept.
NOTEBOOK_CMD = (
    "jupytext --to ipynb --set-kernel python3 -o - {input.notebook}"
    " | papermill - {output.executed} -k python3 --no-progress-bar -y {params.parameters}"
    " > {log} 2>&1"
    " && python scripts/record_params.py {params.rule} {params.parameters} >> {log} 2>&1"
)


rule figure1:
    input:
        notebook="notebooks/fig1_sgd_mse.py",
        sgd=sgd_files(config, "fig1"),
        flow=flow_files(config, "fig1"),
        large_d_sgd=sgd_files(config, "fig1", row=LARGE_D),
        large_d_flow=flow_files(config, "fig1", LARGE_D),
    output:
        update(figure_outputs("fig1")),
        executed=update("results/notebooks/fig1_sgd_mse.ipynb"),
    log:
        "logs/notebooks/fig1_sgd_mse.log",
    benchmark:
        "results/benchmarks/notebooks/fig1_sgd_mse.tsv"
    params:
        parameters=notebook_parameters("figure1"),
        rule="figure1",
    shell:
        NOTEBOOK_CMD


rule figure5:
    input:
        notebook="notebooks/fig5_sgd_label_noise.py",
        sgd=sgd_files(config, "fig5"),
        large_d_sgd=sgd_files(config, "fig5", row=LARGE_D),
    output:
        update(figure_outputs("fig5")),
        executed=update("results/notebooks/fig5_sgd_label_noise.ipynb"),
    log:
        "logs/notebooks/fig5_sgd_label_noise.log",
    benchmark:
        "results/benchmarks/notebooks/fig5_sgd_label_noise.tsv"
    params:
        parameters=notebook_parameters("figure5"),
        rule="figure5",
    shell:
        NOTEBOOK_CMD


rule figure2:
    input:
        notebook="notebooks/fig2_population_dynamics.py",
        flow=flow_files(config, "fig2"),
        gd=gd_files(config),
    output:
        update(figure_outputs("fig2")),
        executed=update("results/notebooks/fig2_population_dynamics.ipynb"),
    log:
        "logs/notebooks/fig2_population_dynamics.log",
    benchmark:
        "results/benchmarks/notebooks/fig2_population_dynamics.tsv"
    params:
        parameters=notebook_parameters("figure2"),
        rule="figure2",
    shell:
        NOTEBOOK_CMD


rule figure3:
    input:
        notebook="notebooks/fig3_escape_over_a.py",
        flow=flow_files(config, "fig3"),
    output:
        update(figure_outputs("fig3")),
        executed=update("results/notebooks/fig3_escape_over_a.ipynb"),
    log:
        "logs/notebooks/fig3_escape_over_a.log",
    benchmark:
        "results/benchmarks/notebooks/fig3_escape_over_a.tsv"
    params:
        parameters=notebook_parameters("figure3"),
        rule="figure3",
    shell:
        NOTEBOOK_CMD


rule figure4:
    input:
        notebook="notebooks/fig4_phase3_frozen.py",
        phase3=phase3_files(config),
    output:
        update(figure_outputs("fig4")),
        executed=update("results/notebooks/fig4_phase3_frozen.ipynb"),
    log:
        "logs/notebooks/fig4_phase3_frozen.log",
    benchmark:
        "results/benchmarks/notebooks/fig4_phase3_frozen.tsv"
    params:
        parameters=notebook_parameters("figure4"),
        rule="figure4",
    shell:
        NOTEBOOK_CMD


rule figure6:
    input:
        notebook="notebooks/fig6_one_minus_u.py",
        flow=flow_files(config, "fig6"),
    output:
        update(figure_outputs("fig6")),
        executed=update("results/notebooks/fig6_one_minus_u.ipynb"),
    log:
        "logs/notebooks/fig6_one_minus_u.log",
    benchmark:
        "results/benchmarks/notebooks/fig6_one_minus_u.tsv"
    params:
        parameters=notebook_parameters("figure6"),
        rule="figure6",
    shell:
        NOTEBOOK_CMD


rule tables:
    input:
        notebook="notebooks/tables_stopping_times.py",
        flow=population_files(config),
    output:
        update(table_outputs("stopping_times", "threshold_check")),
        executed=update("results/notebooks/tables_stopping_times.ipynb"),
    log:
        "logs/notebooks/tables_stopping_times.log",
    benchmark:
        "results/benchmarks/notebooks/tables_stopping_times.tsv"
    params:
        parameters=notebook_parameters("tables"),
        rule="tables",
    shell:
        NOTEBOOK_CMD


rule figure_theory_escape:
    input:
        notebook="notebooks/theory_escape.py",
        theory=THEORY_ESCAPE,
    output:
        update(figure_outputs("theory_escape")),
        executed=update("results/notebooks/theory_escape.ipynb"),
    log:
        "logs/notebooks/theory_escape.log",
    benchmark:
        "results/benchmarks/notebooks/theory_escape.tsv"
    params:
        parameters=notebook_parameters("figure_theory_escape"),
        rule="figure_theory_escape",
    shell:
        NOTEBOOK_CMD


rule figure_theory_volterra:
    input:
        notebook="notebooks/theory_volterra.py",
        theory=THEORY_VOLTERRA,
    output:
        update(figure_outputs("theory_volterra")),
        executed=update("results/notebooks/theory_volterra.ipynb"),
    log:
        "logs/notebooks/theory_volterra.log",
    benchmark:
        "results/benchmarks/notebooks/theory_volterra.tsv"
    params:
        parameters=notebook_parameters("figure_theory_volterra"),
        rule="figure_theory_volterra",
    shell:
        NOTEBOOK_CMD
