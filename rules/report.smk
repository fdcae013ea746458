rule report_table:
    input:
        paths(eval_entries()),
    output:
        "results/tables/metrics.csv",
    params:
        entries=eval_entries(),
        seed_groups=SEED_GROUPS,
        lineage_tasks=lineage_tasks(),
    log:
        "logs/report_table/metrics.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow_scripts/gather_metrics.py"


rule report_figures:
    input:
        metrics="results/tables/metrics.csv",
        train_logs=paths(train_log_entries()),
    output:
        forgetting=multiext("results/figures/forgetting", ".png", ".pdf"),
        training=multiext("results/figures/training", ".png", ".pdf"),
        kl_forgetting=multiext("results/figures/kl_forgetting", ".png", ".pdf"),
        curves=multiext("results/figures/curves", ".png", ".pdf"),
    params:
        figures=canonical(config["figures"]),
        train_log_entries=train_log_entries(),
    log:
        "logs/report_figures/figures.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow_scripts/plot_figures.py"
