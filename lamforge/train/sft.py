"""Supervised phases (1: task → plan, 2: state → action) on TRL's `SFTTrainer`.

Rows are prompt/completion pairs, so TRL computes the loss on the completion tokens only.
Each phase writes its checkpoint (`save_pretrained`), `metrics.json` and a model card, and
resumes from the last trainer checkpoint in its directory when one exists.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict


class PhaseConfig(BaseModel):
    model_config = ConfigDict(extra='forbid')  # a misspelt key is an error, not ignored
    epochs: float = 1.0
    max_steps: int = -1
    lr: float = 2e-5
    batch_size: int = 16
    max_length: int = 512
    scheduler: str = "cosine"
    warmup_steps: int = 0
    save_steps: int = 200
    logging_steps: int = 10
    # "random", or "group_by_length" (less padding, but on our data a phase 2 run with it
    # ended at a clearly higher loss: similar lengths are similar states; benchmarks/RESULTS.md)
    sampling: str = "random"
    # recompute activations in the backward pass to save memory: TRL turns it on by default,
    # which costs a small model on a CPU ~20% of its speed for memory it does not need
    activation_checkpointing: bool = False


def show_progress() -> bool:
    """Progress bars (transformers', datasets', the tokenizer trainer's) on a terminal; off one
    (CI, a log file, the tests), where a bar redrawn with carriage returns is noise, they are
    switched off and training reports plain lines (`log_lines`)."""
    import sys

    on = sys.stderr.isatty()
    if not on:
        import datasets
        from transformers.utils import logging as hf_logging

        datasets.disable_progress_bars()
        hf_logging.disable_progress_bar()
        os.environ["TQDM_DISABLE"] = "1"  # tqdm bars of other libraries (sentence-transformers')
    return on


def bf16_ok() -> bool:
    """Whether training may compute in bfloat16: on a GPU, or on a CPU with native bf16
    (AVX512-BF16 or AMX), where autocast made a MiniLM step 2.3× faster (benchmarks/RESULTS.md).
    Elsewhere bf16 would be emulated, slower than fp32."""
    import torch

    if torch.cuda.is_available():
        return True
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def log_lines(name: str) -> Any:
    """Off a terminal, transformers prints every log event as a raw dict
    (`{'loss': '0.1225', 'grad_norm': …}`); this callback prints one plain line instead, e.g.
    `lam2: step 120/760 (16%), loss 0.412, lr 1.9e-03, 38 s`, and one when training ends."""
    from transformers import TrainerCallback

    class LogLines(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.t0 = time.perf_counter()

        def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None,
                   **kw: Any) -> None:
            if not state.is_world_process_zero or not logs:
                return
            took = time.perf_counter() - getattr(self, "t0", time.perf_counter())
            if "train_runtime" in logs:
                loss = logs.get("train_loss")
                print(f"{name}: done, {state.global_step} steps in {took:.0f} s"
                      + (f", mean loss {float(loss):.4g}" if loss is not None else ""),
                      flush=True)
                return
            total = state.max_steps or 0
            parts = [f"step {state.global_step}/{total} ({state.global_step / total:.0%})"
                     if total else f"step {state.global_step}"]
            for key, label in (("loss", "loss"), ("reward", "reward"),
                               ("learning_rate", "lr")):
                if key in logs:
                    value = float(logs[key])
                    parts.append(f"{label} {value:.1e}" if key == "learning_rate"
                                 else f"{label} {value:.4g}")
            print(f"{name}: {', '.join(parts)}, {took:.0f} s", flush=True)

    return LogLines()


def train_sft(base: str | Path, rows: list[dict[str, str]], out_dir: Path, cfg: PhaseConfig,
              seed: int = 0, lora: dict[str, Any] | None = None,
              card: dict[str, Any] | None = None,
              callbacks: list[Any] | None = None) -> dict[str, Any]:
    """Fine-tune `base` on prompt/completion rows; return the metrics written to out_dir."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(base)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(base)
    peft_config = lora_config(lora, "CAUSAL_LM") if lora else None
    args = SFTConfig(
        output_dir=str(out_dir / "trainer"), num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps, learning_rate=cfg.lr, lr_scheduler_type=cfg.scheduler,
        warmup_steps=cfg.warmup_steps, per_device_train_batch_size=cfg.batch_size,
        max_length=cfg.max_length, completion_only_loss=True, logging_steps=cfg.logging_steps,
        save_steps=cfg.save_steps, save_total_limit=1, seed=seed, report_to=[],
        use_cpu=not torch.cuda.is_available(), bf16=torch.cuda.is_available(),
        dataloader_num_workers=0, disable_tqdm=not show_progress(), train_sampling_strategy=cfg.sampling,
        activation_checkpointing=cfg.activation_checkpointing)
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                         processing_class=tokenizer, peft_config=peft_config,
                         callbacks=callbacks)
    metrics = fit(trainer, out_dir, len(rows), seed, cfg, base)
    metrics["tokens"] = next((e["num_tokens"] for e in reversed(trainer.state.log_history)
                              if "num_tokens" in e), None)
    save_trained(trainer, tokenizer, out_dir, "causal" if lora else None)
    return write_metrics(out_dir, metrics, card)


