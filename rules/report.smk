rule report_table:
    input:
        paths(eval_entries()),
    output:
        "results/tables/metrics.csv",
    log:
        "logs/report_table/metrics.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        entries=eval_entries(),
        seed_groups=SEED_GROUPS,
        lineage_tasks=lineage_tasks(),
    script:
        "../workflow_scripts/report_table.py"


rule report_figures:
    input:
        metrics="results/tables/metrics.csv",
        train_logs=paths(train_log_entries()),
    output:
        **{name: expand("results/figures/{name}.{ext}", name=name, ext=FIGURE_FORMATS) for name in FIGURES},
    log:
        "logs/report_figures/figures.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        figures=config["figures"],
        train_log_entries=train_log_entries(),
    script:
        "../workflow_scripts/report_figures.py"
