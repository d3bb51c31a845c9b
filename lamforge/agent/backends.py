"""Backends: what turns a step's context into the model's answer, behind one interface.

- `HFBackend`: a local checkpoint (the LAMs from `lamforge train`), greedy by default,
  optionally with constrained decoding (`lamforge.agent.constrained`);
- `OpenAIBackend`: any OpenAI-compatible endpoint (vLLM, Ollama, OpenAI, `lamforge serve`)
  through the project's `LLMClient`;
- `RankerBackend`: a ranker LAM (`lamforge.ranker`): it chooses among the environment's
  candidate actions (the CPU LAM);
- `RuleBackend`: the baseline: follow the plan's words when there is a plan, else select the
  request's quoted text and click the control whose name is most similar to the request by the
  offline MiniLM sentence embeddings, then finish.

A backend answers text; parsing, validation and grounding are the action layer's, the same
for all, so backends differ only in how they think.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from lamforge.agent.context import StepContext
from lamforge.core import FatalError, StepSample
from lamforge.envs.match import normalize
from lamforge.train.formats import plan_prompt

log = logging.getLogger(__name__)

RETRY_TEMPERATURE = 0.7
"""A retry after a malformed or invalid answer samples, so it can differ from the first."""


@dataclass
class Answer:
    text: str
    seconds: float
    tokens: int = 0
    """Tokens generated (0 where the backend cannot tell)."""
    tokens_in: int = 0
    """Tokens of the prompt the model read (0 where the backend cannot tell)."""


class Backend(Protocol):
    name: str

    def act(self, ctx: StepContext, retry: int = 0) -> Answer:
        """The model's answer (one JSON action) for this step; `retry` > 0 after a rejection."""
        ...

    def plan(self, request: str) -> list[str] | None:
        """A plan for the request, or None if this backend does not plan."""
        ...


class HFBackend:
    """A saved Hugging Face causal LM, loaded once."""

    def __init__(self, model_dir: str | Path, *, constrained: bool = False,
                 temperature: float = 0.0, max_new_tokens: int | None = None) -> None:
        from lamforge.train.sft import Generator

        path = Path(model_dir)
        if not path.is_dir():
            raise FatalError(f"model '{model_dir}' does not exist (expected a directory saved by "
                             "`lamforge train`, 'rules', or --endpoint URL)")
        if not (path / "config.json").is_file():
            raise FatalError(f"'{model_dir}' is not a saved model (no config.json in it)")
        from lamforge.train.sft import trained_top_k

        self.name = str(path)
        self.top_k = trained_top_k(path)
        """Controls per prompt, as in training (the agent's default)."""
        self.constrained = constrained
        self._open_grammars: set[tuple[str, ...]] = set()
        self.temperature = temperature
        self.max_new_tokens = max_new_tokens
        try:
            self.generator = Generator(path)
        except Exception as e:  # a broken checkpoint: one line, not a transformers traceback
            raise FatalError(f"cannot load the model in '{model_dir}': {type(e).__name__}: "
                             f"{str(e).splitlines()[0] if str(e) else ''}") from None

    def act(self, ctx: StepContext, retry: int = 0) -> Answer:
        temperature = self.temperature if retry == 0 else max(self.temperature,
                                                              RETRY_TEMPERATURE)
        tokens_in = self.generator.prompt_length(ctx.prompt)
        processors = [self._constraint(ctx, tokens_in)] if self.constrained else []
        t0 = time.perf_counter()
        text, tokens = self.generator.answer(ctx.prompt, self.max_new_tokens, temperature,
                                             processors)
        return Answer(text=text, seconds=time.perf_counter() - t0, tokens=tokens,
                      tokens_in=tokens_in)

    def _constraint(self, ctx: StepContext, start: int) -> Any:
        """The step's grammar; if a function's own argument schema cannot be compiled (a
        look-ahead pattern), that step's calls take any JSON object as arguments — the
        environment still validates them — and the reason is logged once per function set."""
        from lamforge.agent.constrained import JsonConstraint, action_schema, open_calls

        schema = action_schema(ctx.functions, ctx.labels, ctx.arg_schemas,
                               {c["label"]: c["name"] for c in ctx.shown})
        try:
            return JsonConstraint(self.generator.tokenizer, schema, start)
        except ValueError as e:
            key = tuple(sorted(ctx.arg_schemas))
            if key not in self._open_grammars:
                self._open_grammars.add(key)
                log.warning("constrained decoding: the functions' argument schemas do not "
                            "compile (%s); their arguments are left open", e)
            return JsonConstraint(self.generator.tokenizer, open_calls(schema), start)

    def plan(self, request: str) -> list[str] | None:
        """The phase-1 skill: a LAM1 writes a plan; a later LAM may have lost it, so an
        answer that does not look like a plan is ignored."""
        text, _ = self.generator.answer(plan_prompt(request), 128)
        return parse_plan(text)


