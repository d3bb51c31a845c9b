"""`lamforge run`, `lamforge serve`, `lamforge audit verify` and `lamforge sessions`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.markup import escape
from rich.table import Table

from lamforge.cli_options import ApiKey
from lamforge.console import make_console
from lamforge.core import Check, DataError, LamforgeError

console = make_console()
audit_app = typer.Typer(no_args_is_help=True, help="The agent's audit log.")

AGENT_DIR = Path("runs/agent")


def _confirm_hook(mode: str):
    """ask: a prompt on the terminal (deny when there is none); deny: batch; yes: approve."""
    from lamforge.agent.policy import approve_all, deny_all

    if mode == "yes":
        return approve_all
    if mode == "deny" or not sys.stdin.isatty():
        return deny_all

    def ask(action, control, decision) -> bool:
        from rich.prompt import Confirm

        target = f" on '{control.name}'" if control else ""
        return Confirm.ask(f"[yellow]{escape(decision.reason)}[/] — allow {action.function}"
                           f"{escape(target)} {escape(json.dumps(action.args))}?",
                           console=console, default=False)

    return ask


def _checks(raw: list[str] | None) -> list[Check]:
    out = []
    for i, text in enumerate(raw or [], 1):
        try:
            out.append(Check.model_validate_json(text))
        except ValueError as e:
            raise DataError(f"--check #{i} is not a check ({str(e).splitlines()[0]}): "
                            f"expected JSON such as '{{\"kind\": \"bold\", \"text\": \"quick\"}}'"
                            ) from None
    return out


def run(
    model: Annotated[str, typer.Option(help="A checkpoint directory (lamforge train), 'rules', "
                                            "or a model name served at --endpoint")],
    doc: Annotated[str, typer.Option(help="Document to work on (a file, or a template name; "
                                          "for the web, a page such as miniwob/click-button)")],
    seed: Annotated[int, typer.Option(help="Seed of a generated task (a web page's instance)")]
    = 0,
    request: Annotated[str | None, typer.Argument(help="What the agent should do (an app "
                                                       "that states its own, a web task's "
                                                       "page, needs none)")] = None,
    env_name: Annotated[str, typer.Option("--env", help="Environment")] = "writer",
    out: Annotated[Path | None, typer.Option(help="Save the resulting document here")] = None,
    endpoint: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL, e.g. "
                                                      "http://127.0.0.1:8000/v1")] = None,
    plan: Annotated[str | None, typer.Option(help="Your plan, steps separated by ' | '")] = None,
    planner: Annotated[str | None, typer.Option(help="A model that writes the plan (e.g. "
                                                     "LAM1) when --plan is not given")] = None,
    check: Annotated[list[str] | None, typer.Option(help="A check (JSON) that defines "
                                                         "success; repeatable")] = None,
    role: Annotated[str | None, typer.Option(help="Role in the policy file")] = None,
    policy: Annotated[Path | None, typer.Option(help="Policy file (YAML) of roles and risks")
                      ] = None,
    confirm: Annotated[Literal["ask", "deny", "yes"], typer.Option(
        help="Risky actions: ask on the terminal (deny without one), deny, or yes")] = "ask",
    dry_run: Annotated[bool, typer.Option(help="Show the grounded actions, execute nothing")
                       ] = False,
    max_steps: Annotated[int, typer.Option(min=1)] = 20,
    max_seconds: Annotated[float, typer.Option(min=1)] = 300.0,
    retries: Annotated[int, typer.Option(min=0, help="Re-asks after a malformed or invalid "
                                                     "answer, per step")] = 2,
    timeout: Annotated[float, typer.Option(min=0.1, help="Model endpoint time-out (s)")] = 60.0,
    api_key: ApiKey = None,
    step_timeout: Annotated[float, typer.Option(min=0.1, help="Execution time-out per step "
                                                              "(s)")] = 60.0,
    constrained: Annotated[bool, typer.Option(help="Constrained decoding (local models): "
                                                   "always valid JSON on a shown control")
                           ] = False,
    top_k: Annotated[int | None, typer.Option(min=1, help="Controls shown to the model "
                                                          "(default: as in its training)")]
    = None,
    audit: Annotated[Path, typer.Option(help="Audit log (JSONL, hash-chained)")]
    = AGENT_DIR / "audit.jsonl",
    sessions: Annotated[Path, typer.Option(help="Session history (SQLite)")]
    = AGENT_DIR / "sessions.sqlite",
    user: Annotated[str | None, typer.Option(help="Who is acting (for the audit log)")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the result as JSON")
                        ] = None,
) -> None:
    """Let a model carry out a request in an application, step by step, and save the result.

    Exits 0 when the run passes its checks (or finishes with none to check), 2 when it fails,
    1 on an error.
    """
    from lamforge.agent.audit import AuditLog
    from lamforge.agent.backends import load_backend
    from lamforge.agent.loop import Agent, Budget, StepRecord, make_task
    from lamforge.agent.policy import Policy
    from lamforge.agent.sessions import SessionStore
    from lamforge.envs import make
    from lamforge.envs.base import Env
    from lamforge.envs.registry import env_class, resolve

    entry = resolve(env_name)
    env_cls = env_class(env_name)
    states_own = env_cls.instruction is not Env.instruction
    if not (request or "").strip():
        if not states_own:
            raise DataError("the request is empty: say what the agent should do")
        request = "(the app's own instruction)"
    assert request is not None
    doc = env_cls.resolve_document(doc)
    steps_plan = [s.strip() for s in plan.split("|") if s.strip()] if plan else None
    task = make_task(request, doc, steps_plan, _checks(check), app=entry.id.split("-v")[0])
    task.meta["seed"] = seed
    env_cls.validate_task(task)
    backend = load_backend(model, endpoint=endpoint, constrained=constrained,
                           timeout_s=timeout, api_key=api_key)
    plan_backend = load_backend(planner, endpoint=endpoint, timeout_s=timeout,
                                api_key=api_key) if planner else None

    def show(r: StepRecord) -> None:
        a = r.action
        what = "-" if a is None else a.function + (f" {r.control!r}" if r.control else "") + (
            f" {json.dumps(a.args, ensure_ascii=False)}" if a.args else "")
        colour = "green" if r.ok else "red"
        note = "" if r.ok else f"  [red]{escape(r.error or '')}[/]"
        console.print(f"step {r.index + 1:>2}  {escape(what):<48} [{colour}]{r.decision}[/]  "
                      f"model {r.model_s * 1000:6.0f} ms + {r.other_s * 1000:4.0f} ms{note}",
                      highlight=False)

    store = SessionStore(sessions)
    try:
        with make(env_name) as env:
            pol = Policy.load(policy, role, env.risk_rules())
            agent = Agent(env, backend, policy=pol, confirm=_confirm_hook(confirm),
                          audit=AuditLog(audit), sessions=store,
                          budget=Budget(max_steps=max_steps, max_seconds=max_seconds,
                                        retries=retries, step_timeout=step_timeout),
                          dry_run=dry_run, k=top_k, planner=plan_backend, who=user,
                          on_step=show)
            with console.status("working…", spinner="dots"):
                result = agent.run(task)
            saved = None
            if out and not dry_run and result.verdict.status != "fail":
                saved = env.save(out)
    finally:
        store.close()
    v = result.verdict
    colour = {"pass": "green", "fail": "red", "unsure": "yellow"}[v.status]
    console.print(f"[{colour}]{v.status}[/]: {escape(v.reason)}  ({len(result.records)} steps, "
                  f"{result.seconds:.2f} s; session {result.session}; audit {audit})",
                  highlight=False)
    if result.audit_hash:  # keep it elsewhere: `audit verify --head` then catches a cut tail
        console.print(f"audit head {result.audit_hash} (keep it elsewhere to check the log "
                      f"later: lamforge audit verify {escape(str(audit))} --head HASH)",
                      highlight=False, soft_wrap=True)
    if saved:
        console.print(f"saved {saved}")
    elif out and not dry_run:
        console.print(f"[yellow]not saved[/]: the run failed, {out} was left alone")
    if json_out:
        json_out.write_text(json.dumps({**result.summary(), "saved": str(saved) if saved
                                        else None}, indent=2))
    if v.status == "fail":
        raise typer.Exit(2)


def serve(
    model: Annotated[Path, typer.Option(help="A checkpoint directory (lamforge train)")],
    host: str = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535)] = 8000,
    name: Annotated[str | None, typer.Option(help="Model id clients ask for (default: the "
                                                  "checkpoint's folder name)")] = None,
    api_key: Annotated[str | None, typer.Option(envvar="LAMFORGE_SERVE_API_KEY",
                                                help="Require this bearer token")] = None,
    max_tokens: Annotated[int | None, typer.Option(
        min=1, help="Default completion limit (default: the checkpoint's recorded answer "
                    "budget, at least 128)")] = None,
    max_body_bytes: Annotated[int, typer.Option(
        min=1, help="Refuse a larger request body with 413, unread (default 1 MiB)")]
    = 1 << 20,
    max_time: Annotated[float, typer.Option(
        min=0.01, help="Seconds one generation may take; then its answer is cut "
                       "(finish_reason 'length')")] = 30.0,
    queue_timeout: Annotated[float, typer.Option(
        min=0.0, help="Seconds a request may wait for the model, then 503")] = 30.0,
) -> None:
    """Serve a trained LAM with the OpenAI chat-completions protocol.

    One request generates at a time; the others queue. A prompt longer than the model's
    context (less the answer's tokens) is refused with 400, a body over --max-body-bytes with
    413; SIGTERM interrupts a running generation and exits.
    """
    from lamforge.serve.app import make_app, run

    if not model.is_dir() or not (model / "config.json").is_file():
        raise DataError(f"model '{model}' is not a saved model directory (no config.json)")
    served = name or (model.parent.name if model.name == "model" else model.name)
    app = make_app(model, served, api_key, max_tokens, max_body_bytes=max_body_bytes,
                   max_time=max_time, queue_timeout=queue_timeout)
    console.print(f"serving '{served}' from {model} at http://{host}:{port}/v1", highlight=False)
    run(app, host, port)


@audit_app.command("verify")
def audit_verify(log: Annotated[Path, typer.Argument(help="Audit log (JSONL)")]
                 = AGENT_DIR / "audit.jsonl",
                 head: Annotated[str | None, typer.Option(
                     help="A record hash kept elsewhere (the head `lamforge run` printed): the "
                          "log must still contain that record (it may have grown since)")]
                 = None) -> None:
    """Check the hash chain of an audit log and its end (against its head file, and --head).

    Exits 0 when intact; 2 at the first tampered line, a cut or rewritten end, or a log with
    no anchor to check its end against (no head file and no --head); 1 on bad input.
    """
    from lamforge.agent.audit import check_hash, verify

    result = verify(log, check_hash(head, "--head") if head is not None else None)
    if not result.ok:
        label = "unverified" if result.kind == "unanchored" else "tampered"
        where = (f" ({result.records} records before it are intact)" if result.kind == "chain"
                 else "")
        console.print(f"[red]{label}[/]: {escape(result.problem)}{where}", highlight=False,
                      soft_wrap=True)
        raise typer.Exit(2)
    console.print(f"[green]intact[/]: {result.records} records, last hash {result.last_hash}",
                  highlight=False, soft_wrap=True)
    for note in result.notes:
        console.print(f"  {escape(note)}", highlight=False, soft_wrap=True)


def sessions_cmd(
    db: Annotated[Path, typer.Option("--db", help="Session history")]
    = AGENT_DIR / "sessions.sqlite",
    session: Annotated[str | None, typer.Argument(help="Show this session's steps")] = None,
    limit: int = 20,
) -> None:
    """List the agent's recent sessions, or the steps of one."""
    from lamforge.agent.sessions import SessionStore

    if not db.is_file():
        raise LamforgeError(f"no session history at {db}")
    store = SessionStore(db)
    try:
        if session is None:
            table = Table("session", "request", "model", "role", "status", "steps", "reason")
            for s in store.sessions(limit):
                table.add_row(s["id"], s["request"], Path(s["model"] or "").name or s["model"],
                              s["role"], s["status"] or "running", str(s["steps"] or 0),
                              s["reason"] or "")
        else:
            table = Table("step", "action", "policy", "ok", "error", "model s", "other s")
            rows = store.steps(session)
            if not rows:
                raise LamforgeError(f"no session '{session}' in {db}")
            for r in rows:
                table.add_row(str(r["idx"] + 1), r["action"], r["policy"], str(bool(r["ok"])),
                              r["error"] or "", f"{r['model_s']:.3f}", f"{r['other_s']:.3f}")
        console.print(table)
    finally:
        store.close()
