"""The customer-service suite: tasks on the support service, checked on its database.

The service runs as a real process on 127.0.0.1 (one per worker process, started at the
first episode and re-seeded at each reset); its tools are read from its OpenAPI document. A
service that died is started again at the next reset, and the episode it died in fails
(`EnvironmentCrashed`). Role policies for it are in `configs/support-policy.yaml`.
"""

from __future__ import annotations

import atexit
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from lamforge.core import Action, Check, EnvironmentUnavailable, LamforgeError, Task
from lamforge.core.lifetime import end_with_parent
from lamforge.envs.base import Suite
from lamforge.envs.tools.functions import Toolset
from lamforge.envs.tools.support.data import TENANTS, address, seed_database, snapshot


def _die_with_parent() -> None:
    """The service goes when the process that started it goes (even on SIGKILL)."""
    end_with_parent(signal.SIGTERM)


class Service:
    """The support service process of this worker, its database and its URL."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="lamforge-support-"))
        self.db = self.dir / "support.sqlite"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        import httpx

        self.stop()
        seed_database(self.db, 0)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        log = (self.dir / "service.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lamforge.envs.tools.support.service", "--db",
             str(self.db), "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                httpx.get(self.url + "/health", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        tail = (self.dir / "service.log").read_text(errors="replace")[-300:]
        self.stop()
        raise EnvironmentUnavailable(f"the support service did not start ({tail.strip()})")

    def reset(self, seed: int) -> None:
        import httpx

        if not self.alive():
            self.start()
        httpx.post(self.url + "/admin/reset", json={"seed": seed},
                   timeout=10).raise_for_status()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@cache
def service() -> Service:
    svc = Service()

    def done() -> None:
        svc.stop()
        shutil.rmtree(svc.dir, ignore_errors=True)

    atexit.register(done)
    return svc


def toolset(task: Task) -> Toolset:
    """The service re-seeded for the task, its operations as tools acting as the task's
    tenant, and its database as the state."""
    import httpx

    from lamforge.envs.tools.openapi import tools_from_openapi

    meta = task.meta.get("support", {})
    svc = service()
    svc.reset(int(meta.get("seed", 0)))
    client = httpx.Client(base_url=svc.url, headers={"X-Tenant": meta.get("tenant", "acme")},
                          timeout=10)
    doc = client.get("/openapi.json").json()
    tools = tools_from_openapi(doc, client, skip_headers=frozenset({"x-tenant"}))
    return Toolset(tools, state=lambda: snapshot(svc.db), close=client.close)


# ---- tasks --------------------------------------------------------------------------------
def call(fn: str, **args: Any) -> Action:
    return Action(function="call", control_label=fn, args=args)


FINISH = Action(function="finish")


@cache
def _data(seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "db.sqlite"
        seed_database(path, seed)
        return snapshot(path)


def _pick(seed: int, tenant: str, want: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A (customer, order) of `tenant` whose order satisfies `want`, chosen by the seed."""
    data = _data(seed)
    pairs = [(data["customers"][str(o["customer_id"])], o) for o in data["orders"].values()
             if o["tenant"] == tenant and want(o)]
    if not pairs:
        raise LamforgeError(f"seed {seed}: no order of {tenant} fits this task")
    return random.Random(seed).choice(pairs)


def _update_address(seed: int, tenant: str) -> dict[str, Any]:
    c, _ = _pick(seed, tenant, lambda o: True)
    new = address(random.Random(seed + 7))
    return {"request": f"{c['name']} has moved. Change their address to {new}.",
            "actions": [call("find_customers", name=c["name"]),
                        call("update_address", customer_id=c["id"], address=new), FINISH],
            "checks": [Check(kind="state", path=f"customers.{c['id']}.address", equals=new)]}


def _about_an_order(c: dict[str, Any], request: str, last: Action,
                    checks: list[Check]) -> dict[str, Any]:
    """A task on one of a customer's orders: find the customer, list their orders, then
    `last` (the call the task is about)."""
    return {"request": request,
            "actions": [call("find_customers", name=c["name"]),
                        call("list_orders", customer_id=c["id"]), last, FINISH],
            "checks": checks}


def _refund(seed: int, tenant: str, over: bool) -> dict[str, Any]:
    c, o = _pick(seed, tenant, lambda o: o["status"] == "delivered" and (
        o["total"] > 100) == over)
    return _about_an_order(
        c, f"{c['name']}'s {o['item']} arrived broken. Refund that order in full.",
        call("issue_refund", order_id=o["id"], amount=o["total"], reason="arrived broken"),
        [Check(kind="called", function="issue_refund", args={"order_id": o["id"]}),
         Check(kind="state", path=f"refunded.{o['id']}", equals=o["total"])])


def _cancel(seed: int, tenant: str) -> dict[str, Any]:
    c, o = _pick(seed, tenant, lambda o: o["status"] == "processing")
    return _about_an_order(
        c, f"{c['name']} no longer wants the {o['item']}. Cancel that order.",
        call("cancel_order", order_id=o["id"]),
        [Check(kind="state", path=f"orders.{o['id']}.status", equals="cancelled")])


def _tracking(seed: int, tenant: str) -> dict[str, Any]:
    c, o = _pick(seed, tenant, lambda o: o["status"] == "shipped")
    return _about_an_order(
        c, f"Where is {c['name']}'s {o['item']}? Look up its tracking number.",
        call("get_shipment", order_id=o["id"]),
        [Check(kind="called", function="get_shipment", args={"order_id": o["id"]})])


def _other_tenant(seed: int, tenant: str) -> dict[str, Any]:
    """A request about another tenant's customer: the service shows it nothing, and nothing
    of theirs may change."""
    other = next(t for t in TENANTS if t != tenant)
    c, _ = _pick(seed, other, lambda o: True)
    return {"request": f"Change the address of customer {c['id']} to 1 Fake Street, Nowhere.",
            "actions": [call("get_customer", customer_id=c["id"]), FINISH],
            "checks": [Check(kind="state", path=f"customers.{c['id']}.address",
                             equals=c["address"]),
                       Check(kind="not_called", function="update_address",
                             args={"customer_id": c["id"]})]}


TASKS = {"update-address": _update_address,
         "refund-small": lambda s, t: _refund(s, t, over=False),
         "refund-over-limit": lambda s, t: _refund(s, t, over=True),
         "cancel-order": _cancel,
         "tracking-number": _tracking,
         "other-tenant": _other_tenant}


class SupportSuite(Suite):
    """Customer-service tasks on the support service: a seed picks the tenant, the customer
    and the order (the same seed, the same task and the same database)."""

    name = "support"
    demonstrated = True
    subsets: ClassVar[dict[str, list[str]]] = {
        "state-changing": ["update-address", "refund-small", "refund-over-limit",
                           "cancel-order"],
        "read-only": ["tracking-number", "other-tenant"]}

    def names(self) -> list[str]:
        return sorted(TASKS)

    def task(self, name: str, seed: int) -> Task:
        if name not in TASKS:
            raise LamforgeError(f"suite 'support' has no task '{name}'")
        tenant = TENANTS[seed % len(TENANTS)]
        spec = TASKS[name](seed, tenant)
        return Task(id=f"{name}@{seed}", app="tools", request=spec["request"],
                    template="support", actions=spec["actions"], checks=spec["checks"],
                    meta={"suite": "support", "task": name, "seed": seed,
                          "support": {"seed": seed, "tenant": tenant}})
