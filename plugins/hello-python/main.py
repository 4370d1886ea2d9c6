#!/usr/bin/env python3
# A warden plugin without any SDK: the whole protocol, by hand, in the standard library.
#
# Framing: one JSON-RPC 2.0 message per line (UTF-8 JSON + "\n") on stdin and stdout.
#  - A message with "method" and "id" is a request: answer it with the same "id" and either
#    "result" or "error": {"code", "message"}. Without "id" it is a notification: never answer.
#  - stdout is the protocol only, flushed after every line; stderr is our log (the daemon keeps it).
#  - Reserved methods start with "warden.": initialize, health, snapshot, shutdown (requests)
#    and event (notification). When stdin closes (EOF), exit.
import json
import sys

calls = 0  # carried in the snapshot, to show what a hot reload can keep


def log(*args):
    print("hello-python:", *args, file=sys.stderr, flush=True)


def send(message):
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", **message}) + "\n")
    sys.stdout.flush()


def hello(params):
    return {"greeting": "Hello, %s!" % params.get("name", "world")}


def add(params):
    return params["a"] + params["b"]


METHODS = {"hello": hello, "add": add}


def handle(method, params):
    global calls
    if method == "warden.initialize":
        calls = (params.get("state") or {}).get("calls", 0)
        log("initialized as", params.get("name"), "with config", params.get("config"))
        return {"methods": sorted(METHODS)}
    if method == "warden.health":
        return {"ok": True, "calls": calls}
    if method == "warden.snapshot":
        return {"calls": calls}
    calls += 1
    return METHODS[method](params)  # KeyError: unknown method, caught below


for line in sys.stdin:  # ends at EOF
    try:
        msg = json.loads(line)
    except ValueError:
        send({"id": None, "error": {"code": -32700, "message": "Parse error"}})
        continue
    if not isinstance(msg, dict):
        send({"id": None, "error": {"code": -32600, "message": "Invalid Request"}})
        continue
    method, params, msg_id = msg.get("method"), msg.get("params") or {}, msg.get("id")
    if "id" not in msg:  # a notification: warden.event, or anything else
        if method == "warden.event":
            log("event", params.get("topic"), "from", params.get("source"))
        continue
    if method == "warden.shutdown":
        send({"id": msg_id, "result": None})
        break
    if method not in METHODS and not str(method).startswith("warden."):
        send({"id": msg_id, "error": {"code": -32601, "message": "Method not found: %s" % method}})
        continue
    try:
        send({"id": msg_id, "result": handle(method, params)})
    except Exception as e:  # a failing method answers an error, the plugin keeps running
        send({"id": msg_id, "error": {"code": -32000, "message": "%s: %s" % (type(e).__name__, e)}})
log("bye")
