rule data_generate:
    output:
        "results/data/{task}/{split}.jsonl",
    params:
        spec=lambda wildcards: task_spec(wildcards.task),
    log:
        "logs/data_generate/{task}/{split}.log",
    localrule: True
    conda:
        "../envs/analysis.yaml"
    script:
        "../workflow_scripts/generate_data.py"