def save_trained(trainer: Any, tokenizer: Any, out_dir: Path, lora_task: str | None,
                 **config: Any) -> None:
    """Save the trained model as one plain checkpoint in out_dir/model, rank-safely: every
    process takes part in `save_model` (under ZeRO-3 it gathers the sharded weights), only
    the main one writes. A LoRA run saves its adapter (out_dir/adapter) and the main process
    merges it into a fresh copy of the base, since merging a sharded model in place would
    merge shards. `config` overrides checkpoint config fields of the merged model."""
    model_dir = out_dir / "model"
    if lora_task:
        trainer.save_model(str(out_dir / "adapter"))
        if trainer.is_world_process_zero():
            _merge(out_dir / "adapter", model_dir, lora_task, config)
    else:
        trainer.save_model(str(model_dir))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(model_dir)
    trainer.accelerator.wait_for_everyone()


def _merge(adapter: Path, model_dir: Path, task: str, config: dict[str, Any]) -> None:
    from peft import AutoPeftModelForCausalLM, AutoPeftModelForSequenceClassification

    cls = AutoPeftModelForCausalLM if task == "causal" else AutoPeftModelForSequenceClassification
    model = cls.from_pretrained(adapter, dtype="auto", **config)
    model.merge_and_unload().save_pretrained(model_dir)


def lora_config(lora: dict[str, Any], task_type: str) -> Any:
    """A PEFT LoRA config from a config file's `lora: {r, alpha, dropout, target_modules}`."""
    from peft import LoraConfig

    return LoraConfig(task_type=task_type, r=lora.get("r", 8), lora_alpha=lora.get("alpha", 32),
                      lora_dropout=lora.get("dropout", 0.05),
                      target_modules=lora.get("target_modules", "all-linear"))


def fit(trainer: Any, out_dir: Path, rows: int, seed: int, cfg: BaseModel,
        base: str | Path) -> dict[str, Any]:
    """Train (resuming from the last checkpoint in out_dir/trainer) and return the metrics
    every phase reports: rows, steps, losses, seconds, seed, config, base."""
    if not show_progress():  # a log: plain lines instead of raw dicts
        from transformers import PrinterCallback

        trainer.remove_callback(PrinterCallback)
        trainer.add_callback(log_lines(phase_label(out_dir)))
    resume = _last_checkpoint(out_dir / "trainer")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # raised inside transformers on TRL's behalf, nothing a user of lamforge can change
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*",
                                category=FutureWarning)
        result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    seconds = time.perf_counter() - t0
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    return {"rows": rows, "steps": trainer.state.global_step,
            "train_loss": result.training_loss, "first_loss": losses[0] if losses else None,
            "last_loss": losses[-1] if losses else None, "seconds": round(seconds, 1),
            "resumed_from": str(resume) if resume else None, "seed": seed,
            "config": cfg.model_dump(), "base": str(base)}


def phase_label(out_dir: Path) -> str:
    """A phase's name in log lines: `lam2`, or `lam4/reward` for a part of a phase."""
    return out_dir.name if out_dir.name.startswith("lam") else \
        f"{out_dir.parent.name}/{out_dir.name}"


