"""Training throughput of the tiny preset: TRL's SFTTrainer vs a plain PyTorch loop.

    .venv/bin/python benchmarks/train_throughput.py --samples runs/flow/samples/train.jsonl \
        [--rows 400] [--steps 40] [--json benchmarks/results/train_throughput.json]

Both train the same freshly initialised tiny model (same seed, same rows, batch size, learning
rate, sequence length, loss on completion tokens only) for the same number of steps; tokens/s
counts the tokens of the batches (padding excluded). Target (issue 5): TRL overhead < 15%.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lamforge.core import StepSample, read_jsonl
from lamforge.train.formats import step_completion, step_prompt, with_target
from lamforge.train.sft import PhaseConfig, train_sft
from lamforge.train.tiny import TinySpec, build_tiny


def plain_loop(base: Path, rows: list[dict[str, str]], steps: int, batch: int, lr: float,
               max_length: int) -> tuple[float, int]:
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
    tokens, t0 = 0, time.perf_counter()
    for step in range(steps):
        chunk = [examples[(step * batch + i) % len(examples)] for i in range(batch)]
        width = max(len(ids) for ids, _ in chunk)
        ids = torch.tensor([x + [tok.pad_token_id] * (width - len(x)) for x, _ in chunk])
        labels = torch.tensor([y + [-100] * (width - len(y)) for _, y in chunk])
        mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x, _ in chunk])
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        tokens += int(mask.sum())
    return time.perf_counter() - t0, tokens


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=Path, required=True)
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/train_throughput.json"))
    args = ap.parse_args()
    samples = read_jsonl(args.samples, StepSample)[: args.rows]
    rows = [{"prompt": step_prompt(s, controls=with_target(s, 16)),
             "completion": step_completion(s)} for s in samples]
    work = Path(tempfile.mkdtemp())
    spec = TinySpec(vocab_size=2000, hidden_size=192, layers=3, heads=6)
    base = build_tiny([r["prompt"] + r["completion"] for r in rows], work / "base", spec)
    batch, lr, max_length = 16, 2e-3, 512
    cfg = PhaseConfig(max_steps=args.steps, lr=lr, batch_size=batch, max_length=max_length,
                      scheduler="constant", logging_steps=args.steps, save_steps=10**6)
    t0 = time.perf_counter()
    metrics = train_sft(base, rows, work / "trl", cfg)
    trl_wall = time.perf_counter() - t0  # includes tokenising the dataset and saving
    trl_train = metrics["seconds"]
    plain_s, plain_tokens = plain_loop(base, rows, args.steps, batch, lr, max_length)
    trl_tokens = int(metrics["tokens"] or plain_tokens)  # TRL's count of the batches' tokens
    out = {"date": date.today().isoformat(), "steps": args.steps, "batch": batch,
           "rows": len(rows), "trl": {"train_s": trl_train, "wall_s": round(trl_wall, 1),
                                      "tokens": trl_tokens,
                                      "tokens_per_s": round(trl_tokens / trl_train, 1)},
           "plain": {"train_s": round(plain_s, 1), "tokens": plain_tokens,
                     "tokens_per_s": round(plain_tokens / plain_s, 1)}}
    out["trl_overhead"] = round(1 - out["trl"]["tokens_per_s"] / out["plain"]["tokens_per_s"], 3)
    table = Table("loop", "steps", "train s", "tokens", "tokens/s")
    for name in ("trl", "plain"):
        r = out[name]
        table.add_row(name, str(args.steps), f"{r['train_s']:.1f}", str(r["tokens"]),
                      f"{r['tokens_per_s']:.0f}")
    Console().print(table)
    Console().print(f"TRL overhead: {out['trl_overhead']:.1%} (target < 15%)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
