"""forgetlab's generation engine against lm-eval's HF backend: same model, same items, same prompt text.

    python benchmarks/generation_vs_lmeval.py [--model DIR] [--task countdown] [--n 32] [--batch-size 8]
                                              [--max-new-tokens 64] [--threads 2]

Not a test: it prints a table. The model is loaded once and handed to both sides, so neither timing pays for
loading; lm-eval reads the prompts (rendered with the chat template, as the project does) from a local jsonl
through a generated task YAML, so it never reaches the network. The third row is the part of simple_evaluate
spent in HFLM.generate_until; the rest is lm-eval's fixed per-call cost (mostly its environment report, which
runs pip).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path

# Before lm_eval / datasets are imported: they read these at import time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CACHE = Path(__file__).resolve().parents[1] / "results" / "bench" / "smollm2-135m"
TASK = "forgetlab_bench_gen"
# doc_to_text names a field, so lm-eval feeds the rendered prompt verbatim (no Jinja whitespace handling);
# until [] leaves EOS as the only stop, as in HF generate.
TASK_YAML = """\
task: {task}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: text
doc_to_target: answer
generation_kwargs:
  until: []
  max_gen_toks: {max_new_tokens}
  do_sample: false
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""


def model_folder(path: str | None) -> Path:
    """``path``, or SmolLM2-135M-Instruct materialised once from the offline package into results/bench."""
    from forgetlab.models import SMOLLM2_GGUF, materialise

    if path:
        return Path(path)
    return CACHE if (CACHE / "config.json").exists() else materialise(SMOLLM2_GGUF.to_dict(), CACHE)


def run_lm_eval(model, tokenizer, texts: list[str], answers: list[str], args, folder: Path):
    """(completions in item order, the contexts lm-eval fed, seconds of simple_evaluate, seconds of those
    inside HFLM.generate_until: the rest is lm-eval's per-call overhead, e.g. its environment report)."""
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    data = folder / "items.jsonl"
    data.write_text("".join(json.dumps({"text": t, "answer": a}) + "\n" for t, a in zip(texts, answers)))
    (folder / f"{TASK}.yaml").write_text(
        TASK_YAML.format(task=TASK, data=json.dumps(str(data)), max_new_tokens=args.max_new_tokens)
    )
    # Index only this folder and build the task (reading the jsonl) before the clock starts: setup, not generation.
    manager = TaskManager(include_path=str(folder), include_defaults=False)
    task = manager.load(TASK)["tasks"][TASK]
    # add_bos_token=False: the chat template already holds its special tokens, as in HFEngine (chat=True).
    lm = HFLM(
        pretrained=model, tokenizer=tokenizer, batch_size=args.batch_size, device=str(model.device), add_bos_token=False
    )
    generate, inside = lm.generate_until, []

    def timed_generate(requests, *rest, **options):
        begin = time.perf_counter()
        out = generate(requests, *rest, **options)
        inside.append(time.perf_counter() - begin)
        return out

    lm.generate_until = timed_generate
    start = time.perf_counter()
    output = simple_evaluate(model=lm, tasks=[task], task_manager=manager, log_samples=True, bootstrap_iters=0)
    seconds = time.perf_counter() - start
    samples = sorted(output["samples"][TASK], key=lambda s: s["doc_id"])
    return [s["resps"][0][0] for s in samples], [s["arguments"][0][0] for s in samples], seconds, sum(inside)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="HF model folder (default: SmolLM2-135M-Instruct from the gguf package)")
    parser.add_argument("--task", default="countdown", choices=["countdown", "arithmetic"])
    parser.add_argument("--n", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    logging.getLogger("lm_eval").setLevel(logging.WARNING)

    import torch

    from forgetlab.evaluate.engines import HFEngine
    from forgetlab.evaluate.generation import prompt_text
    from forgetlab.models import load_model, load_tokenizer
    from forgetlab.prompts import render_prompt
    from forgetlab.tasks import make_task

    torch.set_num_threads(args.threads)
    folder = model_folder(args.model)
    tokenizer = load_tokenizer(folder)
    model = load_model(folder)  # on the GPU when one is visible
    task = make_task(args.task, {"kind": args.task})
    records = task.build("test", args.n, seed=0)
    texts = [prompt_text(tokenizer, render_prompt(task, record, task.format)) for record in records]

    engine = HFEngine(model, tokenizer, args.batch_size)
    engine(texts[:1], 2)  # warm-up: first-call kernel setup is neither side's cost
    start = time.perf_counter()
    ours = engine(texts, args.max_new_tokens)
    our_seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory(prefix="bench-lmeval-") as tmp:
        answers = [task.answer_text(record) for record in records]
        theirs, contexts, their_seconds, their_generate = run_lm_eval(model, tokenizer, texts, answers, args, Path(tmp))

    print("| engine | items | batch | max_new_tokens | seconds | items/s |\n|---|---|---|---|---|---|")
    rows = [("forgetlab HFEngine", our_seconds), ("lm-eval simple_evaluate (HFLM)", their_seconds),
            ("lm-eval HFLM.generate_until only", their_generate)]  # fmt: skip
    for name, seconds in rows:
        settings = f"{args.n} | {args.batch_size} | {args.max_new_tokens}"
        print(f"| {name} | {settings} | {seconds:.2f} | {args.n / seconds:.2f} |")
    print(
        f"\nforgetlab/lm-eval throughput ratio: {their_seconds / our_seconds:.2f}x against simple_evaluate, "
        f"{their_generate / our_seconds:.2f}x against generate_until alone (above 1: forgetlab is faster)"
    )
    # Greedy on the same tokens should agree; batch composition and padding can flip rare near-ties.
    same = sum(a == b for a, b in zip(ours, theirs))
    print(f"prompts lm-eval fed identical: {contexts == texts}; identical completions: {same}/{args.n}")


if __name__ == "__main__":
    main()
