"""`lamforge serve` under load, with and without one oversized request in the mix (issue 11).

    .venv/bin/python benchmarks/serve_load.py [--model runs/train/tiny-cpu/lam3/model] \
        [--clients 1,8,32] [--requests 4] [--repeat 3] [--json benchmarks/results/serve_load.json]

Starts `lamforge serve` with its default limits on a trained tiny LAM3 (without --model, the
one the tests train, tests/tiny_lams.py, built once into runs/bench/serve_load/: a minute or
two of real LibreOffice and training), then for each client count N runs N concurrent
clients (httpx), each sending --requests chat completions one after the other, twice: alone,
and beside one client that sends the issue's 200,000-character message. Prompts are real
state prompts of the LAM's training steps, so answers are real actions. Reported per run:
requests answered, wall time, p50/p95 latency, errors (any non-200 of a normal request or a
client time-out), and the oversized request's status and time. Then SIGTERM is sent while
the largest run is in flight, and the time until the process is gone is measured.

A trained LAM ends its answer after an action, so the long generations are measured on an
untrained model of the tiny preset's architecture (hidden 512, 8 layers, 8,192 positions)
whose end-of-sequence token never wins, as in tests/test_serve.py: a request for 4,000
tokens against `--max-time 2`, and SIGTERM one second into such a generation.

Before the fix (the issue): 60 normal requests were all answered (wall 9.4 s, p50 5.1 s), but
the oversized one was accepted, held the model for more than 3 minutes while every other
completion timed out, and SIGTERM did not stop the server.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from scratch import scratch_dir

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "runs" / "bench" / "serve_load"
OVERSIZED_CHARS = 200_000
TIMEOUT = 120.0  # a client's time-out: far above any answer, so a stall shows as errors
console = Console(width=120)


def rel(path: Path) -> str:
    """A path as written to the results: relative to the repository when inside it."""
    from lamforge.eval.names import portable

    return portable(path.resolve(), ROOT)


def tiny_lam() -> tuple[Path, list[str]]:
    """The tests' tiny LAM3 (built on first use) and state prompts of its training steps."""
    sys.path.insert(0, str(ROOT))
    from lamforge.core import StepSample, read_jsonl
    from lamforge.train.formats import step_prompt
    from lamforge.train.sft import trained_top_k
    from tests.tiny_lams import train_all

    model = CACHE / "out" / "lam3" / "model"
    if not (model / "config.json").is_file():
        console.print(f"building the tiny LAM into {rel(CACHE)} (LibreOffice and training)…")
        (CACHE / "templates").mkdir(parents=True, exist_ok=True)
        train_all(CACHE, CACHE / "templates")
    samples = read_jsonl(CACHE / "flow" / "samples" / "train.jsonl", StepSample)
    k = trained_top_k(model)
    prompts = list(dict.fromkeys(step_prompt(s, k) for s in samples))  # distinct, in order
    return model, prompts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def endless(out: Path) -> Path:
    """An untrained tiny-preset model that generates as long as it may (its end-of-sequence
    embedding row is zero, so that logit is 0 against hundreds of random ones)."""
    import torch
    from transformers import AutoModelForCausalLM

    from lamforge.train.tiny import TinySpec, build_tiny

    corpus = [f"Task: make item {i} bold\nAction: click Bold" for i in range(100)]
    build_tiny(corpus, out, TinySpec(vocab_size=400, hidden_size=512, layers=8, heads=4,
                                     max_length=8192))
    model = AutoModelForCausalLM.from_pretrained(out)
    with torch.no_grad():
        model.get_input_embeddings().weight[model.config.eos_token_id] = 0
    model.save_pretrained(out)
    return out


