"""Training on several processes (GPUs, or CPUs for a try-out) through `accelerate launch`.

`lamforge train PHASE --accelerate CFG` (or a config's `accelerate:` field) stays a single
driver process: it builds the tiny preset once, runs phase 3's exploration itself (the
environment workers are its own, local or Ray; N training processes must not each start N
LibreOffices), and launches each phase's training as `accelerate launch --config_file CFG
-m lamforge train PHASE`. The launched processes find the exploration done and only train;
TRL and accelerate split the batches, the main process alone writes files.

The same rank rules make a plain `accelerate launch -m lamforge train phase1 …` safe too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lamforge.core import DataError

LAUNCHED = "LAMFORGE_LAUNCHED"
"""Set for the processes the driver launches, so they train instead of launching again."""


def launched() -> bool:
    return os.environ.get(LAUNCHED) == "1"


def distributed() -> bool:
    """Inside a multi-process launch (torchrun, accelerate and DeepSpeed set WORLD_SIZE)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def is_main() -> bool:
    """The process that writes: rank 0 of a launch, or the only process."""
    return int(os.environ.get("RANK", "0")) == 0


@contextmanager
def main_first() -> Iterator[None]:
    """Run the block on the main process first, then on the others (for work whose result
    the others can then read, such as building the tiny preset)."""
    if not distributed():
        yield
        return
    import torch
    from accelerate import PartialState

    with PartialState(cpu=not torch.cuda.is_available()).main_process_first():
        yield


def check_config(path: Path) -> Path:
    """An accelerate config file that exists and parses, else one line."""
    from accelerate.commands.config.config_args import load_config_from_file
    from accelerate.utils import DistributedType

    if not path.is_file():
        raise DataError(f"{path}: no such accelerate config (see configs/accelerate/)")
    try:  # accelerate's parser checks the keys, not the values: check the two every run needs
        cfg = load_config_from_file(str(path))
        DistributedType(cfg.distributed_type)
        if not isinstance(cfg.num_processes, int) or cfg.num_processes < 1:
            raise ValueError(f"num_processes: {cfg.num_processes!r} is not a positive number")
    except Exception as e:  # accelerate raises ValueError/TypeError/yaml errors alike
        raise DataError(f"{path}: not an accelerate config ({str(e).splitlines()[0]})") from None
    return path


def launch(cfg_path: Path, cfg: Any, phase: str, accelerate_cfg: Path,
           progress: Any = None) -> dict[str, Any]:
    """Run `phase` (or `all`) with each phase's training under `accelerate launch`; return
    what `phases.run` returns (the phases' metrics, read from the files the launch wrote)."""
    from lamforge.train.phases import PHASES, base_model, done, explore_phase3

    check_config(accelerate_cfg)
    if phase != "all" and phase not in PHASES:
        raise DataError(f"unknown phase '{phase}' (use phase1, phase2, phase3, phase4 or all)")
    names = list(PHASES) if phase == "all" else [phase]
    out: dict[str, Any] = {}
    for name in names:
        result = cfg.output_dir / f"{name}.json"
        if phase == "all" and done(cfg, name):
            out[name] = json.loads(result.read_text())
            continue
        if name == "phase1":
            base_model(cfg)  # the tiny preset: built once here, not by every process
        if name == "phase3":
            explore_phase3(cfg, progress)
        result.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
               str(accelerate_cfg), "-m", "lamforge", "train", name, "--config", str(cfg_path)]
        rc = subprocess.run(cmd, env={**os.environ, LAUNCHED: "1"}).returncode
        if rc != 0 or not result.is_file():
            raise DataError(f"accelerate launch of {name} with {accelerate_cfg} failed (exit "
                            f"{rc}; the processes' output is above)")
        out[name] = json.loads(result.read_text())
    return out if phase == "all" else out[phase]
