#!/usr/bin/env python3
"""Forwards Amazon SP-API notifications from SQS (or EventBridge through SQS) to Stockyard.

Runs as an AWS Lambda handler for an SQS trigger with ReportBatchItemFailures, or from the
command line with an SQS event document on standard input. Each message body is posted byte for
byte to POST {STOCKYARD_URL}/webhooks/amazon with

    X-Stockyard-Signature: sha256=<hex HMAC-SHA256 of the body under the bridge secret>
    X-Stockyard-Delivery:  <SQS message id>

200 (stored, a duplicate, or an informational notification) and 400 (the body could not be read:
Stockyard kept it in its dead-letter list) count as delivered. Anything else (401, 413, 429,
5xx, a timeout, a refused connection) is reported back as a batch item failure, so SQS delivers
the message again and, after the queue's redrive limit, moves it to its dead-letter queue.

Settings (environment): STOCKYARD_URL, STOCKYARD_AMAZON_BRIDGE_SECRET or
STOCKYARD_AMAZON_BRIDGE_SECRET_FILE, STOCKYARD_BRIDGE_TIMEOUT_SECONDS (default 10).
Standard library only.
"""
import hashlib
import hmac
import http.client
import json
import os
import sys
import time
import urllib.error
import urllib.request


def secret():
    value = os.environ.get("STOCKYARD_AMAZON_BRIDGE_SECRET", "").strip()
    if not value and os.environ.get("STOCKYARD_AMAZON_BRIDGE_SECRET_FILE"):
        with open(os.environ["STOCKYARD_AMAZON_BRIDGE_SECRET_FILE"], encoding="utf-8") as file:
            value = file.read().strip()
    if not value:
        raise RuntimeError("STOCKYARD_AMAZON_BRIDGE_SECRET (or _FILE) is not set")
    # During a rotation the variable may hold "current,previous": sign with the current one.
    return value.split(",")[0].strip().encode()


def signature(body, key):
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def log(**fields):
    fields["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    print(json.dumps(fields, sort_keys=True), file=sys.stderr, flush=True)


def forward(message_id, body, key, url, timeout):
    """Posts one body; returns True when Stockyard has it (stored or dead-lettered)."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "X-Stockyard-Signature": signature(body, key),
        "X-Stockyard-Delivery": message_id,
    })
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
            answer = response.read()
    except urllib.error.HTTPError as error:
        status, answer = error.code, error.read()
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        log(level="error", message="forward failed", message_id=message_id, error=type(error).__name__)
        return False
    code = None
    try:
        code = json.loads(answer).get("error", {}).get("code")
    except (ValueError, AttributeError):
        pass
    if status == 200:
        log(level="info", message="forwarded", message_id=message_id, status=status)
        return True
    if status == 400:
        log(level="warning", message="kept as a dead letter by Stockyard", message_id=message_id, status=status, code=code)
        return True
    log(level="error", message="not accepted; SQS will retry", message_id=message_id, status=status, code=code)
    return False


def lambda_handler(event, context=None):
    key = secret()
    url = os.environ["STOCKYARD_URL"].rstrip("/") + "/webhooks/amazon"
    timeout = float(os.environ.get("STOCKYARD_BRIDGE_TIMEOUT_SECONDS", "10"))
    failures = []
    for record in event.get("Records", []):
        message_id = record.get("messageId", "")
        if not forward(message_id, record.get("body", "").encode("utf-8"), key, url, timeout):
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def main(argv):
    if argv[1:] == ["--sign"]:
        print(signature(sys.stdin.buffer.read(), secret()))
        return 0
    result = lambda_handler(json.load(sys.stdin))
    print(json.dumps(result))
    return 1 if result["batchItemFailures"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