class RankerBackend:
    """A ranker LAM (`lamforge.ranker`): it chooses one of the environment's candidate actions
    for the step instead of writing one. A retry after a rejected answer takes the next best
    candidate. It keeps the whole plan in view (its answers advance nothing): it reads from
    what was done how far it is, as in training. A request without a plan gets the closest
    plan it knows, when it was trained with plans (phase 1)."""

    def __init__(self, model_dir: str | Path, temperature: float = 0.0) -> None:
        import random

        from lamforge.ranker.model import Ranker

        self.ranker = Ranker(model_dir)
        self.name = str(model_dir)
        self.top_k = None  # every control is a candidate
        self.temperature = temperature
        """0: the best candidate; above: sampled from the policy (phase 3's exploration)."""
        self.rng = random.Random(0)

    def act(self, ctx: StepContext, retry: int = 0) -> Answer:
        t0 = time.perf_counter()
        choice, _ = self.ranker.decide(rank_state(ctx), self.temperature, self.rng, rank=retry)
        return Answer(text=json.dumps(choice.answer()), seconds=time.perf_counter() - t0)

    def plan(self, request: str) -> list[str] | None:
        return self.ranker.plan(request)


def rank_state(ctx: StepContext) -> Any:
    """The step as a ranker reads it, here or behind `lamforge serve` (its prompt)."""
    from lamforge.ranker.state import RankState

    return RankState(request=ctx.request, controls=ctx.observation.controls,
                     previous=ctx.previous, plan=ctx.plan, canvas=ctx.observation.canvas,
                     focus=ctx.observation.focus)


def parse_plan(text: str) -> list[str] | None:
    """Plan steps from 'step | step | …', or None if the text is not a plan."""
    steps = [s.strip() for s in text.strip().split(" | ")]
    if not steps or any(not s or "{" in s or ('"' in s and ":" in s) for s in steps):
        return None
    return steps