def start(model: Path, log: Path, *options: str) -> tuple[subprocess.Popen, str]:
    """`lamforge serve` (its defaults, or `options`) on a free port; its process and URL."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "lamforge", "serve", "--model",
                                 str(model), "--name", "lam", "--port", str(port), *options],
                                stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "COLUMNS": "200"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            httpx.get(url + "/health", timeout=1)
            return proc, url
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(log.read_text()[-2000:]) from None
            time.sleep(0.3)


def ask(client: httpx.Client, url: str, prompt: str, max_tokens: int | None = None
        ) -> tuple[int, float, str]:
    """Status, seconds and the message (an error's; for an answer, its finish_reason and
    completion tokens) of one chat completion."""
    start = time.perf_counter()
    try:
        r = client.post(url + "/v1/chat/completions", timeout=TIMEOUT, json={
            "model": "lam", "temperature": 0, "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": prompt}]})
    except httpx.HTTPError as e:
        return 0, time.perf_counter() - start, f"{type(e).__name__}: {e}"
    body = r.json()
    message = (f"{body['choices'][0]['finish_reason']}, {body['usage']['completion_tokens']} "
               "tokens" if r.status_code == 200 else body.get("error", {}).get("message", ""))
    return r.status_code, time.perf_counter() - start, message


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def load(url: str, prompts: list[str], clients: int, each: int, oversized: bool
         ) -> dict:
    """`clients` threads × `each` requests (and the oversized one at once beside them)."""
    results: list[tuple[int, float, str]] = []
    huge: list[tuple[int, float, str]] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        with httpx.Client() as c:
            for j in range(each):
                out = ask(c, url, prompts[(i * each + j) % len(prompts)])
                with lock:
                    results.append(out)

    def oversize() -> None:
        with httpx.Client() as c:
            huge.append(ask(c, url, "x" * OVERSIZED_CHARS))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    if oversized:
        threads.insert(0, threading.Thread(target=oversize))
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    ok = [s for status, s, _ in results if status == 200]
    errors = [m or str(status) for status, _, m in results if status != 200]
    row = {"clients": clients, "requests_each": each, "oversized": oversized,
           "requests": len(results), "answered": len(ok), "errors": len(errors),
           "wall_s": round(wall, 2),
           "p50_ms": round(statistics.median(ok) * 1000) if ok else None,
           "p95_ms": round(pct(ok, 0.95) * 1000) if ok else None,
           "throughput_rps": round(len(ok) / wall, 1)}
    if errors:
        row["first_error"] = errors[0][:200]
    if oversized:
        status, seconds, message = huge[0]
        row |= {"oversized_status": status, "oversized_ms": round(seconds * 1000),
                "oversized_message": message}
    return row


def sigterm_under_load(proc: subprocess.Popen, url: str, prompts: list[str], clients: int
                       ) -> dict:
    """SIGTERM while `clients` requests are in flight: seconds until the process is gone,
    and what the clients got."""
    results: list[tuple[int, float, str]] = []

    def client(i: int) -> None:
        with httpx.Client() as c:
            results.append(ask(c, url, prompts[i % len(prompts)]))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while httpx.get(url + "/health", timeout=5).json()["waiting"] < clients // 2 and \
            time.monotonic() < deadline:
        time.sleep(0.02)
    exit_s = terminate(proc, 60)
    for t in threads:
        t.join()
    statuses: dict[str, int] = {}
    for status, _, _ in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    return {"clients_in_flight": clients, "exit_s": round(exit_s, 2),
            "returncode": proc.returncode, "client_statuses": statuses}


def terminate(proc: subprocess.Popen, timeout: float) -> float:
    """SIGTERM, then the seconds until the server exited (killed after `timeout`)."""
    start = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
    return time.perf_counter() - start


def long_generations(work: Path) -> dict:
    """A 4,000-token request against --max-time 2, then SIGTERM one second into one."""
    model = endless(work / "endless")
    prompt = "Task: write a novel\nAction:"
    proc, url = start(model, work / "long.log", "--max-time", "2")
    try:
        status, seconds, message = ask(httpx.Client(), url, prompt, 4000)
    finally:
        proc.kill()
        proc.wait()
    cut = {"max_time_s": 2, "max_tokens": 4000, "status": status, "seconds": round(seconds, 2),
           "answer": message}
    proc, url = start(model, work / "sigterm.log")
    got: list[tuple[int, float, str]] = []
    client = threading.Thread(target=lambda: got.append(ask(httpx.Client(), url, prompt, 4000)))
    client.start()
    while httpx.get(url + "/health", timeout=5).json()["generating"] < 1:
        time.sleep(0.02)
    time.sleep(1)
    exit_s = terminate(proc, 120)
    client.join()
    return {"cut": cut, "sigterm": {"exit_s": round(exit_s, 2), "returncode": proc.returncode,
                                    "client_status": got[0][0], "client_message": got[0][2]}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, help="a LAM checkpoint (default: the tests' tiny "
                                               "LAM3, built once into runs/bench/serve_load)")
    ap.add_argument("--clients", default="1,8,32", help="client counts, comma-separated")
    ap.add_argument("--requests", type=int, default=4, help="requests per client")
    ap.add_argument("--repeat", type=int, default=3,
                    help="rounds of every run, alternating with and without the oversized "
                         "request; the table shows each run's median round (by wall time): "
                         "on a shared 2-core machine one round is at the mercy of other work")
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/serve_load.json")
    args = ap.parse_args()
    counts = [int(x) for x in args.clients.split(",")]
    if args.model:
        model = args.model
        prompts = ["Task: make the title bold\nControls:\n[1] Bold\n[2] Italic\nAction:"]
    else:
        model, prompts = tiny_lam()
    load_before = os.getloadavg()[0]  # 2 cores: other work on the machine shows in latency
    work = scratch_dir()
    log = work / "serve.log"
    proc, url = start(model, log)
    try:
        ask(httpx.Client(), url, prompts[0])  # warm-up: the first generation allocates
        rounds: dict[tuple[int, bool], list[dict]] = {}
        for r in range(args.repeat):
            for n in counts:
                for oversized in (False, True) if r % 2 == 0 else (True, False):
                    rounds.setdefault((n, oversized), []).append(
                        load(url, prompts, n, args.requests, oversized))
        rows = []
        for _, runs in sorted(rounds.items()):
            walls = sorted(x["wall_s"] for x in runs)
            median = next(x for x in runs if x["wall_s"] == walls[len(walls) // 2])
            rows.append(median | {"rounds": len(runs), "wall_s_min": walls[0],
                                  "wall_s_max": walls[-1],
                                  "errors_all_rounds": sum(x["errors"] for x in runs),
                                  "all_rounds": runs})
        shutdown = sigterm_under_load(proc, url, prompts, max(counts))
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    long = long_generations(work)
    table = Table("clients×req", "oversized", "answered", "errors (all rounds)", "wall s",
                  "wall s, rounds", "p50 ms", "p95 ms", "req/s", "oversized: status, ms")
    for r in rows:
        table.add_row(f"{r['clients']} × {r['requests_each']}", "yes" if r["oversized"] else "-",
                      f"{r['answered']}/{r['requests']}", str(r["errors_all_rounds"]),
                      f"{r['wall_s']:.2f}", f"{r['wall_s_min']:.2f}–{r['wall_s_max']:.2f}",
                      str(r["p50_ms"]), str(r["p95_ms"]), f"{r['throughput_rps']:.1f}",
                      f"{r['oversized_status']}, {r['oversized_ms']}" if r["oversized"] else "")
    console.print(table)
    console.print(f"SIGTERM with {shutdown['clients_in_flight']} requests in flight: exited in "
                  f"{shutdown['exit_s']:.2f} s (clients got {shutdown['client_statuses']})")
    oversized = next((r["oversized_message"] for r in rows if r["oversized"]), "")
    console.print(f"the oversized request's answer: {oversized}", highlight=False)
    cut, term = long["cut"], long["sigterm"]
    console.print(f"4,000 tokens asked, --max-time 2: HTTP {cut['status']} after "
                  f"{cut['seconds']:.2f} s ({cut['answer']}); SIGTERM 1 s into a long "
                  f"generation: exited in {term['exit_s']:.2f} s, the client got "
                  f"{term['client_status']} ({term['client_message']})", highlight=False)
    out = {"date": date.today().isoformat(),
           "command": " ".join(["python benchmarks/serve_load.py", *(
               a if not Path(a).is_absolute() else rel(Path(a)) for a in sys.argv[1:])]),
           "model": rel(model),
           "server": "lamforge serve with its defaults (--max-body-bytes 1 MiB, --max-time "
                     "30 s, --queue-timeout 30 s)",
           "oversized_chars": OVERSIZED_CHARS, "client_timeout_s": TIMEOUT,
           "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "load_1min_before": round(load_before, 2),
                       "load_1min_after": round(os.getloadavg()[0], 2)},
           "runs": rows, "sigterm": shutdown, "long_generation": long,
           "server_log_tracebacks": text.count("Traceback")}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n")
    console.print(f"wrote {rel(args.json)}")


if __name__ == "__main__":
    main()
