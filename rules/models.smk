rule model_base:
    output:
        directory("results/{model}/base/model"),
    log:
        "logs/model_base/{model}.log",
    benchmark:
        "results/benchmarks/model_base/{model}.tsv"
    conda:
        "../envs/training.yaml"
    threads: 1
    resources:
        **job_resources("prepare"),
    params:
        spec=model_spec,
        fast_paths=config["fast_paths"],
    script:
        "../workflow_scripts/model_base.py"


rule model_train:
    input:
        parent="results/{model}/{parent}/model",
        data=stage_train_data,
        replay=stage_replay_data,
    output:
        model=directory("results/{model}/{parent}/{stage}/model"),
        train_log="results/{model}/{parent}/{stage}/train_log.jsonl",
        checkpoints=directory("results/{model}/{parent}/{stage}/checkpoints"),
    log:
        "logs/model_train/{model}/{parent}/{stage}.log",
    benchmark:
        "results/benchmarks/model_train/{model}/{parent}/{stage}.tsv"
    wildcard_constraints:
        stage=targets.stages_on(config, "trl"),
    conda:
        "../envs/training.yaml"
    threads: train_threads
    resources:
        **job_resources("train"),
    params:
        stage=stage_spec,
        task=lambda wildcards: task_spec(stage_spec(wildcards)["task"]),
        replay_task=replay_task_spec,
        # the trainer state of a killed job, outside the outputs (Snakemake deletes those): a rerun resumes from it
        resume_dir="results/{model}/{parent}/{stage}/resume",
        device=config["device"],
        fast_paths=config["fast_paths"],
    script:
        "../workflow_scripts/model_train.py"


rule model_train_verl:
    # An engine: verl stage: verl's Ray trainer, in verl's environment, on resources.nodes nodes. verl's saves stay
    # in work_dir (outside the outputs, which Snakemake deletes on failure): a rerun resumes from the last.
    input:
        parent="results/{model}/{parent}/model",
        data=stage_train_data,
    output:
        model=directory("results/{model}/{parent}/{stage}/model"),
        train_log="results/{model}/{parent}/{stage}/train_log.jsonl",
        checkpoints=directory("results/{model}/{parent}/{stage}/checkpoints"),
    log:
        "logs/model_train_verl/{model}/{parent}/{stage}.log",
    benchmark:
        "results/benchmarks/model_train_verl/{model}/{parent}/{stage}.tsv"
    wildcard_constraints:
        stage=targets.stages_on(config, "verl"),
    conda:
        "../envs/verl.yaml"
    threads: train_threads
    resources:
        **job_resources("train"),
    params:
        stage=stage_spec,
        task=lambda wildcards: task_spec(stage_spec(wildcards)["task"]),
        work_dir="results/{model}/{parent}/{stage}/verl",
        verl_python=config["verl_python"],
    script:
        "../workflow_scripts/model_train_verl.py"


rule model_step:
    # An intermediate checkpoint as its own target: hard links into the stage's checkpoints folder.
    input:
        "results/{model}/{lineage}/checkpoints",
    output:
        directory("results/{model}/{lineage}/steps/{step}/model"),
    log:
        "logs/model_step/{model}/{lineage}/{step}.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow_scripts/model_step.py"
