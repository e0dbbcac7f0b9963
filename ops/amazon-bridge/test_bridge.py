"""Tests for bridge.py against a real HTTP server on a loopback port.

The server checks X-Stockyard-Signature with its own HMAC, records what it received and answers
with a status chosen per test (or per message id). Run from the repository root with

    python3 -m unittest discover -s ops/amazon-bridge -v
"""
import contextlib
import hashlib
import hmac
import http.server
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bridge  # noqa: E402

# Loopback requests must not go through a proxy taken from the environment.
for _name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
    os.environ.pop(_name, None)

SECRET = "test-bridge-secret-7f3a9c"
FIXTURE = os.path.join(HERE, "sqs-event.example.json")
ERROR_CODES = {400: "invalid_json", 401: "unauthorized", 413: "body_too_large", 429: "too_many_requests",
               500: "internal_error", 503: "store_unavailable"}


class Receiver:
    """A local stand-in for Stockyard's POST /webhooks/amazon."""

    def __init__(self, secret=SECRET, status=200, statuses=None, delay=0.0, max_body=None):
        self.secret, self.status, self.statuses = secret.encode(), status, statuses or {}
        self.delay, self.max_body = delay, max_body
        self.received = []
        self.release = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = "sha256=" + hmac.new(receiver.secret, body, hashlib.sha256).hexdigest()
                signed = hmac.compare_digest(self.headers.get("X-Stockyard-Signature", ""), expected)
                delivery = self.headers.get("X-Stockyard-Delivery")
                receiver.received.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                          "signed": signed, "delivery": delivery})
                if receiver.delay:
                    receiver.release.wait(receiver.delay)
                if not signed:
                    status = 401
                elif receiver.max_body is not None and len(body) > receiver.max_body:
                    status = 413
                else:
                    status = receiver.statuses.get(delivery, receiver.status)
                answer = {"outcome": "applied"} if status == 200 else {
                    "error": {"code": ERROR_CODES.get(status, "error"), "message": "test answer"}}
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def free_port():
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def record(message_id, body):
    """An SQS record as Lambda passes it to the handler."""
    return {"messageId": message_id, "receiptHandle": "rh-" + message_id, "body": body,
            "md5OfBody": hashlib.md5(body.encode("utf-8")).hexdigest(), "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:sp-api-notifications",
            "awsRegion": "us-east-1", "attributes": {}, "messageAttributes": {}}


def failed_ids(result):
    return [item["itemIdentifier"] for item in result["batchItemFailures"]]


