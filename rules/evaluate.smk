rule evaluate_generation:
    input:
        model="results/{model}/{lineage}/model",
        data="results/data/{task}/test.jsonl",
    output:
        metrics="results/{model}/{lineage}/eval/{task}.json",
        samples="results/{model}/{lineage}/eval/{task}.samples.jsonl",
    params:
        task=lambda wildcards: task_spec(wildcards.task),
        max_new_tokens=config["evaluate"]["max_new_tokens"],
        batch_size=config["evaluate"]["batch_size"],
        style=config["evaluate"].get("format"),
        chat=config["evaluate"]["chat"],
        samples=config["evaluate"]["samples"],
        temperature=config["evaluate"]["temperature"],
    log:
        "logs/evaluate_generation/{model}/{lineage}/{task}.log",
    benchmark:
        "results/benchmarks/evaluate_generation/{model}/{lineage}/{task}.tsv"
    threads: 1
    resources:
        **job_resources("evaluate"),
    conda:
        "../envs/training.yaml"
    script:
        "../workflow_scripts/evaluate_generation.py"


rule evaluate_kl:
    input:
        base="results/{model}/base/model",
        model="results/{model}/{lineage}/model",
        data="results/data/{task}/test.jsonl",
    output:
        "results/{model}/{lineage}/kl/{task}.json",
    params:
        task=lambda wildcards: task_spec(wildcards.task),
        n=config["evaluate"]["kl"]["n"],
        max_new_tokens=config["evaluate"]["kl"]["max_new_tokens"],
        seed=config["evaluate"]["kl"]["seed"],
        style=config["evaluate"].get("format"),
        chat=config["evaluate"]["chat"],
    log:
        "logs/evaluate_kl/{model}/{lineage}/{task}.log",
    benchmark:
        "results/benchmarks/evaluate_kl/{model}/{lineage}/{task}.tsv"
    threads: 1
    resources:
        **job_resources("evaluate"),
    conda:
        "../envs/training.yaml"
    script:
        "../workflow_scripts/evaluate_kl.py"


rule evaluate_harness:
    input:
        model="results/{model}/{lineage}/model",
    output:
        "results/{model}/{lineage}/harness/{benchmark}.json",
    params:
        limit=config["evaluate"]["harness"]["limit"],
        num_fewshot=config["evaluate"]["harness"].get("num_fewshot"),
        chat=config["evaluate"]["harness"]["chat"],
        include_path=config["evaluate"]["harness"].get("include_path"),
    log:
        "logs/evaluate_harness/{model}/{lineage}/{benchmark}.log",
    benchmark:
        "results/benchmarks/evaluate_harness/{model}/{lineage}/{benchmark}.tsv"
    threads: 1
    resources:
        **job_resources("evaluate"),
    conda:
        "../envs/training.yaml"
    script:
        "../workflow_scripts/evaluate_harness.py"
