"""A webhook receiver for the tests: verifies every delivery with the
reference Standard Webhooks library (PyPI `standardwebhooks`, installed by
scripts/setup.sh) and writes what it saw to a file the tests read.

    python webhook_receiver.py --port PORT --dir DIR

DIR/secrets.json   the secrets to verify with (a JSON list), read per request
DIR/mode.json      {"status": 200, "delay_ms": 0}, read per request
DIR/received.jsonl one line per request: webhook-id, type, which secrets
                   verified, the status answered, the parsed body
"""

import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

LOCK = threading.Lock()


def read_json(path, default):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (FileNotFoundError, json.JSONDecodeError):
        return default


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            secrets = read_json(os.path.join(args.dir, "secrets.json"), [])
            mode = read_json(os.path.join(args.dir, "mode.json"), {})
            headers = {k.lower(): v for k, v in self.headers.items()}
            verified = []
            for secret in secrets:
                try:
                    Webhook(secret).verify(body, headers)
                    verified.append(True)
                except WebhookVerificationError:
                    verified.append(False)
            delay = mode.get("delay_ms", 0)
            if delay:
                time.sleep(delay / 1000)
            status = mode.get("status", 200)
            if secrets and not any(verified):
                status = 401
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            line = {
                "id": headers.get("webhook-id"),
                "timestamp": headers.get("webhook-timestamp"),
                "signatures": len(headers.get("webhook-signature", "").split()),
                "path": self.path,
                "verified": verified,
                "status": status,
                "body": parsed,
            }
            with LOCK:
                with open(os.path.join(args.dir, "received.jsonl"), "a", encoding="utf-8") as f:
                    f.write(json.dumps(line) + "\n")
            answer = b"received" if status < 300 else b"failing on purpose"
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
