"""Environments: one protocol (`Env`), a registry with lazy entry points."""

from lamforge.envs.base import ActionSpec, Env, EnvStatus
from lamforge.envs.registry import check, make, register, registered, resolve

__all__ = ["ActionSpec", "Env", "EnvStatus", "check", "make", "register", "registered", "resolve"]
