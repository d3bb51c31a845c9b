"""The operations of an OpenAPI 3 document as tools: one per operation with an operationId.

A tool's parameters are the operation's path and query parameters and its JSON body's
properties, in one flat object (what a model writes); the call puts each back where it
belongs. `$ref`s into `components` are resolved. An HTTP error is the call's error, with the
service's own message (FastAPI's `detail`).
"""

from __future__ import annotations

import copy
from typing import Any

from lamforge.core import EnvironmentCrashed
from lamforge.envs.tools.functions import Tool, ToolError

METHODS = ("get", "post", "put", "patch", "delete")


def _resolve(node: Any, doc: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _resolve(copy.deepcopy(target), doc)
        return {k: _resolve(v, doc) for k, v in node.items() if k != "title"}
    if isinstance(node, list):
        return [_resolve(x, doc) for x in node]
    return node


def _simplify(schema: dict[str, Any]) -> dict[str, Any]:
    """`anyOf: [X, null]` (an optional value, as pydantic writes it) as X."""
    options = schema.get("anyOf")
    if options and len(options) == 2 and {"type": "null"} in options:
        rest = next(o for o in options if o != {"type": "null"})
        return {**{k: v for k, v in schema.items() if k != "anyOf"}, **rest}
    return schema


def tools_from_openapi(doc: dict[str, Any], client: Any,
                       skip_headers: frozenset[str] = frozenset()) -> list[Tool]:
    """Tools calling `client` (an `httpx.Client` with the base URL and any headers, such as
    credentials, already set). Header parameters in `skip_headers` are the client's to send
    (a tenant, a token), not the model's to choose."""
    out = []
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if not op or "operationId" not in op:
                continue
            props: dict[str, Any] = {}
            required: list[str] = []
            where: dict[str, str] = {}
            for p in _resolve(op.get("parameters", []), doc):
                if p["in"] == "header" and p["name"].lower() in skip_headers:
                    continue
                props[p["name"]] = _simplify({**p.get("schema", {}),
                                              **({"description": p["description"]}
                                                 if "description" in p else {})})
                where[p["name"]] = p["in"]
                if p.get("required"):
                    required.append(p["name"])
            body = _resolve(op.get("requestBody", {}), doc)
            schema = body.get("content", {}).get("application/json", {}).get("schema", {})
            for name, s in schema.get("properties", {}).items():
                props[name] = _simplify(s)
                where[name] = "body"
            required += schema.get("required", [])
            params = {"type": "object", "properties": props, "required": required,
                      "additionalProperties": False}
            description = op.get("description") or op.get("summary") or ""
            out.append(Tool(name=op["operationId"], description=description.strip(),
                            parameters=params,
                            call=_caller(client, method, path, where, op["operationId"])))
    return out


def _caller(client: Any, method: str, path: str, where: dict[str, str], name: str) -> Any:
    def call(args: dict[str, Any]) -> Any:
        import httpx

        url = path
        query, headers, body = {}, {}, {}
        for k, v in args.items():
            place = where.get(k, "body")
            if place == "path":
                url = url.replace("{" + k + "}", str(v))
            elif place == "query":
                query[k] = v
            elif place == "header":
                headers[k] = str(v)
            else:
                body[k] = v
        try:
            resp = client.request(method.upper(), url, params=query, headers=headers,
                                  json=body if body else None)
        except httpx.TransportError as e:  # the service is gone: not the model's doing
            raise EnvironmentCrashed(f"the service at {client.base_url} did not answer "
                                     f"{name} ({type(e).__name__})") from None
        if resp.status_code >= 400:
            try:
                detail = resp.json().get("detail", resp.text)
            except ValueError:
                detail = resp.text
            if isinstance(detail, list):  # FastAPI's validation errors
                detail = "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}"
                                   for d in detail)
            raise ToolError(f"{name}: HTTP {resp.status_code}: {detail}")
        return resp.json() if resp.content else {}

    return call
