"""The real Snakefile on the tiny test config and its scenarios (tests/config/*.yaml): targets, no-op rerun,
selective rerun, further formats, figures-only mode, configs that stop before any job."""

import html
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from forgetlab.analysis import ANALYSES
from forgetlab.io import read_jsonl
from forgetlab.report import FIGURE_FORMATS, FIGURES

from ..conftest import ROOT, TEST_CONFIG

pytestmark = pytest.mark.workflow

SCENARIOS = ROOT / "tests" / "config"
MODEL_FILES = ["config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja"]
# the recovery scenario's GRPO from the SFT checkpoint at step 1 is a lineage like the others
LINEAGES = ["base", "base/sft-countdown", "base/grpo-countdown", "base/sft-countdown/grpo-countdown",
            "base/sft-countdown/steps/1/grpo-countdown"]  # fmt: skip
# every checkpoint: the lineages' models plus the step-1 checkpoint the SFT stage keeps (save_every: 1)
CHECKPOINTS = LINEAGES + ["base/sft-countdown/steps/1"]
# the analysis scenario's lineages, and its restore experiments of the SFT model, evaluated like checkpoints (no KL)
ANALYSED = LINEAGES[1:4]
RESTORED = ["base/sft-countdown/restored/directions-0.5", "base/sft-countdown/restored/directions-0.5-random"]
# the re-alignment test of the SFT model and its control (the base), evaluated on the prior task alone
REALIGNED = ["base/sft-countdown/realigned/arithmetic", "base/realigned/arithmetic"]
MAIN_SCENARIOS = ["harness", "analysis", "recovery"]


def snakemake_command(workdir, *args, scenarios=()):
    """Snakemake on tiny.yaml plus the named scenario files, in ``workdir``."""
    configs = [str(TEST_CONFIG), *(str(SCENARIOS / f"{name}.yaml") for name in scenarios)]
    return [
        sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
        "--cores", "2", *args, "--configfile", *configs,
    ]  # fmt: skip


def snakemake(workdir, *args, scenarios=()):
    return subprocess.run(
        snakemake_command(workdir, *args, scenarios=scenarios), capture_output=True, text=True, timeout=900
    )


def expected_targets(workdir, checkpoints=CHECKPOINTS, harness=True, analysis=True):
    """Every target of `all` for the tiny config; the harness scenario adds an lm-eval benchmark, the analysis
    scenario every analysis of its lineages and two restored checkpoints."""
    figures = [name for name, figure in FIGURES.items() if figure.needs is None or analysis]
    paths = ["results/tables/metrics.csv", "results/tables/predictors.csv", "results/provenance.yaml"]
    paths += [f"results/figures/{name}.{ext}" for name in figures for ext in FIGURE_FORMATS]
    if analysis:
        paths += [f"results/tables/analysis_{name}.csv" for name in ANALYSES] + ["results/tables/update_overlap.csv"]
        for lineage in ANALYSED:
            paths += [
                f"results/tiny/{lineage}/analysis/{name}.{ext}" for name in ANALYSES for ext in ("json", "csv", "png")
            ]
        checkpoints = checkpoints + RESTORED
        paths += ["results/tiny/base/realign/arithmetic.jsonl"]
        for checkpoint in REALIGNED:
            paths += [f"results/tiny/{checkpoint}/model/{name}" for name in MODEL_FILES]
            paths += [f"results/tiny/{checkpoint}/{file}" for file in ("train_log.jsonl", "eval/arithmetic.json")]
    for checkpoint in checkpoints:
        root = f"results/tiny/{checkpoint}"
        paths += [f"{root}/model/{name}" for name in MODEL_FILES]
        paths += [
            f"{root}/eval/{task}.{ext}" for task in ("countdown", "arithmetic") for ext in ("json", "samples.jsonl")
        ]
        paths += [f"{root}/harness/tiny_mc.json"] if harness else []
        if checkpoint == "base":  # the base's KL completions, sampled once for every checkpoint's forward KL
            paths += [f"{root}/kl_samples/countdown.pt"]
        elif checkpoint not in RESTORED:
            paths += [f"{root}/kl/countdown.json"]
    paths += [f"results/tiny/{c}/train_log.jsonl" for c in checkpoints if c in LINEAGES[1:]]
    return [workdir / path for path in paths]


