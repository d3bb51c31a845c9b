"""One client interface for every teacher role (evolve, prefill, filter, judge, expert).

`LLMClient.complete(messages) -> str` is all a role needs; `complete_json` adds JSON-mode
parsing with repair. `OpenAIClient` speaks the OpenAI chat-completions protocol over HTTP, so it
works with OpenAI, vLLM, Ollama and `lamforge serve` alike; it is built on the official `openai`
package (retries with back-off, time-outs) and `json-repair`. Calls that fail after the bounded
retries raise `LLMError` with one line saying what happened.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from lamforge.core import FatalError

Message = dict[str, str]
T = TypeVar("T")
R = TypeVar("R")


class LLMError(FatalError):
    """The model endpoint failed or kept answering with something unusable."""


class TruncatedAnswer(ValueError):
    """The model stopped at the token limit; its JSON is incomplete, so it is asked again."""


class LLMClient(Protocol):
    model: str

    def complete(self, messages: list[Message], *, json_mode: bool = False) -> str: ...


@dataclass
class LLMConfig:
    """Where and how to reach an OpenAI-compatible endpoint."""

    base_url: str = "http://127.0.0.1:8000/v1"
    api_key: str = ""
    model: str = "lamforge"
    temperature: float = 0.7
    max_tokens: int = 512
    timeout_s: float = 60.0
    retries: int = 3
    concurrency: int = 4
    json_attempts: int = 2
    """How many times to ask when an answer is not usable JSON even after repair."""
    seed: int | None = None
    """Sent with every request, for endpoints that support repeatable sampling."""

    def __post_init__(self) -> None:
        if self.retries < 0 or self.concurrency < 1 or self.json_attempts < 1:
            raise ValueError("retries must be >= 0, concurrency and json_attempts >= 1")
        if self.timeout_s <= 0:
            raise ValueError("timeout_s must be > 0")

    @classmethod
    def from_env(cls, **overrides: Any) -> LLMConfig:
        """Defaults from LAMFORGE_LLM_BASE_URL / _API_KEY / _MODEL, then explicit values."""
        cfg = cls(base_url=os.environ.get("LAMFORGE_LLM_BASE_URL", cls.base_url),
                  api_key=os.environ.get("LAMFORGE_LLM_API_KEY", os.environ.get(
                      "OPENAI_API_KEY", "")),
                  model=os.environ.get("LAMFORGE_LLM_MODEL", cls.model))
        for k, v in overrides.items():
            if v is not None:
                setattr(cfg, k, v)
        return cfg


class OpenAIClient:
    """Chat completions over HTTP with bounded retries and time-outs."""

    def __init__(self, config: LLMConfig) -> None:
        from openai import OpenAI

        self.config = config
        self.model = config.model
        self._client = OpenAI(base_url=config.base_url, api_key=config.api_key or "none",
                              timeout=config.timeout_s, max_retries=config.retries)
        self.last_usage: tuple[int, int] | None = None
        """(prompt, completion) tokens of the last answer, where the endpoint reports them."""

    def model_kind(self) -> str | None:
        """What `lamforge serve` says the model is (`generative` or `ranker`, its models
        list's `lamforge_kind`); None for any other endpoint or when it cannot tell."""
        try:
            for m in self._client.models.list():
                if m.id == self.model:
                    return (m.model_extra or {}).get("lamforge_kind")
        except Exception:  # not every endpoint lists models; the completion will say more
            return None
        return None

    def complete(self, messages: list[Message], *, json_mode: bool = False,
                 temperature: float | None = None) -> str:
        """One chat completion; `temperature` overrides the configured one for this call."""
        import openai

        kwargs: dict[str, Any] = {}
        if json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        if self.config.seed is not None:
            kwargs["seed"] = self.config.seed
        url = self.config.base_url
        try:
            resp = self._client.chat.completions.create(
                model=self.config.model, messages=messages,  # type: ignore[arg-type]
                temperature=self.config.temperature if temperature is None else temperature,
                max_tokens=self.config.max_tokens, **kwargs)
        except openai.APIConnectionError as e:
            raise LLMError(f"cannot reach {url} after {self.config.retries} retries "
                           f"({type(e).__name__}: {e})") from None
        except openai.APIStatusError as e:
            # the SDK retries 408, 409, 429 and 5xx; other answers are final at once
            retried = e.status_code in (408, 409, 429) or e.status_code >= 500
            how = f" after {self.config.retries} retries" if retried else ""
            raise LLMError(f"{url} answered HTTP {e.status_code}{how}: {str(e)[:200]}") from None
        except Exception as e:  # a 200 that is not a chat completion (HTML, cut-off JSON)
            raise LLMError(f"{url} sent an answer that is not a chat completion "
                           f"({type(e).__name__}: {str(e)[:120]})") from None
        choices = getattr(resp, "choices", None)
        if not choices or getattr(choices[0].message, "content", None) is None:
            raise LLMError(f"{url} sent an answer that is not a chat completion "
                           f"(no message content)")
        usage = getattr(resp, "usage", None)
        self.last_usage = (usage.prompt_tokens or 0, usage.completion_tokens or 0) if usage \
            else None
        if json_mode and choices[0].finish_reason == "length":
            # repair would turn a cut-off answer into a plausible but partial record
            raise TruncatedAnswer(f"answer cut off at max_tokens={self.config.max_tokens}")
        return choices[0].message.content


def parse_json(text: str) -> Any:
    """Parse a model's JSON answer, repairing fences, trailing commas, quotes and truncation."""
    stripped = text.strip()
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        pass
    from json_repair import repair_json

    repaired = repair_json(stripped, return_objects=True)
    if repaired in ("", None, [], {}) and stripped not in ("[]", "{}"):
        raise ValueError(f"not JSON: {stripped[:80]!r}")
    return repaired


def complete_json(client: LLMClient, messages: list[Message], *,
                  validate: Callable[[Any], T] | None = None, attempts: int = 2) -> T:
    """Ask for JSON; repair it; validate it; ask again (bounded) when it is unusable."""
    last = ""
    asked = list(messages)
    for _ in range(max(1, attempts)):
        try:
            text = client.complete(asked, json_mode=True)
        except TruncatedAnswer as e:
            last = str(e)
            continue
        try:
            data = parse_json(text)
            return validate(data) if validate else data
        except (ValueError, TypeError, KeyError) as e:
            last = f"{type(e).__name__}: {e}"
            # ask again with what was wrong, so a model (even with a fixed seed) can correct it
            asked = [*messages, {"role": "assistant", "content": text},
                     {"role": "user", "content": f"That answer is not usable ({last}). Answer "
                                                 "again with JSON only."}]
    raise LLMError(f"model '{client.model}' gave no usable JSON in {attempts} attempt(s): {last}")


def map_concurrent(fn: Callable[[T], R], items: Iterable[T], concurrency: int,
                   on_done: Callable[[], None] | None = None) -> list[R]:
    """Apply fn to items with up to `concurrency` requests in flight, keeping input order.

    The first error stops the batch (no more requests are started) and is raised.
    """
    def run(x: T) -> R:
        out = fn(x)
        if on_done:
            on_done()
        return out

    items = list(items)
    if concurrency <= 1 or len(items) <= 1:
        return [run(x) for x in items]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(run, x) for x in items]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in futures if f in done and f.exception() is not None), None)
        if failed is not None:
            for f in pending:
                f.cancel()
            raise failed.exception()  # type: ignore[misc]
        return [f.result() for f in futures]
