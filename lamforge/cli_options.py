"""Options that several commands share: where their workers run, how to reach an endpoint."""

from __future__ import annotations

from typing import Annotated

import typer

Backend = Annotated[str, typer.Option(
    help="Where the workers run: local (processes here) or ray (one Ray actor per worker, "
         "each with its own app)")]
Address = Annotated[str | None, typer.Option(
    help="Ray: an existing cluster's address (host:6379 or ray://host:10001); without it a "
         "local Ray instance starts for the run and stops after it (RAY_ADDRESS is not read)")]

ApiKey = Annotated[str | None, typer.Option(
    "--api-key", show_default=False,
    help="The endpoint's API key (vLLM's --api-key, `lamforge serve --api-key`); default: "
         "LAMFORGE_LLM_API_KEY or OPENAI_API_KEY")]


def check_backend(backend: str, address: str | None) -> None:
    """One line for a bad combination, before any app starts."""
    from lamforge.core import DataError
    from lamforge.core.pool import BACKENDS

    if backend not in BACKENDS:
        raise DataError(f"unknown backend '{backend}' (use {' or '.join(BACKENDS)})")
    if address and backend != "ray":
        raise DataError("--address names a Ray cluster: give it with --backend ray")
