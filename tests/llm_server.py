"""A small chat-completions server on 127.0.0.1 for testing the OpenAI-compatible client.

No hosted model can be reached here, so this server plays one; it speaks the real protocol
(FastAPI + uvicorn over real HTTP). The `model` field picks a behaviour:

- `evolver`: answers an evolve request with a valid variant (task + ", in bold", one more step);
- `fenced`: the same answer wrapped in a ```json fence with a trailing comma (needs repair);
- `garbage`: prose that is not JSON;
- `error500`: HTTP 500 every time;
- `error400`: HTTP 400 (not retried by clients);
- `html200`: HTTP 200 with an HTML page;
- `truncated`: a JSON answer cut off at the token limit (`finish_reason: length`);
- `slow`: waits 3 s before answering; `wait`: waits 0.3 s (for concurrency);
- `prefiller`: answers a prefill request: per instance, the n-th template, its first text
  selected and made bold with the toolbar's Bold, and a `bold` check; answers a
  template-choice request with the templates in reverse order;
- `prefiller-bad`: a prefill answer with an action function that does not exist;
- `rejecter`: `{"reject": "needs a database"}`.

`app.state.in_flight_max` records how many requests were served at once, and
`app.state.last_body` the last request body.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse


def _completion(model: str, content: str, finish: str = "stop") -> dict[str, Any]:
    return {"id": "cmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": model, "usage": {"prompt_tokens": 1, "completion_tokens": 1,
                                      "total_tokens": 2},
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": content}}]}


def make_app() -> FastAPI:
    app = FastAPI()
    app.state.requests = {}
    app.state.in_flight = 0
    app.state.in_flight_max = 0
    app.state.last_body = {}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        app.state.last_body = body
        model = body.get("model", "")
        app.state.requests[model] = app.state.requests.get(model, 0) + 1
        app.state.in_flight += 1
        app.state.in_flight_max = max(app.state.in_flight_max, app.state.in_flight)
        try:
            return await _answer(model, body)
        finally:
            app.state.in_flight -= 1

    async def _answer(model: str, body: dict[str, Any]):
        if model == "error500":
            return JSONResponse({"error": {"message": "boom"}}, status_code=500)
        if model == "error400":
            return JSONResponse({"error": {"message": "bad request"}}, status_code=400)
        if model == "html200":
            return HTMLResponse("<html><body>Welcome to nginx!</body></html>")
        if model == "slow":
            await asyncio.sleep(3)
        if model == "wait":
            await asyncio.sleep(0.3)
        if model == "garbage":
            return _completion(model, "I am sorry, I cannot help with that.")
        # the request itself; a retry appends the model's answer and what was wrong with it
        user = json.loads(next(m for m in body["messages"] if m["role"] == "user")["content"])
        if model.startswith("prefiller") and "instances" not in user:
            return _completion(model, json.dumps(
                {"templates": [t["name"] for t in user["templates"]][::-1]}))
        if model.startswith("prefiller"):
            return _completion(model, json.dumps(_prefill(user, bad=model.endswith("bad"))))
        if model == "rejecter":
            return _completion(model, json.dumps({"reject": "needs a database"}))
        answer = {"task": f"{user['task']}, in bold (variant {user.get('variant', 1)})",
                  "plan": [*user["plan"], "Click Bold on the Formatting bar."]}
        text = json.dumps(answer)
        if model == "fenced":
            text = "```json\n" + text[:-1] + ",}\n```"
        if model == "truncated":
            return _completion(model, text[: len(text) // 2], finish="length")
        return _completion(model, text)

    return app


def _prefill(user: dict[str, Any], bad: bool) -> dict[str, Any]:
    out = []
    templates = user["templates"]
    for n in range(user["instances"]):
        t = templates[n % len(templates)]
        text = t["text"][0]
        out.append({"template": t["name"], "request": f"{user['task']} (on '{text}')",
                    "actions": [{"step": 1, "subtask": "select", "function": "select_text",
                                 "args": {"text": text}},
                                {"step": 1, "subtask": "bold", "control_text": "Bold",
                                 "function": "press" if bad else "click", "args": {}},
                                {"step": 1, "function": "finish", "args": {}}],
                    "checks": [{"kind": "bold", "text": text}]})
    return {"instances": out}


class LLMServer:
    """Run the app with uvicorn on a free 127.0.0.1 port in a thread."""

    def __init__(self) -> None:
        self.app = make_app()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def requests(self, model: str) -> int:
        return self.app.state.requests.get(model, 0)

    def __enter__(self) -> LLMServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
