def analysis_inputs(wildcards):
    """The checkpoint, its reference and, for the analyses that read a task, the checkpoint's own evaluation
    samples of that task (which items it still answers right)."""
    reference = reference_of(wildcards.checkpoint, ANALYSIS["reference"])
    inputs = {
        "reference": f"results/{wildcards.model}/{reference}/model",
        "model": f"results/{wildcards.model}/{wildcards.checkpoint}/model",
    }
    task = analysis_task(config, wildcards.analysis)
    if task:
        inputs["samples"] = f"results/{wildcards.model}/{wildcards.checkpoint}/eval/{task}.samples.jsonl"
    return inputs


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
    threads: 1
    resources:
        **job_resources("evaluate"),
    conda:
        "../envs/evaluation.yaml"
    params:
        settings=lambda wildcards: ANALYSIS[wildcards.analysis],
        task_name=lambda wildcards: analysis_task(config, wildcards.analysis),
        task=lambda wildcards: analysis_task(config, wildcards.analysis)
        and task_spec(analysis_task(config, wildcards.analysis)),
        style=config["evaluate"]["format"],
        chat=config["evaluate"]["chat"],
        device=config["device"],
    script:
        "../workflow_scripts/analysis_checkpoint.py"


rule analysis_restore:
    # a restore experiment: the lineage's final checkpoint with part of its reference put back
    input:
        reference=lambda wildcards: f"results/{wildcards.model}/{reference_of(wildcards.lineage, ANALYSIS['reference'])}/model",
        model="results/{model}/{lineage}/model",
    output:
        directory("results/{model}/{lineage}/restored/{restore}/model"),
    log:
        "logs/analysis_restore/{model}/{lineage}/{restore}.log",
    benchmark:
        "results/benchmarks/analysis_restore/{model}/{lineage}/{restore}.tsv"
    threads: 1
    resources:
        **job_resources("prepare"),
    conda:
        "../envs/analysis.yaml"
    params:
        variant=lambda wildcards: RESTORES[wildcards.restore],
        tail=ANALYSIS["restore"]["tail"],
        seed=ANALYSIS["restore"]["seed"],
        matrices=ANALYSIS["svd"]["matrices"],
    script:
        "../workflow_scripts/analysis_restore.py"
