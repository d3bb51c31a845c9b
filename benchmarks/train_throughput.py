"""Training throughput of the tiny preset: TRL's SFTTrainer vs a plain PyTorch loop.

    .venv/bin/python benchmarks/train_throughput.py --samples runs/flow/samples/train.jsonl \
        [--rows 400] [--steps 60] [--warmup 5] [--repeat 2] \
        [--json benchmarks/results/train_throughput.json]

Both train the same freshly initialised tiny model on the same batches (the rows in order,
`train_sampling_strategy="sequential"` for TRL), with the same learning rate, sequence length,
loss on completion tokens only and gradient clipping at 1.0 (the Trainer's default, so the
plain loop does it too). Throughput is steady-state: tokens (padding excluded) per second
between the end of step `--warmup` and the end of the last step, so start-up (building the
trainer, tokenising the dataset, the first steps' allocations) is reported apart as wall time.
Target (issue 5): TRL overhead < 15%.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table
from scratch import scratch_dir

from lamforge.core import StepSample, read_jsonl
from lamforge.train.formats import step_completion, step_prompt, with_target
from lamforge.train.sft import PhaseConfig, train_sft
from lamforge.train.tiny import TinySpec, build_tiny


def batch_tokens(base: Path, rows: list[dict[str, str]], steps: int, batch: int,
                 max_length: int) -> list[int]:
    """Tokens (without padding) of each step's batch: the rows in order, as both loops see them."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(base)
    lengths = [min(max_length, len(tok(r["prompt"])["input_ids"]) +
                   len(tok(r["completion"])["input_ids"]) + 1) for r in rows]
    return [sum(lengths[(s * batch + i) % len(rows)] for i in range(batch)) for s in range(steps)]


class StepClock:
    """A TrainerCallback that notes when each optimizer step ends."""

    def __init__(self) -> None:
        from transformers import TrainerCallback

        clock = self

        class _Callback(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                clock.ends.append(time.perf_counter())

        self.ends: list[float] = []
        self.callback = _Callback()


def steady(ends: list[float], tokens: list[int], warmup: int) -> tuple[float, int]:
    """Seconds and tokens from the end of step `warmup` to the end of the last step."""
    return ends[-1] - ends[warmup - 1], sum(tokens[warmup:len(ends)])


def plain_loop(base: Path, rows: list[dict[str, str]], steps: int, batch: int, lr: float,
               max_length: int) -> list[float]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    examples = []
    for r in rows:
        p = tok(r["prompt"])["input_ids"]
        c = tok(r["completion"])["input_ids"] + [tok.eos_token_id]
        ids = (p + c)[:max_length]
        labels = ([-100] * len(p) + c)[:max_length]
        examples.append((ids, labels))
    ends = []
    for step in range(steps):
        chunk = [examples[(step * batch + i) % len(examples)] for i in range(batch)]
        width = max(len(ids) for ids, _ in chunk)
        ids = torch.tensor([x + [tok.pad_token_id] * (width - len(x)) for x, _ in chunk])
        labels = torch.tensor([y + [-100] * (width - len(y)) for _, y in chunk])
        mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x, _ in chunk])
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        ends.append(time.perf_counter())
    return ends


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=Path, required=True)
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=2, help="alternating runs of each loop")
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/train_throughput.json"))
    args = ap.parse_args()
    samples = read_jsonl(args.samples, StepSample)[: args.rows]
    rows = [{"prompt": step_prompt(s, controls=with_target(s, 16)),
             "completion": step_completion(s)} for s in samples]
    work = scratch_dir()
    spec = TinySpec(vocab_size=2000, hidden_size=192, layers=3, heads=6)
    base = build_tiny([r["prompt"] + r["completion"] for r in rows], work / "base", spec)
    batch, lr, max_length = 16, 2e-3, 512
    tokens = batch_tokens(base, rows, args.steps, batch, max_length)
    cfg = PhaseConfig(max_steps=args.steps, lr=lr, batch_size=batch, max_length=max_length,
                      scheduler="constant", logging_steps=args.steps, save_steps=10**6,
                      sampling="sequential")
    runs: dict[str, list[dict]] = {"trl": [], "plain": []}
    for r in range(args.repeat):
        for name in ("plain", "trl") if r % 2 == 0 else ("trl", "plain"):
            t0 = time.perf_counter()
            if name == "trl":
                clock = StepClock()
                train_sft(base, rows, work / f"trl{r}", cfg, callbacks=[clock.callback])
                ends = clock.ends
            else:
                ends = plain_loop(base, rows, args.steps, batch, lr, max_length)
            seconds, n = steady(ends, tokens, args.warmup)
            runs[name].append({"steady_s": round(seconds, 2), "tokens": n,
                               "tokens_per_s": round(n / seconds, 1),
                               "wall_s": round(time.perf_counter() - t0, 1)})
    out = {"date": date.today().isoformat(), "steps": args.steps, "warmup": args.warmup,
           "batch": batch, "rows": len(rows), "runs": runs}
    for name, rs in runs.items():
        out[name] = {"tokens_per_s": round(sum(r["tokens_per_s"] for r in rs) / len(rs), 1),
                     "wall_s": round(sum(r["wall_s"] for r in rs) / len(rs), 1)}
    out["trl_overhead"] = round(1 - out["trl"]["tokens_per_s"] / out["plain"]["tokens_per_s"], 3)
    table = Table("loop", "runs", f"steady steps ({args.warmup + 1}-{args.steps})",
                  "tokens/s (mean)", "wall s per run (incl. start-up)")
    for name in ("trl", "plain"):
        table.add_row(name, str(len(runs[name])), str(args.steps - args.warmup),
                      f"{out[name]['tokens_per_s']:.0f}", f"{out[name]['wall_s']:.1f}")
    Console().print(table)
    Console().print(f"TRL overhead: {out['trl_overhead']:.1%} (target < 15%)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
