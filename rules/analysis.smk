rule analysis_checkpoint:
    input:
        unpack(analysis_inputs),
    output:
        summary="results/{model}/{checkpoint}/analysis/{analysis}.json",
        table="results/{model}/{checkpoint}/analysis/{analysis}.csv",
        figure="results/{model}/{checkpoint}/analysis/{analysis}.png",
    log:
        "logs/analysis_checkpoint/{model}/{checkpoint}/{analysis}.log",
    benchmark:
        "results/benchmarks/analysis_checkpoint/{model}/{checkpoint}/{analysis}.tsv"
    conda:
        "../envs/evaluation.yaml"
    threads: 1
    resources:
        **job_resources("evaluate"),
    params:
        settings=lambda wildcards: ANALYSIS[wildcards.analysis],
        task_name=lambda wildcards: analysis_task(config, wildcards.analysis),
        task=lambda wildcards: analysis_task(config, wildcards.analysis)
        and task_spec(analysis_task(config, wildcards.analysis)),
        style=config["evaluate"]["format"],
        chat=config["evaluate"]["chat"],
        system_prompt=config["evaluate"]["system_prompt"],
        oneshot_example=config["evaluate"]["oneshot_example"],
        device=config["device"],
    script:
        "../workflow_scripts/analysis_checkpoint.py"


rule analysis_spectrum:
    # the singular values and vectors of a model's linear weights, computed once for all its weight analyses
    input:
        "results/{model}/{checkpoint}/model",
    output:
        directory("results/{model}/{checkpoint}/spectrum"),
    log:
        "logs/analysis_spectrum/{model}/{checkpoint}.log",
    benchmark:
        "results/benchmarks/analysis_spectrum/{model}/{checkpoint}.tsv"
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        **job_resources("prepare"),
    params:
        matrices=jobs.spectrum_matrices(config),
    script:
        "../workflow_scripts/analysis_spectrum.py"


rule analysis_restore:
    # a restore experiment: the lineage's final checkpoint with part of its reference put back
    input:
        unpack(restore_inputs),
    output:
        # with control: the random control of the same size, from the same SVDs
        **(
            {"control": directory("results/{model}/{lineage}/restored/{restore}-random/model")}
            if ANALYSIS["restore"]["control"]
            else {}
        ),
        model=directory("results/{model}/{lineage}/restored/{restore}/model"),
    log:
        "logs/analysis_restore/{model}/{lineage}/{restore}.log",
    benchmark:
        "results/benchmarks/analysis_restore/{model}/{lineage}/{restore}.tsv"
    conda:
        "../envs/analysis.yaml"
    threads: 1
    resources:
        **job_resources("prepare"),
    params:
        variant=lambda wildcards: RESTORES[wildcards.restore],
        control=ANALYSIS["restore"]["control"],
        tail=ANALYSIS["restore"]["tail"],
        seed=ANALYSIS["restore"]["seed"],
        matrices=ANALYSIS["svd"]["matrices"],
    script:
        "../workflow_scripts/analysis_restore.py"


rule analysis_realign_data:
    # the re-alignment examples of a reference: its own correct completions of prior-task train records
    input:
        model="results/{model}/{parent}/model",
        data="results/data/{task}/train.jsonl",
    output:
        "results/{model}/{parent}/realign/{task}.jsonl",
    log:
        "logs/analysis_realign_data/{model}/{parent}/{task}.log",
    benchmark:
        "results/benchmarks/analysis_realign_data/{model}/{parent}/{task}.tsv"
    conda:
        "../envs/evaluation.yaml"
    threads: 1
    resources:
        **job_resources("evaluate"),
    params:
        task=lambda wildcards: task_spec(wildcards.task),
        options=ANALYSIS["realign"],
        style=config["evaluate"]["format"],
        chat=config["evaluate"]["chat"],
        system_prompt=config["evaluate"]["system_prompt"],
        oneshot_example=config["evaluate"]["oneshot_example"],
        max_new_tokens=config["evaluate"]["max_new_tokens"],
        device=config["device"],
    script:
        "../workflow_scripts/analysis_realign_data.py"


rule analysis_realign:
    # a few SFT steps on the re-alignment examples, from a checkpoint (from its reference: the control)
    input:
        unpack(realign_inputs),
    output:
        model=directory("results/{model}/{parent}/realigned/{task}/model"),
        train_log="results/{model}/{parent}/realigned/{task}/train_log.jsonl",
    log:
        "logs/analysis_realign/{model}/{parent}/{task}.log",
    benchmark:
        "results/benchmarks/analysis_realign/{model}/{parent}/{task}.tsv"
    conda:
        "../envs/training.yaml"
    threads: 1
    resources:
        **job_resources("evaluate"),
    params:
        options=ANALYSIS["realign"],
        task=lambda wildcards: task_spec(wildcards.task),
        style=config["evaluate"]["format"],
        chat=config["evaluate"]["chat"],
        system_prompt=config["evaluate"]["system_prompt"],
        oneshot_example=config["evaluate"]["oneshot_example"],
        device=config["device"],
        fast_paths=config["fast_paths"],
    script:
        "../workflow_scripts/analysis_realign.py"
