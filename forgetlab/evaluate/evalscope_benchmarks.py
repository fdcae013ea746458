"""The benchmark names evalscope 1.10.0 registers (its ``register_benchmark(name=...)`` calls) and the settings its
``generation_config`` takes, so a config naming another stops before any job: evalscope itself lives in an
environment of its own (envs/evalscope.yaml and requirements/evalscope.txt pin this version), where the core install
cannot ask it. tests/evalscope checks both lists against evalscope itself."""

EVALSCOPE_VERSION = "1.10.0"

EVALSCOPE_BENCHMARKS = frozenset({
    "a_okvqa", "aa_lcr", "acebench", "agieval", "ai2d", "aime24", "aime25", "aime26", "air_bench_chat",
    "air_bench_foundation", "alpaca_eval", "amc", "anat_em", "arc", "arc_agi_2", "arena_hard", "arxivmath",
    "arxivrollbench", "arxivrollbench_full", "automation_bench", "baby_vision", "bbh", "bc2gm", "bc4chemd", "bc5cdr",
    "bfcl_v3", "bfcl_v4", "bigcodebench", "bigcodebench_hard", "biomix_qa", "blink", "broad_twitter_corpus",
    "browsecomp", "cc_bench", "ceval", "chartqa", "charxiv", "chinese_simpleqa", "cl_bench", "claw_eval", "cmath",
    "cmmlu", "cmmmu", "cmmu", "coin_flip", "common_voice_15", "commonsense_qa", "competition_math", "conll2003",
    "conllpp", "copious", "cross_ner", "deep_swe", "deepsearchqa", "docmath", "docvqa", "drivel_binary",
    "drivel_multilabel", "drivel_selection", "drivel_writing", "drop", "emb_spatial_bench", "eq_bench", "erqa",
    "evalmuse", "fin_ner", "fleurs", "frames", "gaia", "gdpval", "gedit", "genai_bench", "general_arena",
    "general_fc", "general_mcq", "general_qa", "general_t2i", "general_vmcq", "general_vqa", "genia_ner",
    "gpqa_diamond", "gsm8k", "gsm8k_v", "hallusion_bench", "halueval", "harvey_ner", "health_bench", "hellaswag",
    "hle", "hmmt25", "hmmt26", "hpdv2", "humaneval", "humaneval_plus", "ifbench", "ifeval", "imo_answerbench",
    "infovqa", "iquiz", "jnlpba", "jnlpba_rare", "job_bench", "k2_verifier", "kimi_verifier", "kina", "librispeech",
    "live_code_bench", "locomo", "logi_qa", "longbench_v2", "longmemeval", "maritime_bench", "maritime_ocr_bench",
    "math_500", "math_qa", "math_verse", "math_vision", "math_vista", "mbpp", "mbpp_plus", "mcp_atlas",
    "measure_bench", "med_mcqa", "mgsm", "mia_bench", "micro_vqa", "minerva_math", "minimax_verifier", "miniwob",
    "mit_movie_trivia", "mit_restaurant", "mm_bench", "mm_star", "mmau", "mmlu", "mmlu_pro", "mmlu_redux", "mmmlu",
    "mmmu", "mmmu_pro", "mri_mcqa", "msr_vtt", "msvd", "multi_if", "multi_nerd", "multiple_humaneval",
    "multiple_mbpp", "music_trivia", "musr", "mvbench", "ncbi", "needle_haystack", "ocr_bench", "ocr_bench_v2",
    "officeqa", "olympiad_bench", "omni_bench", "omni_doc_bench", "omni_doc_bench_v1_6", "ontonotes5", "openai_mrcr",
    "perspective_gap_prompt_writing", "perspective_gap_role_assignment", "piqa", "poly_math", "pope", "process_bench",
    "pubmedqa", "qasc", "race", "real_world_qa", "refcoco", "researchrubrics", "scicode", "science_qa", "sciq",
    "seed_bench_2_plus", "seed_tts_eval", "simple_qa", "simple_vqa", "siqa", "skillsbench", "super_gpqa",
    "swe_bench_lite", "swe_bench_lite_agentic", "swe_bench_multilingual_agentic", "swe_bench_pro",
    "swe_bench_verified", "swe_bench_verified_agentic", "swe_bench_verified_mini", "swe_bench_verified_mini_agentic",
    "tau2_bench", "tau3_bench", "tau_bench", "terminal_bench_v2", "terminal_bench_v2_1", "tifa160", "tir_bench",
    "tool_bench", "toolathlon", "torgo", "trivia_qa", "truthful_qa", "tvbench", "tweebank_ner", "tweet_ner_7",
    "videomme_v2", "visulogic", "vqav2", "vstar_bench", "wenet_speech", "wide_search", "winogrande", "wmt24pp",
    "wnut2017", "world_vqa", "zebralogicbench", "zerobench",
})  # fmt: skip

# The fields of evalscope 1.10.0's GenerateConfig. It takes any other key too and ignores it, so a name of another
# library (transformers' max_new_tokens for evalscope's max_tokens) would leave evalscope's default in place.
EVALSCOPE_GENERATION_SETTINGS = frozenset({
    "anthropic_cache_control", "anthropic_cache_strategy", "batch_size", "do_sample", "extra_body", "extra_headers",
    "extra_query", "frequency_penalty", "guidance_scale", "height", "logit_bias", "logprobs", "max_tokens", "n",
    "num_inference_steps", "parallel_tool_calls", "presence_penalty", "reasoning_effort", "reasoning_history",
    "reasoning_summary", "reasoning_tokens", "repetition_penalty", "response_schema", "retries", "retry_interval",
    "seed", "stop_seqs", "stream", "temperature", "timeout", "top_k", "top_logprobs", "top_p", "width",
})  # fmt: skip
