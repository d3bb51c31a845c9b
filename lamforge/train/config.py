"""Training configuration: one YAML file per run (configs/*.yaml), validated by pydantic."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from lamforge.core import DataError
from lamforge.train.explore import ExploreConfig
from lamforge.train.optimize import PolicyConfig
from lamforge.train.reward import RewardConfig
from lamforge.train.sft import PhaseConfig
from lamforge.train.tiny import TinySpec


class ModelConfig(BaseModel):
    model_config = ConfigDict(extra='forbid')  # a misspelt key is an error, not ignored
    # generative: a causal LM writes each action (the paper's LAM; the GPU path);
    # ranker: a pretrained sentence encoder chooses among the app's candidate actions
    # (lamforge.ranker; the CPU path)
    kind: Literal["generative", "ranker"] = "generative"
    preset: str | None = None  # "tiny": built from scratch on the training corpus; a ranker: minilm
    path: str | None = None  # a hub id or local path of any causal LM
    tiny: TinySpec = TinySpec()
    lora: dict[str, Any] | None = None  # {r, alpha, dropout, target_modules}: PEFT LoRA


class DataConfig(BaseModel):
    model_config = ConfigDict(extra='forbid')  # a misspelt key is an error, not ignored
    flow_dir: Path = Path("runs/flow")  # a `lamforge data flow` run: samples/, tasks/
    plans: list[Path] = []  # TaskPlan JSONL for phase 1 (mined, evolved)
    templates_dir: Path | None = None  # the template library phase 3 explores with


class Phase3Config(PhaseConfig):
    """Exploration settings, then the fine-tune of LAM2 on expert + new steps."""

    explore: ExploreConfig = ExploreConfig()
    new_weight: int = 2  # each new verified step counts this many times


class Phase4Config(BaseModel):
    model_config = ConfigDict(extra='forbid')  # a misspelt key is an error, not ignored
    reward: RewardConfig = RewardConfig()
    policy: PolicyConfig = PolicyConfig()


class RankerConfig(BaseModel):
    """What only a ranker's training needs (`model.kind: ranker`)."""

    model_config = ConfigDict(extra='forbid')  # a misspelt key is an error, not ignored
    plan_dropout: float = 0.3  # share of training states shown without their plan
    max_candidates: int = 0  # candidates per training state; 0: all of them
    validation: float = 0.1  # share of train tasks held out to judge each phase
    recovery_tasks: int = 120  # phase 3: train tasks where LAM2's own mistakes are recovered
    policy_states: int = 1500  # phase 4: logged states the improved policy is distilled on
    freeze_layers: int = 0  # bottom transformer layers left as they are in phases 2-4
    slot_candidates: int = 64  # values per training row of an argument (tools' calls)


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra='forbid')  # a misspelt key is an error, not ignored
    name: str
    output_dir: Path
    seed: int = 0
    controls_top_k: int = 16
    model: ModelConfig
    data: DataConfig = DataConfig()
    phase1: PhaseConfig = PhaseConfig()
    phase2: PhaseConfig = PhaseConfig()
    phase3: Phase3Config = Phase3Config()
    phase4: Phase4Config = Phase4Config()
    ranker: RankerConfig = RankerConfig()
    # an accelerate config (configs/accelerate/*.yaml): each phase trains under `accelerate
    # launch` with it (GPUs, DDP, DeepSpeed ZeRO); `lamforge train --accelerate` overrides
    accelerate: Path | None = None

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        try:
            raw = yaml.safe_load(path.read_text())
        except FileNotFoundError:
            raise DataError(f"{path}: no such config") from None
        except yaml.YAMLError as e:
            raise DataError(f"{path}: not YAML ({str(e).splitlines()[0]})") from None
        try:
            cfg = cls.model_validate(raw)
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(x) for x in err["loc"])
            raise DataError(f"{path}: {where}: {err['msg']}") from None
        if cfg.model.kind == "ranker":
            if cfg.model.preset not in (None, "minilm") or cfg.model.lora:
                raise DataError(f"{path}: model: a ranker starts from the offline MiniLM "
                                "(preset: minilm) or a sentence-transformers path, without "
                                "lora")
            if cfg.accelerate:
                raise DataError(f"{path}: accelerate: a ranker trains in one process (remove "
                                "`accelerate`)")
            return cfg
        if (cfg.model.preset is None) == (cfg.model.path is None):
            raise DataError(f"{path}: model: give exactly one of preset or path")
        if cfg.model.preset not in (None, "tiny"):
            raise DataError(f"{path}: model.preset: unknown preset '{cfg.model.preset}' "
                            "(known: tiny)")
        return cfg
