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
        references=restore_references(),
    script:
        "../workflow_scripts/report_table.py"


rule report_figures:
    input:
        metrics="results/tables/metrics.csv",
        train_logs=paths(train_log_entries()),
        analyses=expand("results/tables/analysis_{analysis}.csv", analysis=ANALYSES),
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
        analyses=ANALYSES,
    script:
        "../workflow_scripts/report_figures.py"


rule report_analysis_table:
    # every checkpoint's rows of one analysis, with the columns that say which checkpoint
    input:
        lambda wildcards: [
            entry["path"].removesuffix(".json") + ".csv" for entry in analysis_entries([wildcards.analysis])
        ],
    output:
        "results/tables/analysis_{analysis}.csv",
    log:
        "logs/report_analysis_table/{analysis}.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        entries=lambda wildcards: analysis_entries([wildcards.analysis]),
    script:
        "../workflow_scripts/report_analysis_table.py"