class BridgeTests(unittest.TestCase):
    def setUp(self):
        self.receiver = None
        self.environ = mock.patch.dict(os.environ, {"STOCKYARD_AMAZON_BRIDGE_SECRET": SECRET,
                                                    "STOCKYARD_BRIDGE_TIMEOUT_SECONDS": "5"})
        self.environ.start()
        os.environ.pop("STOCKYARD_AMAZON_BRIDGE_SECRET_FILE", None)
        self.addCleanup(self.environ.stop)
        with open(FIXTURE, encoding="utf-8") as file:
            self.example = json.load(file)
        self.order_change = self.example["Records"][0]["body"]

    def tearDown(self):
        if self.receiver:
            self.receiver.close()

    def serve(self, **options):
        if self.receiver:
            self.receiver.close()
        self.receiver = Receiver(**options)
        os.environ["STOCKYARD_URL"] = self.receiver.url
        return self.receiver

    def run_bridge(self, records):
        """Runs the handler; returns its answer and the parsed log lines it wrote to stderr."""
        captured = io.StringIO()
        with contextlib.redirect_stderr(captured):
            result = bridge.lambda_handler({"Records": records}, None)
        self.log_text = captured.getvalue()
        return result, [json.loads(line) for line in self.log_text.splitlines()]

    def assertFails(self, records, expected_ids):
        result, logs = self.run_bridge(records)
        self.assertEqual(failed_ids(result), expected_ids)
        self.assertNotIn(SECRET, self.log_text)
        return logs

    # Headers and bytes

    def test_forwards_exact_bytes_with_signature_and_delivery_id(self):
        receiver = self.serve()
        os.environ["STOCKYARD_URL"] = receiver.url + "/"
        odd = ('{"NotificationType":"ORDER_CHANGE","Payload":{"OrderChangeNotification":{'
               '"AmazonOrderId":"903-1\\u00262","SellerId":"Café Ünïcode € 日本 😀",'
               '"Note":"a\\u0026b & c \\u003c\\/tag\\u003e"}}}')
        envelope = json.dumps({"version": "0", "id": "eb-1", "detail-type": "ORDER_CHANGE",
                               "source": "aws.partner/sellingpartnerapi.amazon.com",
                               "detail": {"NotificationType": "ORDER_CHANGE", "note": "ä\u0026"}}, indent=1) + "\r\n"
        bodies = {"m-fixture": self.order_change, "m-odd": odd, "m-eventbridge": envelope}
        # The event goes through JSON text, as Lambda delivers it.
        event_text = json.dumps({"Records": [record(k, v) for k, v in bodies.items()]})
        result, logs = self.run_bridge(json.loads(event_text)["Records"])
        self.assertEqual(result, {"batchItemFailures": []})
        self.assertEqual(len(receiver.received), 3)
        for seen in receiver.received:
            sent = bodies[seen["delivery"]].encode("utf-8")
            self.assertEqual(seen["path"], "/webhooks/amazon")
            self.assertEqual(seen["body"], sent)
            self.assertTrue(seen["signed"])
            self.assertEqual(seen["headers"]["Content-Type"], "application/json")
            self.assertEqual(seen["headers"]["X-Stockyard-Signature"],
                             "sha256=" + hmac.new(SECRET.encode(), sent, hashlib.sha256).hexdigest())
        odd_seen = next(s for s in receiver.received if s["delivery"] == "m-odd")
        self.assertIn(b"903-1\\u00262", odd_seen["body"])
        self.assertIn("Café Ünïcode € 日本 😀".encode("utf-8"), odd_seen["body"])
        self.assertEqual({entry["message_id"] for entry in logs}, set(bodies))
        self.assertTrue(all(entry["status"] == 200 for entry in logs))
        self.assertNotIn("Café", self.log_text)
        self.assertNotIn("903-8868176-2219830", self.log_text)

    # Answers

    def test_200_is_success(self):
        receiver = self.serve(status=200)
        result, logs = self.run_bridge([record("m-1", self.order_change)])
        self.assertEqual(result, {"batchItemFailures": []})
        self.assertEqual(len(receiver.received), 1)
        self.assertEqual(logs[0]["level"], "info")

    def test_400_is_success_with_a_warning_naming_the_error_code(self):
        self.serve(status=400)
        result, logs = self.run_bridge([record("m-1", '{"NotificationType": "ORDER_CHANGE"')])
        self.assertEqual(result, {"batchItemFailures": []})
        self.assertEqual(logs[0]["level"], "warning")
        self.assertEqual(logs[0]["status"], 400)
        self.assertEqual(logs[0]["code"], "invalid_json")
        self.assertEqual(logs[0]["message_id"], "m-1")

    def test_401_when_the_secret_does_not_match(self):
        receiver = self.serve(secret="the-service-has-another-secret")
        logs = self.assertFails([record("m-1", self.order_change)], ["m-1"])
        self.assertFalse(receiver.received[0]["signed"])
        self.assertEqual((logs[0]["level"], logs[0]["status"], logs[0]["code"]), ("error", 401, "unauthorized"))

    def test_413_when_the_body_is_too_large(self):
        self.serve(max_body=1024)
        logs = self.assertFails([record("m-big", '{"pad":"%s"}' % ("x" * 4096))], ["m-big"])
        self.assertEqual((logs[0]["level"], logs[0]["status"]), ("error", 413))

    def test_5xx_and_429_are_retried(self):
        for status in (503, 500, 502, 429):
            with self.subTest(status=status):
                self.serve(status=status)
                logs = self.assertFails([record("m-%d" % status, self.order_change)], ["m-%d" % status])
                self.assertEqual((logs[0]["level"], logs[0]["status"]), ("error", status))

    def test_timeout_is_retried(self):
        self.serve(delay=5)
        os.environ["STOCKYARD_BRIDGE_TIMEOUT_SECONDS"] = "0.3"
        logs = self.assertFails([record("m-slow", self.order_change)], ["m-slow"])
        self.assertEqual(logs[0]["level"], "error")

    def test_connection_refused_is_retried(self):
        os.environ["STOCKYARD_URL"] = "http://127.0.0.1:%d" % free_port()
        logs = self.assertFails([record("m-1", self.order_change), record("m-2", "{}")], ["m-1", "m-2"])
        self.assertEqual([entry["level"] for entry in logs], ["error", "error"])

    def test_garbled_answer_is_retried(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def answer():
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(b"not an http status line\r\n\r\n")
        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        os.environ["STOCKYARD_URL"] = "http://127.0.0.1:%d" % listener.getsockname()[1]
        try:
            logs = self.assertFails([record("m-garbled", self.order_change)], ["m-garbled"])
        finally:
            thread.join(timeout=5)
            listener.close()
        self.assertEqual(logs[0]["level"], "error")

    def test_mixed_batch_reports_only_the_failing_ids(self):
        statuses = {"m-ok": 200, "m-dead": 400, "m-down": 503, "m-busy": 429, "m-big": 413, "m-ok2": 200}
        receiver = self.serve(statuses=statuses)
        self.assertFails([record(i, self.order_change) for i in statuses], ["m-down", "m-busy", "m-big"])
        self.assertEqual([seen["delivery"] for seen in receiver.received], list(statuses))

    # Configuration and logs

    def test_secret_from_file(self):
        receiver = self.serve()
        del os.environ["STOCKYARD_AMAZON_BRIDGE_SECRET"]
        with tempfile.NamedTemporaryFile("w", suffix=".secret", delete=False) as file:
            file.write(SECRET + "\n")
        self.addCleanup(os.unlink, file.name)
        os.environ["STOCKYARD_AMAZON_BRIDGE_SECRET_FILE"] = file.name
        result, _ = self.run_bridge([record("m-1", self.order_change)])
        self.assertEqual(result, {"batchItemFailures": []})
        self.assertTrue(receiver.received[0]["signed"])

    def test_signs_with_the_first_secret_of_a_rotation_list(self):
        receiver = self.serve()
        os.environ["STOCKYARD_AMAZON_BRIDGE_SECRET"] = SECRET + ",previous-secret"
        result, _ = self.run_bridge([record("m-1", self.order_change)])
        self.assertEqual(result, {"batchItemFailures": []})
        self.assertTrue(receiver.received[0]["signed"])

    def test_secret_never_logged(self):
        statuses = {"a": 200, "b": 400, "c": 401, "d": 413, "e": 503}
        self.serve(statuses=statuses)
        _, logs = self.run_bridge([record(i, self.order_change) for i in statuses])
        self.serve(secret="other")
        _, more = self.run_bridge([record("f", self.order_change)])
        os.environ["STOCKYARD_URL"] = "http://127.0.0.1:%d" % free_port()
        _, refused = self.run_bridge([record("g", self.order_change)])
        self.assertEqual(len(logs + more + refused), 7)
        for entry in logs + more + refused:
            self.assertNotIn(SECRET, json.dumps(entry))
            self.assertNotIn("body", entry)

    # Command line

    def command(self, *args, stdin=b""):
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        return subprocess.run([sys.executable, os.path.join(HERE, "bridge.py"), *args], input=stdin,
                              capture_output=True, env=env, timeout=30)

    def test_command_line_runs_the_example_event(self):
        receiver = self.serve()
        with open(FIXTURE, "rb") as file:
            done = self.command(stdin=file.read())
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(json.loads(done.stdout), {"batchItemFailures": []})
        self.assertNotIn(SECRET.encode(), done.stderr)
        self.assertEqual([s["body"] for s in receiver.received],
                         [r["body"].encode("utf-8") for r in self.example["Records"]])
        for item in self.example["Records"]:
            self.assertEqual(json.loads(item["body"]).get("NotificationType", json.loads(item["body"]).get(
                "notificationType")), "ORDER_CHANGE")

    def test_command_line_exits_1_on_failures(self):
        self.serve(statuses={"m-2": 503})
        event = {"Records": [record("m-1", "{}"), record("m-2", "{}")]}
        done = self.command(stdin=json.dumps(event).encode())
        self.assertEqual(done.returncode, 1)
        self.assertEqual(json.loads(done.stdout), {"batchItemFailures": [{"itemIdentifier": "m-2"}]})

    def test_command_line_sign(self):
        body = self.order_change.encode("utf-8") + "é\\u0026".encode("utf-8")
        done = self.command("--sign", stdin=body)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.decode().strip(),
                         "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest())


if __name__ == "__main__":
    unittest.main()
