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
        system_prompt=config["evaluate"]["system_prompt"],
        oneshot_example=config["evaluate"]["oneshot_example"],
        samples=config["evaluate"]["samples"],
        temperature=config["evaluate"]["temperature"],
        loglik_format=config["evaluate"]["loglik_format"],
        device=config["device"],
    script:
        "../workflow_scripts/evaluate_generation.py"


rule evaluate_kl_samples:
    # the base's completions and states along them, sampled once per task and read by every forward KL job
    input:
        model="results/{model}/base/model",
        data="results/data/{task}/test.jsonl",
    output:
        "results/{model}/base/kl_samples/{task}.pt",
    log:
        "logs/evaluate_kl_samples/{model}/{task}.log",
    benchmark:
        "results/benchmarks/evaluate_kl_samples/{model}/{task}.tsv"
    conda:
        "../envs/evaluation.yaml"
    threads: 1
    resources:
        **job_resources("evaluate"),
    params:
        **KL_SAMPLING,
        task=lambda wildcards: task_spec(wildcards.task),
    script:
        "../workflow_scripts/evaluate_kl_samples.py"


rule evaluate_kl:
    # {divergence}: a task (KL(base || checkpoint), over the base's samples) or <task>.reverse (KL(checkpoint ||
    # base), sampled from the checkpoint in the job)
    input:
        unpack(kl_inputs),
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
        **KL_SAMPLING,
        task=lambda wildcards: task_spec(divergence_task(wildcards)),
        task_name=divergence_task,
        direction=lambda wildcards: "reverse" if wildcards.divergence.endswith(".reverse") else "forward",
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
        max_length=config["evaluate"]["harness"]["max_length"],
        gen_kwargs=config["evaluate"]["harness"]["gen_kwargs"],
        device=config["device"],
    script:
        "../workflow_scripts/evaluate_harness.py"


rule evaluate_evalscope:
    # evalscope as an alternative benchmark backend, in an environment of its own (--sdm conda, or Snakemake under
    # .venvs/evalscope's python: docs/analyses.md)
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
        few_shot=config["evaluate"]["evalscope"]["few_shot"],
        dataset_dir=config["evaluate"]["evalscope"]["dataset_dir"],
        generation_config=config["evaluate"]["evalscope"]["generation_config"],
    script:
        "../workflow_scripts/evaluate_evalscope.py"
