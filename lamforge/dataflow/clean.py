"""Pre-processing of mined pairs, as in the paper: filter, normalise, deduplicate.

Filters drop non-English, too short or too long, and non-actionable pairs, each with a reason
that is counted in the report. Deduplication removes exact duplicates (same normalised task and
plan) and near duplicates (MinHash LSH over word shingles of task + plan, `datasketch`), within
one app: the first pair in input order is kept, so the result is deterministic.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from lamforge.core import TaskPlan

ACTION_VERBS = re.compile(
    r"\b(choose|click|select|enter|type|press|drag|open|insert|right-click|double-click|set|"
    r"go to|check|clear|mark|specify|apply|move|place|position|switch|use|hold down|release|"
    r"delete|remove|add|change|edit|save|close|scroll|point|drop|copy|paste|cut|rename|"
    r"create|define|format|assign|activate|deactivate|enable|disable|expand|open|call)\b",
    re.IGNORECASE)
_EN_STOP = {"the", "a", "an", "to", "of", "and", "in", "on", "you", "that", "is", "for", "with",
            "or", "then", "click", "choose", "select", "want", "your", "this", "from", "by"}


@dataclass
class CleanConfig:
    min_task_words: int = 2
    max_task_words: int = 30
    max_steps: int = 12
    max_step_words: int = 60
    near_dup_threshold: float = 0.85
    num_perm: int = 128
    seed: int = 1


@dataclass
class CleanReport:
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    exact_duplicates: int = 0
    near_duplicates: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"kept": self.kept, "dropped": dict(self.dropped),
                "exact_duplicates": self.exact_duplicates,
                "near_duplicates": self.near_duplicates}


def normalise(pair: TaskPlan) -> TaskPlan:
    """Unify whitespace, quotes and sentence punctuation of task and steps."""
    def tidy(s: str) -> str:
        s = re.sub(r"\s+", " ", s.replace("\u00a0", " ")).strip()
        s = s.replace("“", '"').replace("”", '"').replace("’", "'").replace(" .", ".")
        return s

    task = tidy(pair.task).rstrip(".:;")
    steps = []
    for step in pair.plan:
        step = tidy(step)
        if step and step[-1] not in ".!?:":
            step += "."
        if step:
            steps.append(step[:1].upper() + step[1:])
    return pair.model_copy(update={"task": task, "plan": steps})


def is_english(text: str) -> bool:
    """langdetect (seeded) on the whole pair, with an English stop-word fallback for short text."""
    letters = [c for c in text if c.isalpha()]
    if not letters or sum(c.isascii() for c in letters) / len(letters) < 0.9:
        return False
    words = re.findall(r"[a-z']+", text.lower())
    if len(words) >= 5 and sum(w in _EN_STOP for w in words) / len(words) >= 0.1:
        return True  # plainly English: skip the (slow) statistical detector
    from langdetect import DetectorFactory, LangDetectException, detect

    DetectorFactory.seed = 0
    try:
        return detect(text) == "en"
    except LangDetectException:
        return False


def reject_reason(pair: TaskPlan, cfg: CleanConfig) -> str | None:
    words = pair.task.split()
    if len(words) < cfg.min_task_words:
        return "task too short"
    if len(words) > cfg.max_task_words:
        return "task too long"
    if not pair.plan:
        return "empty plan"
    if len(pair.plan) > cfg.max_steps:
        return "plan too long"
    if any(len(s.split()) > cfg.max_step_words for s in pair.plan):
        return "step too long"
    if not is_english(pair.task + ". " + " ".join(pair.plan)):
        return "not English"
    if pair.task.endswith("?"):
        return "not actionable (a question)"
    if not any(ACTION_VERBS.search(s) for s in pair.plan):
        return "not actionable (no action in the plan)"
    return None


def _key(pair: TaskPlan) -> str:
    text = pair.app + "\n" + pair.task.lower() + "\n" + "\n".join(s.lower() for s in pair.plan)
    return hashlib.sha1(re.sub(r"\W+", " ", text).encode()).hexdigest()


def _shingles(pair: TaskPlan, n: int = 5) -> set[bytes]:
    """Character n-grams of the normalised text: robust for short texts, where one added
    word would change most word shingles."""
    text = " ".join(re.findall(r"\w+", (pair.task + " " + " ".join(pair.plan)).lower()))
    if len(text) <= n:
        return {text.encode()}
    return {text[i:i + n].encode() for i in range(len(text) - n + 1)}


def _jaccard(a: set[bytes], b: set[bytes]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def clean(pairs: Iterable[TaskPlan], cfg: CleanConfig | None = None,
          report: CleanReport | None = None) -> list[TaskPlan]:
    from datasketch import MinHash, MinHashLSH

    cfg = cfg or CleanConfig()
    report = report or CleanReport()
    seen: set[str] = set()
    lsh: dict[str, MinHashLSH] = {}
    shingles: dict[str, set[bytes]] = {}
    kept: list[TaskPlan] = []
    for raw in pairs:
        pair = normalise(raw)
        reason = reject_reason(pair, cfg)
        if reason:
            report.dropped[reason] += 1
            continue
        key = _key(pair)
        if key in seen:
            report.exact_duplicates += 1
            continue
        seen.add(key)
        grams = _shingles(pair)
        mh = MinHash(num_perm=cfg.num_perm, seed=cfg.seed)
        mh.update_batch(list(grams))
        if pair.app not in lsh:
            # a lower LSH threshold than the decision one, so few true near duplicates are
            # missed; the exact check below removes the extra candidates
            lsh[pair.app] = MinHashLSH(threshold=max(0.5, cfg.near_dup_threshold - 0.2),
                                       num_perm=cfg.num_perm)
        index = lsh[pair.app]
        # LSH proposes candidates (with false positives near the threshold); the exact
        # Jaccard similarity of the shingle sets decides.
        if any(_jaccard(grams, shingles[c]) >= cfg.near_dup_threshold for c in index.query(mh)):
            report.near_duplicates += 1
            continue
        key = str(len(shingles))  # ids may repeat in user data; positions do not
        index.insert(key, mh)
        shingles[key] = grams
        kept.append(pair)
    report.kept = len(kept)
    return kept
