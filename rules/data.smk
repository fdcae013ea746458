rule data_generate:
    output:
        "results/data/{task}/{split}.jsonl",
    log:
        "logs/data_generate/{task}/{split}.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    params:
        spec=lambda wildcards: task_spec(wildcards.task),
    script:
        "../workflow_scripts/data_generate.py"
