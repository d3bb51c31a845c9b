"""Environments registered under versioned ids with lazy entry points.

Heavy back ends (UNO, Playwright) are imported only when an environment is made, so
`lamforge --help` and the data tools work on machines without LibreOffice or Chromium.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from lamforge.core import LamforgeError
from lamforge.envs.base import Env, EnvStatus, Suite


@dataclass(frozen=True)
class EnvEntry:
    id: str
    entry_point: str  # "module:Class"
    check: str  # "module:function" returning EnvStatus; must not need the app to be running
    description: str
    suites: dict[str, str] = field(default_factory=dict)  # name -> "module:Class" (a Suite)
    # "module:function" (pairs, seeds) -> (tasks, failed): makes mined pairs executable when
    # the environment has no template documents (Writer's instantiation lives in the dataflow)
    instantiate: str = ""
    # "module" with `prefill(pair, instances, seed, templates)`: the rules prefill of a Writer
    # environment, whose instantiation lives in the dataflow (the headless one by default)
    prefill: str = "lamforge.envs.writer.prefill"


_REGISTRY: dict[str, EnvEntry] = {}
_ALIASES: dict[str, str] = {}


def register(entry: EnvEntry) -> None:
    _REGISTRY[entry.id] = entry
    _ALIASES[entry.id.split("-v")[0]] = entry.id


def resolve(name: str) -> EnvEntry:
    key = _ALIASES.get(name, name)
    if key not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise LamforgeError(f"unknown environment '{name}' (known: {known})")
    return _REGISTRY[key]


def _load(ref: str) -> Any:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def make(name: str, **kwargs: Any) -> Env:
    """Create an environment by id (`writer-v0`) or short name (`writer`)."""
    return _load(resolve(name).entry_point)(**kwargs)


def env_class(name: str) -> type[Env]:
    """The environment's class, without starting its application (for `validate_task`)."""
    return _load(resolve(name).entry_point)


def suite(env: str, name: str) -> Suite:
    """A task suite of an environment (`web`, `miniwob`): written by others, each task with
    its own instruction generator and success signal."""
    entry = resolve(env)
    if name not in entry.suites:
        known = ", ".join(sorted(entry.suites)) or "none"
        raise LamforgeError(f"environment '{entry.id}' has no suite '{name}' (its suites: "
                            f"{known})")
    return _load(entry.suites[name])()


def instantiate(env: str, pairs: list, seeds: list[int]) -> tuple[list, list[dict]]:
    """Mined task-plan pairs made into executable tasks by the environment's own
    instantiation (`EnvEntry.instantiate`): the tasks, and the pairs filed as failed."""
    entry = resolve(env)
    if not entry.instantiate:
        raise LamforgeError(f"environment '{entry.id}' cannot instantiate task-plan pairs; "
                            "give --suite with one of its suites")
    return _load(entry.instantiate)(pairs, seeds)


def check(name: str) -> EnvStatus:
    """Say whether the environment can start here and, if not, why."""
    return _load(resolve(name).check)()


def registered() -> list[EnvEntry]:
    return list(_REGISTRY.values())


register(EnvEntry(
    id="writer-v0",
    entry_point="lamforge.envs.writer.env:WriterEnv",
    check="lamforge.envs.writer.office:check_installation",
    description="LibreOffice Writer, headless, driven through UNO",
))

register(EnvEntry(
    id="writer-gui-v0",
    entry_point="lamforge.envs.writer.gui:WriterGuiEnv",
    check="lamforge.envs.writer.gui:check_installation",
    description="LibreOffice Writer's real windows on Xvfb, read and driven through the "
                "accessibility tree (AT-SPI); documents checked as in writer-v0",
    prefill="lamforge.envs.writer.gui_prefill",
))

register(EnvEntry(
    id="calc-gui-v0",
    entry_point="lamforge.envs.calc.gui:CalcGuiEnv",
    check="lamforge.envs.writer.gui:check_installation",
    description="LibreOffice Calc's real windows on Xvfb through AT-SPI; workbooks checked "
                "as saved to .xlsx",
    instantiate="lamforge.envs.calc.prefill:instantiate_all",
))

register(EnvEntry(
    id="impress-gui-v0",
    entry_point="lamforge.envs.impress.gui:ImpressGuiEnv",
    check="lamforge.envs.writer.gui:check_installation",
    description="LibreOffice Impress's real windows on Xvfb through AT-SPI; presentations "
                "checked as saved to .odp",
    instantiate="lamforge.envs.impress.prefill:instantiate_all",
))

register(EnvEntry(
    id="web-v0",
    entry_point="lamforge.envs.web.env:WebEnv",
    check="lamforge.envs.web.env:check_installation",
    description="Chromium via Playwright on MiniWoB++ pages, observed through the "
                "accessibility tree",
    suites={"miniwob": "lamforge.envs.web.miniwob:MiniWoB"},
))

register(EnvEntry(
    id="tools-v0",
    entry_point="lamforge.envs.tools.env:ToolsEnv",
    check="lamforge.envs.tools.env:check",
    description="Typed functions as actions: Python callables, an MCP server's tools, "
                "BFCL's stateful back ends; arguments validated against JSON schemas",
    suites={"bfcl": "lamforge.envs.tools.bfcl:BfclSuite",
            "support": "lamforge.envs.tools.support.suite:SupportSuite"},
    instantiate="lamforge.envs.tools.instantiate:instantiate_all",
))
