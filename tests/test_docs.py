"""The documentation stays in step with the code it describes."""

from __future__ import annotations

import re

from lamforge.envs.writer.checks import CHECKS
from lamforge.envs.writer.dialogs import DIALOGS

from .conftest import ROOT


def test_every_check_kind_is_documented() -> None:
    from lamforge.envs.calc.checks import KINDS as CALC
    from lamforge.envs.impress.checks import KINDS as IMPRESS

    text = (ROOT / "docs" / "checks.md").read_text()
    missing = [k for k in [*CHECKS, *CALC.kinds, *IMPRESS.kinds] if f"`{k}`" not in text]
    assert not missing


def test_every_dialog_is_documented() -> None:
    text = (ROOT / "docs" / "writer.md").read_text()
    missing = [d.title for d in DIALOGS.values() if f"| {d.title} |" not in text]
    assert not missing


def test_readme_names_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    assert "make demo" in text and "make test" in text
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_run_option_is_documented() -> None:
    import inspect

    from lamforge.cli_agent import run

    text = (ROOT / "docs" / "agent.md").read_text() + (ROOT / "README.md").read_text()
    options = [p.name.replace("_", "-") for p in inspect.signature(run).parameters.values()
               if p.name not in ("request", "env_name", "json_out")]
    missing = [o for o in options if f"--{o}" not in text]
    assert not missing


def test_example_policy_loads_every_role() -> None:
    import yaml

    from lamforge.agent.policy import Policy

    path = ROOT / "configs" / "policy.yaml"
    for role in yaml.safe_load(path.read_text())["roles"]:
        assert Policy.load(path, role).role_name == role


def test_benchmark_results_name_no_path_of_the_machine_that_ran_them() -> None:
    """Results read the same on every machine: paths relative to the repository, or a
    model's phase name."""
    import json

    def strings(value):
        if isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)
        elif isinstance(value, str):
            yield value

    results = ROOT / "benchmarks" / "results"
    found = {p.name: s for p in sorted(results.glob("*.json"))
             for s in strings(json.loads(p.read_text())) if re.match(r"^/[\w.-]+/", s)}
    assert not found, found
