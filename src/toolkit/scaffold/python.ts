/** `warden plugin new --lang python`: main.py speaking the protocol by hand (standard library only) and its unittest. */
import { manifestJson, readme, type ScaffoldContext } from './common.js';

/** main.py: the whole protocol, as plugins/hello-python does it, with greet and the greeting count. */
const MAIN_PY = `#!/usr/bin/env python3
# __NAME__: a warden plugin without any SDK, the protocol by hand in the standard library.
#
# One JSON-RPC 2.0 message per line on stdin/stdout. A message with "method" and "id" is a request:
# answer it once, same "id", with "result" or "error". Without "id" it is a notification: never answer.
# stdout is the protocol only (flush every line); stderr is the log. Exit when stdin ends.
import json
import sys

greetings = 0  # handed to the next instance on a hot reload (warden.snapshot -> state)


def log(*args):
    print("__NAME__:", *args, file=sys.stderr, flush=True)


def send(message):
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", **message}) + "\\n")
    sys.stdout.flush()


class InvalidParams(Exception):
    """The caller's mistake: answered -32602, which does not count against the plugin."""


def greet(params):
    global greetings
    name = params.get("name")
    if not isinstance(name, str) or name == "":
        raise InvalidParams("greet needs {name: string}")
    greetings += 1
    return "Hello, %s!" % name


METHODS = {"greet": greet}


def handle(method, params):
    global greetings
    if method == "warden.initialize":
        greetings = (params.get("state") or {}).get("greetings", 0)
        log("initialized as", params.get("name"), "with", greetings, "greetings so far")
        return {"methods": sorted(METHODS)}
    if method == "warden.health":
        return {"ok": True, "greetings": greetings}
    if method == "warden.snapshot":
        return {"greetings": greetings}
    return METHODS[method](params)


def main():
    for line in sys.stdin:  # ends at EOF: the daemon closed our stdin
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            send({"id": None, "error": {"code": -32700, "message": "Parse error"}})
            continue
        if not isinstance(msg, dict):
            send({"id": None, "error": {"code": -32600, "message": "Invalid Request"}})
            continue
        method, params, msg_id = msg.get("method"), msg.get("params") or {}, msg.get("id")
        if "id" not in msg:  # a notification (warden.event): never answered
            if method == "warden.event":
                log("event", params.get("topic"), "from", params.get("source"))
            continue
        if method == "warden.shutdown":
            send({"id": msg_id, "result": None})
            break
        if method not in METHODS and method not in ("warden.initialize", "warden.health", "warden.snapshot"):
            send({"id": msg_id, "error": {"code": -32601, "message": "Method not found: %s" % method}})
            continue
        try:
            send({"id": msg_id, "result": handle(method, params)})
        except InvalidParams as e:
            send({"id": msg_id, "error": {"code": -32602, "message": str(e)}})
        except Exception as e:  # a failing method answers an error; the plugin keeps running
            send({"id": msg_id, "error": {"code": -32000, "message": "%s: %s" % (type(e).__name__, e)}})
    log("bye")


if __name__ == "__main__":
    main()
`;

/** test_main.py: unittest + subprocess, the handshake then greet, snapshot and shutdown. */
const TEST_PY = `# Runs main.py with this python and speaks the warden protocol to it: python3 -m unittest (no daemon needed).
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class Plugin:
    """main.py as a child process; request() sends one request and reads its answer."""

    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "main.py")],
            cwd=HERE, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        self.next_id = 1

    def request(self, method, params=None):
        msg_id = self.next_id
        self.next_id += 1
        line = {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params or {}}
        self.process.stdin.write(json.dumps(line) + "\\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        assert answer["id"] == msg_id, answer
        return answer

    def initialize(self, state=None):
        params = {"protocol": 1, "name": "__NAME__", "version": "0.1.0", "config": {}, "state": state}
        return self.request("warden.initialize", params)

    def close(self):
        self.process.stdin.close()  # a plugin whose stdin ends exits by itself
        code = self.process.wait(timeout=10)
        self.process.stdout.close()
        return code


class GreetTest(unittest.TestCase):
    def test_greet_after_the_handshake_and_the_count_survives_a_snapshot(self):
        first = Plugin()
        self.assertIn("greet", first.initialize()["result"]["methods"])
        self.assertEqual(first.request("greet", {"name": "Ada"})["result"], "Hello, Ada!")
        snapshot = first.request("warden.snapshot")["result"]
        self.assertEqual(snapshot, {"greetings": 1})
        self.assertIsNone(first.request("warden.shutdown")["result"])
        self.assertEqual(first.close(), 0)

        second = Plugin()
        second.initialize(snapshot)
        second.request("greet", {"name": "Grace"})
        self.assertEqual(second.request("warden.snapshot")["result"], {"greetings": 2})
        self.assertEqual(second.close(), 0)

    def test_greet_refuses_params_without_a_name(self):
        plugin = Plugin()
        plugin.initialize()
        self.assertEqual(plugin.request("greet", {})["error"]["code"], -32602)
        plugin.close()


if __name__ == "__main__":
    unittest.main()
`;

/** What the README says about the files. */
const FILES = `## Files

- \`plugin.json\`: the manifest (\`"command": ["python3", "main.py"]\`: run with the plugin folder as working directory)
- \`main.py\`: the plugin, the protocol by hand with the standard library only
- \`test_main.py\`: the test (\`python3 -m unittest\`)
`;

/** Every file of a Python plugin, by path relative to its folder. */
export function pythonFiles(ctx: ScaffoldContext): Record<string, string> {
  const named = (text: string) => text.replaceAll('__NAME__', ctx.name);
  return {
    'plugin.json': manifestJson(ctx, { command: ['python3', 'main.py'] }),
    'main.py': named(MAIN_PY),
    'test_main.py': named(TEST_PY),
    'README.md': readme(ctx, FILES, ''),
  };
}
