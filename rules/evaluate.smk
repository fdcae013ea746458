rule evaluate_generation:
    # {evaluation} is a task name, or <task>.<format> for the further formats of evaluate.formats
    input:
        model="results/{model}/{checkpoint}/model",
        data=lambda wildcards: f"results/data/{evaluation_task(wildcards)}/test.jsonl",
    output:
        metrics="results/{model}/{checkpoint}/eval/{evaluation}.json",
        samples="results/{model}/{checkpoint}/eval/{evaluation}.samples.jsonl",
    log:
        "logs/evaluate_generation/{model}/{checkpoint}/{evaluation}.log",
    benchmark:
        "results/benchmarks/evaluate_generation/{model}/{checkpoint}/{evaluation}.tsv"
    conda:
        "../envs/evaluation.yaml"
    threads: 1
    resources:
        **job_resources("evaluate"),
    params:
        task=lambda wildcards: task_spec(evaluation_task(wildcards)),
        task_name=evaluation_task,
        max_new_tokens=config["evaluate"]["max_new_tokens"],
        batch_size=config["evaluate"]["batch_size"],
        style=lambda wildcards: evaluation_format(wildcards) or config["evaluate"]["format"],
        backend=config["evaluate"]["backend"],
        chat=config["evaluate"]["chat"],
        samples=config["evaluate"]["samples"],
        temperature=config["evaluate"]["temperature"],
        loglik_format=config["evaluate"]["loglik_format"],
        device=config["device"],
    script:
        "../workflow_scripts/evaluate_generation.py"


rule evaluate_kl:
    # {divergence}: a task (KL(base || checkpoint)) or <task>.reverse (KL(checkpoint || base))
    input:
        base="results/{model}/base/model",
        model="results/{model}/{checkpoint}/model",
        data=lambda wildcards: f"results/data/{divergence_task(wildcards)}/test.jsonl",
    output:
        "results/{model}/{checkpoint}/kl/{divergence}.json",
    log:
        "logs/evaluate_kl/{model}/{checkpoint}/{divergence}.log",
    benchmark:
        "results/benchmarks/evaluate_kl/{model}/{checkpoint}/{divergence}.tsv"
    conda:
        "../envs/evaluation.yaml"
    threads: 1
    resources:
        **job_resources("evaluate"),
    params:
        task=lambda wildcards: task_spec(divergence_task(wildcards)),
        task_name=divergence_task,
        direction=lambda wildcards: "reverse" if wildcards.divergence.endswith(".reverse") else "forward",
        n=config["evaluate"]["kl"]["n"],
        max_new_tokens=config["evaluate"]["kl"]["max_new_tokens"],
        seed=config["evaluate"]["kl"]["seed"],
        style=config["evaluate"]["format"],
        chat=config["evaluate"]["chat"],
        device=config["device"],
    script:
        "../workflow_scripts/evaluate_kl.py"


rule evaluate_harness:
    input:
        model="results/{model}/{checkpoint}/model",
    output:
        "results/{model}/{checkpoint}/harness/{benchmark}.json",
    log:
        "logs/evaluate_harness/{model}/{checkpoint}/{benchmark}.log",
    benchmark:
        "results/benchmarks/evaluate_harness/{model}/{checkpoint}/{benchmark}.tsv"
    conda:
        "../envs/evaluation.yaml"
    threads: 1
    resources:
        **job_resources("evaluate"),
    params:
        limit=config["evaluate"]["harness"]["limit"],
        num_fewshot=config["evaluate"]["harness"]["num_fewshot"],
        chat=config["evaluate"]["harness"]["chat"],
        include_path=config["evaluate"]["harness"]["include_path"],
        device=config["device"],
    script:
        "../workflow_scripts/evaluate_harness.py"


rule evaluate_evalscope:
    # evalscope as an alternative benchmark backend, in an environment of its own (--sdm conda)
    input:
        model="results/{model}/{checkpoint}/model",
    output:
        "results/{model}/{checkpoint}/evalscope/{benchmark}.json",
    log:
        "logs/evaluate_evalscope/{model}/{checkpoint}/{benchmark}.log",
    conda:
        "../envs/evalscope.yaml"
    threads: 1
    resources:
        **job_resources("evaluate"),
    params:
        limit=config["evaluate"]["evalscope"]["limit"],
        batch_size=config["evaluate"]["evalscope"]["batch_size"],
    script:
        "../workflow_scripts/evaluate_evalscope.py"
