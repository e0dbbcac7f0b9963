"""The wrk script of ops/loadtest, run by wrk against a small server that checks each webhook."""

import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import subprocess
import threading
import unittest

OPS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(OPS, "loadtest.lua")
FIXTURE = os.path.join(OPS, "fixtures", "shopify", "orders_create.sample.json")
SECRET = "test-secret-for-the-load-script"
ANSWER = json.dumps({
    "delivery": "applied", "channel": "shopify", "topic": "orders/create", "lines": [],
    "counts": {"applied": 2, "duplicate": 0, "stale": 1, "conflict": 0, "unmapped": 0, "invalid": 0},
}, separators=(",", ":")).encode()


class Webhooks(http.server.ThreadingHTTPServer):
    """Answers every webhook with `status`; counts the bodies whose signature does not match."""

    daemon_threads = True

    def __init__(self, status):
        super().__init__(("127.0.0.1", 0), Handler)
        self.status = status
        self.lock = threading.Lock()
        self.received = 0
        self.bad_signatures = 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        with self.server.lock:
            self.server.received += 1
            if self.headers.get("X-Shopify-Hmac-Sha256") != expected:
                self.server.bad_signatures += 1
        answer = ANSWER if self.server.status == 200 else b'{"error":"unauthorized"}'
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def run_wrk(status, check_answers):
    """Runs the script for a second against a server answering `status`: (figures, server)."""
    server = Webhooks(status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        environment = dict(os.environ, LOADTEST_SECRET=SECRET, LOADTEST_FIXTURE=FIXTURE, LOADTEST_VARIANTS="10",
                           LOADTEST_CHECK_ANSWERS="1" if check_answers else "0")
        output = subprocess.run(
            ["wrk", "-t", "1", "-c", "2", "-d", "1s", "-s", SCRIPT,
             f"http://127.0.0.1:{server.server_address[1]}/webhooks/shopify"],
            env=environment, capture_output=True, text=True, timeout=60, check=True).stdout
    finally:
        server.shutdown()
        server.server_close()
    figures = {}
    for tag in ("RESULT", "KINDS"):
        match = re.search(r"^" + tag + r" (.*)$", output, re.M)
        if match:
            figures[tag] = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", match.group(1))}
    return figures, server


class LoadScriptTests(unittest.TestCase):
    def test_bodies_are_signed_as_shopify_signs_them(self):
        figures, server = run_wrk(200, check_answers=False)
        self.assertGreater(server.received, 10)
        self.assertEqual(server.bad_signatures, 0)
        self.assertEqual(figures["RESULT"]["non200"], 0)
        self.assertEqual(figures["RESULT"]["ok"], figures["RESULT"]["requests"])

    def test_refused_answers_are_counted_once_without_reading_answers(self):
        figures, _ = run_wrk(401, check_answers=False)
        self.assertGreater(figures["RESULT"]["requests"], 10)
        self.assertEqual(figures["RESULT"]["non200"], figures["RESULT"]["requests"])
        self.assertEqual(figures["RESULT"]["ok"], 0)
        self.assertNotIn("KINDS", figures)

    def test_refused_answers_are_counted_once_when_answers_are_read(self):
        figures, _ = run_wrk(401, check_answers=True)
        self.assertGreater(figures["RESULT"]["requests"], 10)
        self.assertEqual(figures["RESULT"]["non200"], figures["RESULT"]["requests"])
        self.assertEqual(figures["RESULT"]["ok"], 0)

    def test_read_answers_are_counted_by_result(self):
        figures, _ = run_wrk(200, check_answers=True)
        requests = figures["RESULT"]["requests"]
        self.assertGreater(requests, 10)
        self.assertEqual(figures["RESULT"]["ok"], requests)
        self.assertEqual(figures["KINDS"]["applied"], 2 * requests)
        self.assertEqual(figures["KINDS"]["stale"], requests)
        self.assertEqual(figures["KINDS"]["duplicate_deliveries"], 0)


if __name__ == "__main__":
    unittest.main()