def _mtimes(workdir):
    return {path: path.stat().st_mtime_ns for path in (workdir / "results").rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """`all` on tiny.yaml with the lm-eval scenario; the benchmark's task YAML and data sit in the workdir."""
    workdir = tmp_path_factory.mktemp("workflow")
    shutil.copytree(ROOT / "tests" / "harness", workdir / "tests" / "harness")
    result = snakemake(workdir, "all", scenarios=MAIN_SCENARIOS)
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir


def test_every_target_of_all_exists(workdir):
    missing = [str(path) for path in expected_targets(workdir) if not path.exists()]
    assert not missing
    import pandas as pd

    table = pd.read_csv(workdir / "results/tables/metrics.csv")
    accuracy = table[table.metric == "accuracy"]
    assert len(accuracy) == (len(CHECKPOINTS) + len(RESTORED)) * 2 + len(REALIGNED)
    assert accuracy["value"].between(0, 1).all()
    assert sorted(set(accuracy[accuracy.lineage == "base/sft-countdown"]["step"])) == [1, 2]
    assert len(table[table.metric == "ref_loglik"]) == (len(CHECKPOINTS) + len(RESTORED)) * 2 + len(REALIGNED)
    trained = len(CHECKPOINTS) - 1
    # arithmetic and tiny_mc averaged; the realigned SFT model: arithmetic alone
    assert len(table[table.metric == "forgetting"]) == trained + len(RESTORED) + 1
    realign = table[table.metric.isin(["realign_gain", "realignment"])]
    assert sorted(zip(realign.lineage, realign.metric)) == [  # the control gains; the SFT model is measured
        ("base", "realign_gain"),
        ("base/sft-countdown", "realign_gain"),
        ("base/sft-countdown", "realignment"),
    ]
    assert len(table[(table.metric == "kl_mean") & (table.task == "countdown")]) == trained
    assert len(table[(table.metric == "kl_mean") & (table.task == "new (mean)")]) == trained  # KL on trained tasks
    predictors = pd.read_csv(workdir / "results/tables/predictors.csv")
    assert set(predictors["method"]) >= {"all", "sft", "grpo", "sft+grpo"}
    assert {"forward_kl_new", "weight_change"} <= set(predictors["predictor"])  # KL on the new task only
    assert len(table[(table.task == "tiny_mc") & (table.metric == "acc")]) == len(CHECKPOINTS) + len(RESTORED)
    assert set(table[table.metric == "recovery"]["variant"]) == {
        f"restored/{path.rsplit('/', 1)[1]}" for path in RESTORED
    }
    svd = table[table.metric == "svd_max_angle"].set_index("lineage")["value"]
    assert sorted(svd.index) == sorted(ANALYSED) and svd["base/sft-countdown"] > 0
    log = (workdir / "results/tiny/base/grpo-countdown/train_log.jsonl").read_text().splitlines()
    assert '"reward"' in log[0] and '"advantages/histogram"' in log[0]
    metrics = json.loads((workdir / "results/tiny/base/eval/countdown.json").read_text())
    assert metrics["device"] in ("cpu", "cuda") and metrics["backend"] == "hf"


# appended to the report page: once it has loaded, decode every embedded result in the browser and list those
# that show (images with a real width; tables and text as they are) with the report's sections
REPORT_PROBE = """<script>
window.addEventListener("load", () => {
  const shown = [], paths = Object.keys(results);
  let left = paths.length;
  const done = () => {
    if (--left > 0) return;
    const out = document.createElement("pre");
    out.id = "forgetlab-probe";
    out.textContent = JSON.stringify({shown: shown, sections: Object.keys(categories)});
    document.body.appendChild(out);
  };
  for (const path of paths) {
    if (!results[path].mime_type.startsWith("image/")) { shown.push(path); done(); continue; }
    const image = new Image();
    image.onload = () => { if (image.naturalWidth > 100) shown.push(path); done(); };
    image.onerror = done;
    image.src = results[path].data_uri;
  }
});
</script>"""


def test_the_report_page_shows_every_figure_and_table_in_a_browser(workdir):
    result = snakemake(workdir, "--report", "report.html", scenarios=MAIN_SCENARIOS)
    assert result.returncode == 0, result.stderr[-3000:]
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no headless browser (apt-get install chromium)")
    page = workdir / "probed.html"
    page.write_text((workdir / "report.html").read_text().replace("</body>", REPORT_PROBE + "</body>"))
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=20000", "--dump-dom",
         page.as_uri()], capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    probe = re.search(r'<pre id="forgetlab-probe">(.*?)</pre>', dom, re.S)
    assert probe, "the report page did not load in the browser"
    found = json.loads(html.unescape(probe.group(1)))
    figures = {f"results/figures/{name}.png" for name in FIGURES}
    tables = {"results/tables/metrics.csv", "results/tables/predictors.csv", "results/tables/diagnosis.csv",
              "results/tables/update_overlap.csv", "results/provenance.yaml"}  # fmt: skip
    assert set(found["shown"]) == figures | tables
    assert set(found["sections"]) == {figure.category for figure in FIGURES.values()} | {"tables", "provenance"}