def write_metrics(out_dir: Path, metrics: dict[str, Any],
                  card: dict[str, Any] | None) -> dict[str, Any]:
    """metrics.json and the model card (README.md) of a phase's output directory."""
    from lamforge.train.launch import is_main

    if is_main():  # every process of a launch has the metrics; one writes them
        (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
        _model_card(out_dir, metrics, card or {})
    return metrics


def _last_checkpoint(trainer_dir: Path) -> Path | None:
    if not trainer_dir.is_dir():
        return None
    points = sorted(trainer_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    return points[-1] if points else None


def _model_card(out_dir: Path, metrics: dict[str, Any], card: dict[str, Any]) -> None:
    lines = [f"# {card.get('title', out_dir.name)}", "",
             card.get("summary", ""), "",
             "| | |", "|---|---|",
             f"| base | `{metrics['base']}` |",
             f"| data | {card.get('data', '')} ({metrics['rows']} rows) |",
             f"| steps | {metrics['steps']} |",
             f"| loss first → last | {metrics['first_loss']} → {metrics['last_loss']} |",
             f"| time | {metrics['seconds']} s |",
             f"| seed | {metrics['seed']} |", "",
             "Config:", "", "```json", json.dumps(metrics["config"], indent=2), "```", ""]
    (out_dir / "README.md").write_text("\n".join(lines))


PROMPT_FILE = "lamforge.json"
"""Beside a checkpoint: the prompt settings it was trained with (how many controls it saw,
how long its answers may be)."""
DEFAULT_TOP_K = 16
DEFAULT_ANSWER_TOKENS = 96


def _trained(model_dir: str | Path, key: str, default: int) -> int:
    path = Path(model_dir) / PROMPT_FILE
    if path.is_file():
        try:
            return int(json.loads(path.read_text())[key])
        except (ValueError, KeyError, TypeError):
            pass
    return default


def trained_top_k(model_dir: str | Path) -> int:
    """How many ranked controls the model saw per prompt in training; a prompt with another
    number is one it never saw (a tiny LAM then answers garbage). 16 if not recorded."""
    return _trained(model_dir, "controls_top_k", DEFAULT_TOP_K)


def trained_answer_tokens(model_dir: str | Path) -> int:
    """How many tokens an answer may take: the longest completion the model was trained on,
    with a margin (a function call with its arguments is longer than a click); 96 if not
    recorded. An answer cut short is no action at all."""
    return _trained(model_dir, "max_new_tokens", DEFAULT_ANSWER_TOKENS)


class Generator:
    """A saved checkpoint that completes prompts, greedy or sampled, in left-padded batches
    sorted by length (several times faster than one by one). Loaded once: the evaluation
    and phase 3's agent both ask it many times."""

    def __init__(self, model_dir: Path, worker: int = 0) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging

        logging.disable_progress_bar()  # a loading bar per model would bury the agent's output
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        # on a GPU machine worker i's copy goes to GPU i mod n (bf16); else the CPU
        gpus = torch.cuda.device_count()
        self.model = AutoModelForCausalLM.from_pretrained(
            model_dir, dtype=torch.bfloat16 if gpus else "auto")
        if gpus:
            self.model.to(f"cuda:{worker % gpus}")
        self.model.eval()
        self.answer_tokens = trained_answer_tokens(model_dir)

    def complete(self, prompts: list[str], max_new_tokens: int | None = None,
                 temperature: float = 0.0, batch_size: int = 32) -> list[str]:
        import torch

        max_new_tokens = self.answer_tokens if max_new_tokens is None else max_new_tokens

        sample = temperature > 0
        tok = self.tokenizer
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        out: list[str] = [""] * len(prompts)
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                chunk = order[start:start + batch_size]
                enc = tok([prompts[i] for i in chunk], return_tensors="pt",
                          padding=True).to(self.model.device)
                gen = self.model.generate(
                    **enc, max_new_tokens=max_new_tokens, do_sample=sample,
                    temperature=temperature if sample else None, top_k=0 if sample else None,
                    pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
                texts = tok.batch_decode(gen[:, enc["input_ids"].shape[1]:],
                                         skip_special_tokens=True)
                for i, text in zip(chunk, texts, strict=True):
                    out[i] = text
        return out


    def answer(self, prompt: str, max_new_tokens: int | None = None, temperature: float = 0.0,
               processors: list[Any] | None = None,
               stopping: list[Any] | None = None) -> tuple[str, int]:
        """One completion (the agent's step), optionally through logits processors (a
        constraint) and stopping criteria (a server's time bound and shutdown flag: a
        generation must be interruptible between tokens); returns the text and how many
        tokens were generated."""
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList

        max_new_tokens = self.answer_tokens if max_new_tokens is None else max_new_tokens

        sample = temperature > 0
        tok = self.tokenizer
        enc = tok([prompt], return_tensors="pt").to(self.model.device)
        with torch.no_grad():
            gen = self.model.generate(
                **enc, max_new_tokens=max_new_tokens, do_sample=sample,
                temperature=temperature if sample else None, top_k=0 if sample else None,
                pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                logits_processor=LogitsProcessorList(processors or []),
                stopping_criteria=StoppingCriteriaList(stopping or []))
        new = gen[0, enc["input_ids"].shape[1]:]
        return tok.decode(new, skip_special_tokens=True), int(new.shape[0])

    def prompt_length(self, prompt: str) -> int:
        return len(self.tokenizer(prompt)["input_ids"])


def generate(model_dir: Path, prompts: list[str], max_new_tokens: int | None = None,
             batch_size: int = 32) -> list[str]:
    """Greedy completions of `prompts` by a saved checkpoint (what the evaluation reads)."""
    return Generator(model_dir).complete(prompts, max_new_tokens, batch_size=batch_size)