class OpenAIBackend:
    """An OpenAI-compatible chat endpoint. The LAM's prompt is the user message; a system
    message explains the answer format to a general model (a LAM ignores it)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.name = f"{client.config.base_url}#{client.model}"
        self._kind: str | None = None

    @property
    def kind(self) -> str:
        """`ranker` when the endpoint is `lamforge serve` of a ranker LAM (it then reads the
        step's rank state, not the text prompt), else `generative`; asked once."""
        if self._kind is None:
            ask = getattr(self.client, "model_kind", None)
            self._kind = (ask() if ask else None) or "generative"
        return self._kind

    def _system(self, ctx: StepContext) -> str:
        functions = "\n".join(f"- {s.name}: {s.description} args: {json.dumps(s.args)}"
                              for s in ctx.functions)
        return ("You operate an application for the user. Answer with one JSON object: "
                '{"control_label": label or null, "control_name": name or null, "function": '
                '..., "args": {...}, "status": "CONTINUE" or "FINISH", "advance": number of '
                "plan steps this action completes}. Functions:\n" + functions)

    def act(self, ctx: StepContext, retry: int = 0) -> Answer:
        if self.kind == "ranker":
            t0 = time.perf_counter()
            prompt = rank_state(ctx).to_prompt(rank=retry)  # a retry: the next best
            text = self.client.complete([{"role": "user", "content": prompt}], temperature=0.0)
            return Answer(text=text, seconds=time.perf_counter() - t0)
        prompt = ctx.prompt
        if ctx.feedback:  # said before the final "Action:", so the prompt still ends with it
            head, _, tail = prompt.rpartition("\nAction:")
            prompt = f"{head}\nYour last answer was rejected: {ctx.feedback}\nAction:{tail}"
        messages = [{"role": "system", "content": self._system(ctx)},
                    {"role": "user", "content": prompt}]
        t0 = time.perf_counter()
        text = self.client.complete(messages, temperature=None if retry == 0 else
                                    RETRY_TEMPERATURE)
        usage = getattr(self.client, "last_usage", None) or (0, 0)
        return Answer(text=text, seconds=time.perf_counter() - t0, tokens=usage[1],
                      tokens_in=usage[0])

    def plan(self, request: str) -> list[str] | None:
        messages = [{"role": "user", "content": plan_prompt(request)}]
        return parse_plan(self.client.complete(messages))


class RuleBackend:
    """The rule baseline (no model weights but the offline MiniLM embeddings)."""

    name = "rules"

    def __init__(self) -> None:
        self._model: Any = None
        self._vectors: dict[str, Any] = {}

    def _embed(self, texts: list[str]) -> list[Any]:
        from lamforge.dataflow.select import load_minilm

        if self._model is None:
            self._model = load_minilm()
        todo = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if todo:
            for t, v in zip(todo, self._model.encode(todo, normalize_embeddings=True),
                            strict=True):
                self._vectors[t] = v
        return [self._vectors[t] for t in texts]

    def act(self, ctx: StepContext, retry: int = 0) -> Answer:
        t0 = time.perf_counter()
        answer = self._choose(ctx, retry)
        return Answer(text=json.dumps(answer), seconds=time.perf_counter() - t0)

    def _choose(self, ctx: StepContext, retry: int) -> dict[str, Any]:
        from lamforge.envs.grounding import request_values
        from lamforge.eval.baseline import rule_action

        functions = {f.name for f in ctx.functions}
        if "click" not in functions:
            raise FatalError("the rules baseline clicks controls, and this environment has no "
                             f"click (its actions: {', '.join(sorted(functions))}); use a "
                             "trained model or one served at --endpoint")
        selects = "select_text" in functions  # Writer's; a web page or Calc has none
        quoted, _ = request_values(ctx.request) if selects else ([], None)
        done = [a for a in ctx.previous if a["ok"]]
        if ctx.plan:
            sample = StepSample(id="live", task_id="live", step=len(ctx.previous),
                                request=ctx.request, controls=ctx.observation.controls,
                                previous_actions=ctx.previous, previous_plan=ctx.plan,
                                function="")
            answer = rule_action(sample, len(ctx.shown))
            if answer["function"] != "select_text" or selects:
                if answer["function"] == "select_text":
                    answer["args"] = {"text": quoted[0]} if quoted else {}
                answer["advance"] = 1
                return answer
        if quoted and not any(a["function"] == "select_text" for a in done):
            return {"control_label": None, "control_name": None, "function": "select_text",
                    "args": {"text": quoted[0]}, "status": "CONTINUE", "advance": 0}
        tried = {a["control_name"] for a in ctx.previous}
        candidates = [c for c in ctx.observation.controls if c.enabled and c.name not in tried]
        if any(a["function"] == "click" for a in done) or not candidates:
            return {"control_label": None, "control_name": None, "function": "finish",
                    "args": {}, "status": "FINISH", "advance": 0}
        request = self._embed([_strip_quotes(ctx.request)])[0]
        names = self._embed([normalize(c.name) or c.name for c in candidates])
        scores = [float(request @ v) for v in names]
        best = candidates[max(range(len(candidates)), key=scores.__getitem__)]
        return {"control_label": best.label, "control_name": best.name, "function": "click",
                "args": {}, "status": "CONTINUE", "advance": 0}

    def plan(self, request: str) -> list[str] | None:
        return None


class ReplayBackend:
    """A task's own known-correct actions (the expert's), answered one per step as a model
    would answer them. Run through the agent, it measures the harness rather than a model:
    what grounding, validation, policy and the checks let through when every answer is right
    (`lamforge eval online --model expert`)."""

    name = "expert"

    def __init__(self, actions: list[Any]) -> None:
        if not actions:
            raise FatalError("the expert replay needs tasks with actions (known-correct "
                             "action lists)")
        self.actions = list(actions)
        self.next = 0

    def act(self, ctx: StepContext, retry: int = 0) -> Answer:
        from lamforge.envs.match import match_control

        t0 = time.perf_counter()
        action = self.actions[min(self.next, len(self.actions) - 1)]
        self.next += 1
        label = action.control_label
        if action.control_text:
            control = match_control(action.control_text, ctx.observation.controls, "exact")
            label = control.label if control else None
        answer = {"control_label": label, "control_name": action.control_text,
                  "function": action.function, "args": action.args,
                  "status": "FINISH" if action.function == "finish" else "CONTINUE",
                  "advance": 0}
        return Answer(text=json.dumps(answer), seconds=time.perf_counter() - t0)

    def plan(self, request: str) -> list[str] | None:
        return None


def _strip_quotes(request: str) -> str:
    """The request without its quoted texts: 'Make "quick" bold' is about bold, not quick."""
    import re

    return re.sub(r"'[^']*'|\"[^\"]*\"", "", request)


def load_backend(model: str, *, endpoint: str | None = None, constrained: bool = False,
                 timeout_s: float = 60.0, retries: int = 2,
                 api_key: str | None = None) -> Backend:
    """`rules`, a local checkpoint directory, or (with `endpoint`) a model name served by an
    OpenAI-compatible endpoint (`api_key`: its key; else LAMFORGE_LLM_API_KEY or
    OPENAI_API_KEY)."""
    if endpoint:
        from lamforge.llm.client import LLMConfig, OpenAIClient

        config = LLMConfig.from_env(base_url=endpoint, model=model, temperature=0.0,
                                    timeout_s=timeout_s, retries=retries, max_tokens=256,
                                    api_key=api_key or None)
        return OpenAIBackend(OpenAIClient(config))
    if model == "rules":
        return RuleBackend()
    from lamforge.ranker.model import is_ranker

    if is_ranker(model):
        return RankerBackend(model)
    return HFBackend(model, constrained=constrained)