def test_second_run_has_nothing_to_do(workdir):
    before = _mtimes(workdir)
    result = snakemake(workdir, "all", scenarios=MAIN_SCENARIOS)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr
    assert _mtimes(workdir) == before


def test_figures_target_replots_from_existing_metrics(workdir):
    shutil.rmtree(workdir / "results/figures")
    result = snakemake(workdir, "figures", scenarios=MAIN_SCENARIOS)
    assert result.returncode == 0, result.stderr[-3000:]
    assert all((workdir / f"results/figures/{name}.png").exists() for name in FIGURES)
    assert "report_figures" in result.stderr and "model_train" not in result.stderr


def test_a_further_prompt_format_is_a_target_of_its_own(workdir):
    target = "results/tiny/base/sft-countdown/steps/1/eval/countdown.natural.json"
    result = snakemake(workdir, target, scenarios=[*MAIN_SCENARIOS, "formats"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert "1 of 1 steps" in result.stderr  # the checkpoint exists: only the evaluation runs
    assert json.loads((workdir / target).read_text())["format"] == "natural"
    samples = (workdir / target.replace(".json", ".samples.jsonl")).read_text().splitlines()
    assert "<answer>" not in json.loads(samples[0])["prompt"]


def test_changing_one_learning_rate_reruns_only_what_depends_on_it(workdir):
    # Leaves the workdir trained with the changed config: keep this the last test using ``workdir``.
    before = _mtimes(workdir)
    result = snakemake(workdir, "all", scenarios=[*MAIN_SCENARIOS, "lr-changed"])
    assert result.returncode == 0, result.stderr[-3000:]
    after = _mtimes(workdir)
    rerun = {path.relative_to(workdir).as_posix() for path in after if after[path] != before.get(path)}
    # provenance records the config and the checkpoint hashes: it follows any change
    downstream = ("results/tiny/base/sft-countdown/", "results/tables/", "results/figures/", "results/provenance.yaml")
    assert any(p.startswith("results/tiny/base/sft-countdown/model/") for p in rerun)
    assert any(p.startswith("results/tiny/base/sft-countdown/grpo-countdown/model/") for p in rerun)
    assert all(p.startswith(downstream) or p.startswith("results/benchmarks/") for p in rerun), sorted(rerun)
    untouched = [
        p
        for p in rerun
        if p.startswith(("results/tiny/base/model", "results/tiny/base/grpo-countdown", "results/data"))
    ]
    assert not untouched


def test_a_killed_training_job_resumes_when_the_workflow_runs_again(tmp_path):
    # the workflow and its training job (a replay stage) killed (SIGKILL) once the trainer state is saved, then run
    # again, with the stage's reverse KL
    target = "results/tiny/base/sft-countdown/model"
    reverse = "results/tiny/base/sft-countdown/kl/countdown.reverse.json"
    saves = tmp_path / "results/tiny/base/sft-countdown/resume/trainer"
    run = subprocess.Popen(snakemake_command(tmp_path, target, scenarios=["resume"]), start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 600
    while not list(saves.glob("checkpoint-*/trainer_state.json")):
        assert run.poll() is None, "the run ended before the trainer state was saved"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert not (tmp_path / target).exists()
    assert snakemake(tmp_path, target, "--unlock", scenarios=["resume"]).returncode == 0  # the killed run's lock
    result = snakemake(tmp_path, target, reverse, "--rerun-incomplete", scenarios=["resume"])
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "results/data/arithmetic/train.jsonl").exists()  # the replayed task's records: an input
    divergence = json.loads((tmp_path / reverse).read_text())
    assert divergence["direction"] == "reverse" and divergence["reverse_kl_mean"] >= 0
    job_log = (tmp_path / "logs/model_train/tiny/base/sft-countdown.log").read_text()
    assert re.search(r"resuming from step \d+ of 60", job_log), job_log[-2000:]
    log = read_jsonl(tmp_path / "results/tiny/base/sft-countdown/train_log.jsonl")
    assert [row["step"] for row in log if "loss" in row] == list(range(1, 61))  # every step exactly once
    assert not saves.parent.exists()  # the working folder goes once the stage is written


def test_figures_only_mode_plots_what_exists_without_training(tmp_path):
    (tmp_path / "results/tiny/base/eval").mkdir(parents=True)
    (tmp_path / "results/tiny/base/eval/countdown.json").write_text('{"task": "countdown", "n": 4, "accuracy": 0.25}')
    result = snakemake(tmp_path, "figures", "--config", "figures_only=True")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "results/figures/forgetting.pdf").exists()
    assert not (tmp_path / "results/tiny/base/model").exists()


@pytest.mark.parametrize(
    "scenario, message",
    [
        (
            "bad-option-typo",
            "stages.grpo-countdown.num_generation: unknown option 'num_generation'; did you mean 'num_generations'?",
        ),
        (
            "bad-method-option",
            "stages.sft-countdown.beta: not an option of method 'sft' (an option of grpo, ppo, rloo)",
        ),
        ("bad-lineage", "lineages[3][1]: stage 'rl-countdown' is not defined"),
        ("bad-ppo-engine", "stages.ppo-countdown.engine: method ppo trains in verl (TRL 1.x has no PPO trainer)"),
    ],
)
def test_a_bad_config_fails_a_dry_run_naming_the_field(tmp_path, scenario, message):
    result = snakemake(tmp_path, "all", "--dry-run", scenarios=[scenario])
    assert result.returncode != 0
    assert message in result.stdout + result.stderr  # a dry run reports on stdout
    assert not (tmp_path / "results").exists()


def test_an_overlay_given_alone_stops_with_one_line_saying_to_name_the_default_first(tmp_path):
    overlay = SCENARIOS / "recovery.yaml"
    command = snakemake_command(tmp_path, "all", "--dry-run")
    command[command.index("--configfile") + 1] = str(overlay)  # the overlay without tiny.yaml
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert (result.stdout + result.stderr).strip().splitlines() == [
        f"config: {overlay} lacks models, tasks, evaluate; --configfile replaces config/config.yaml, so name that "
        f"first: snakemake all --configfile config/config.yaml {overlay}"
    ]
    assert not (tmp_path / "results").exists()
