"""Training a ranker on states and their candidates: a listwise loss under HF's `Trainer`.

Each example is one state: its context text, its candidates' texts, and a target
distribution over them (one-hot on the expert's action for imitation; the improved policy's
probabilities in phase 4). The loss is the cross-entropy between the target and the softmax
of scale × cosine over the state's own candidates only: another state's candidates are not
negatives here, since "click OK" is right in one state and wrong in the next.

A batch encodes each distinct candidate text once (menus, buttons and shortcuts repeat across
the states of a batch), then gathers them per state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lamforge.ranker.state import CANDIDATE_TOKENS, CONTEXT_TOKENS

CHUNK = 128
"""Candidate texts encoded together (sorted by length, so each chunk pads little)."""


def _module(encoder: Any, scale: float) -> Any:
    import torch
    from torch import nn

    class ListwiseRanker(nn.Module):
        """The encoder and the listwise loss, as HF's Trainer wants a model: `forward(**batch)`
        returns the loss."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.scale = scale

        def _embed(self, features: dict[str, Any]) -> Any:
            return self.encoder(features)["sentence_embedding"]

        def forward(self, context: dict[str, Any], candidates: list[dict[str, Any]],
                    index: Any, target: Any) -> dict[str, Any]:
            ctx = self._embed(context)                      # [B, d], normalized
            cand = torch.cat([self._embed(c) for c in candidates])   # [U, d]
            mask = index >= 0
            gathered = cand[index.clamp(min=0)]             # [B, K, d]
            logits = torch.einsum("bd,bkd->bk", ctx, gathered) * self.scale
            logits = logits.masked_fill(~mask, float("-inf"))
            logp = torch.log_softmax(logits, dim=-1).masked_fill(~mask, 0.0)
            loss = -(target * logp).sum(-1).mean()
            return {"loss": loss, "logits": logits}

    return ListwiseRanker()


@dataclass
class Collator:
    """Rows {context, candidates, target} → tokenized contexts, distinct candidate texts and
    the index of each state's candidates among them."""

    tokenizer: Any

    def _tok(self, texts: list[str], limit: int) -> dict[str, Any]:
        return dict(self.tokenizer(texts, padding=True, truncation=True, max_length=limit,
                                   return_tensors="pt"))

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        # distinct candidate texts, shortest first, encoded in chunks of similar length (one
        # padding width for 700 texts wasted a third of the work)
        texts = sorted({t for r in rows for t in r["candidates"]},
                       key=lambda t: (len(self.tokenizer.tokenize(t)), t))
        position = {t: i for i, t in enumerate(texts)}
        width = max(len(r["candidates"]) for r in rows)
        index = torch.full((len(rows), width), -1, dtype=torch.long)
        target = torch.zeros((len(rows), width))
        for i, r in enumerate(rows):
            for j, (text, t) in enumerate(zip(r["candidates"], r["target"], strict=True)):
                index[i, j] = position[text]
                target[i, j] = t
        chunks = [self._tok(texts[k:k + CHUNK], CANDIDATE_TOKENS)
                  for k in range(0, len(texts), CHUNK)]
        return {"context": self._tok([r["context"] for r in rows], CONTEXT_TOKENS),
                "candidates": chunks, "index": index, "target": target}


def freeze_bottom(encoder: Any, layers: int) -> None:
    """Freeze the embeddings and the first `layers` transformer layers: the top layers learn
    the task (a step costs a fifth less, as nothing flows back through the bottom)."""
    if layers <= 0:
        return
    model = encoder[0].auto_model
    for p in model.embeddings.parameters():
        p.requires_grad = False
    for layer in model.encoder.layer[:layers]:
        for p in layer.parameters():
            p.requires_grad = False


def training_args(kind: Any, out_dir: Any, p: Any, seed: int, **extra: Any) -> Any:
    """A phase's trainer arguments (`kind`: transformers' or sentence-transformers' class)
    from its config `p`: the schedule, logging and checkpoints every ranker phase shares,
    bf16 where the CPU has it, no bars in a log."""
    import torch

    from lamforge.train.sft import bf16_ok, show_progress

    return kind(output_dir=str(out_dir / "trainer"), num_train_epochs=p.epochs,
                max_steps=p.max_steps, learning_rate=p.lr, lr_scheduler_type=p.scheduler,
                warmup_steps=p.warmup_steps, per_device_train_batch_size=p.batch_size,
                logging_steps=p.logging_steps, save_steps=p.save_steps, save_total_limit=1,
                seed=seed, report_to=[], use_cpu=not torch.cuda.is_available(), bf16=bf16_ok(),
                disable_tqdm=not show_progress(), **extra)


def train_listwise(encoder: Any, rows: list[dict[str, Any]], out_dir: Any, cfg: Any,
                   seed: int, scale: float, base: str, freeze: int = 0) -> dict[str, Any]:
    """Fine-tune `encoder` on `rows` with the listwise loss (HF Trainer: schedule, logging,
    checkpoints and resumption as every phase has them); returns the phase's metrics.
    `freeze`: bottom layers left as they are (`freeze_bottom`)."""
    from datasets import Dataset
    from transformers import Trainer, TrainingArguments

    from lamforge.train.sft import fit

    freeze_bottom(encoder, freeze)

    args = training_args(TrainingArguments, out_dir, cfg, seed, dataloader_num_workers=0,
                         remove_unused_columns=False)
    trainer = Trainer(model=_module(encoder, scale), args=args,
                      train_dataset=Dataset.from_list(rows),
                      data_collator=Collator(encoder.tokenizer))
    return fit(trainer, out_dir, len(rows), seed, cfg, base)
