rule report_table:
    input:
        metrics=targets.paths(EVAL_ENTRIES),
        samples=targets.item_paths(EVAL_ENTRIES),
    output:
        report("results/tables/metrics.csv", caption="../report/metrics.rst", category="tables"),
    log:
        "logs/report_table/metrics.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        entries=EVAL_ENTRIES,
        seed_groups=SEED_GROUPS,
        lineage_tasks=targets.lineage_tasks(config),
        references=targets.restore_references(config),
        realign_references=targets.realign_references(config),
    script:
        "../workflow_scripts/report_table.py"


rule report_diagnosis:
    # what kind of forgetting: per trained checkpoint and prior task, what each test says of its loss
    input:
        "results/tables/metrics.csv",
    output:
        report("results/tables/diagnosis.csv", caption="../report/diagnosis_table.rst", category="tables"),
    log:
        "logs/report_diagnosis/diagnosis.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        lineage_tasks=targets.lineage_tasks(config),
    script:
        "../workflow_scripts/report_diagnosis.py"


rule report_predictors:
    # which measurement predicts forgetting: R² and Spearman per predictor and method
    input:
        "results/tables/metrics.csv",
    output:
        report("results/tables/predictors.csv", caption="../report/predictors.rst", category="tables"),
    log:
        "logs/report_predictors/predictors.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow_scripts/report_predictors.py"


rule report_figures:
    input:
        metrics="results/tables/metrics.csv",
        diagnosis="results/tables/diagnosis.csv",
        train_logs=targets.paths(TRAIN_LOG_ENTRIES),
        analyses=expand("results/tables/analysis_{analysis}.csv", analysis=ANALYSES),
    output:
        # keyed figure_<name>: a name such as "update" is reserved in Snakemake's named lists
        **{f"figure_{name}": figure_outputs(name) for name in FIGURES},
    log:
        "logs/report_figures/figures.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        figures=config["figures"],
        train_log_entries=TRAIN_LOG_ENTRIES,
        analyses=ANALYSES,
    script:
        "../workflow_scripts/report_figures.py"


rule report_update_overlap:
    # which weight coordinates the trained models updated from the base, pairwise, against random sets of that size
    input:
        [path for _, _, path in targets.overlap_checkpoints(config)],
    output:
        report(targets.OVERLAP_TABLE, caption="../report/update_overlap.rst", category="tables"),
    log:
        "logs/report_update_overlap/overlap.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    threads: 1
    params:
        checkpoints=targets.overlap_checkpoints(config),
        matrices=ANALYSIS["update"]["matrices"],
    script:
        "../workflow_scripts/report_update_overlap.py"


rule report_analysis_table:
    # every checkpoint's rows of one analysis, with the columns that say which checkpoint
    input:
        lambda wildcards: targets.analysis_tables(config, wildcards.analysis),
    output:
        "results/tables/analysis_{analysis}.csv",
    log:
        "logs/report_analysis_table/{analysis}.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        entries=lambda wildcards: targets.analysis_entries(config, [wildcards.analysis]),
    script:
        "../workflow_scripts/report_analysis_table.py"


rule report_provenance:
    # what the results came from: config as run, code version and commit, packages, checkpoint hashes
    input:
        CHECKPOINT_MODELS.values(),
    output:
        report("results/provenance.yaml", caption="../report/provenance.rst", category="provenance"),
    log:
        "logs/report_provenance/provenance.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        config=config,
        checkpoints=CHECKPOINT_MODELS,
        code_dir=workflow.basedir,
        lock=LOCK_FILE,
    script:
        "../workflow_scripts/report_provenance.py"
