"""Drives ops/loadtest-zoho: sale events at a steady rate, probes for confirmation latency,
and the figures at the end. Standard library only."""
import http.client
import json
import os
import random
import threading
import time
import urllib.parse

SERVICE = urllib.parse.urlparse(os.environ["SERVICE_URL"])
SANDBOX = urllib.parse.urlparse(os.environ["SANDBOX_URL"])
TOKEN = os.environ["STOCKYARD_ADMIN_TOKEN"]
DURATION = float(os.environ["DURATION"])
RATE = int(os.environ["RATE"])
PAIRS = int(os.environ["PAIRS"])
FLUSH_INTERVAL = float(os.environ["FLUSH_INTERVAL"])
LOCATIONS = ["L1", "L2", "L3", "L4", "L5"]
TICK = 0.1  # seconds between requests


class Client:
    def __init__(self, url, token=None):
        self.url, self.token = url, token
        self.connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(5):
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                return response.status, json.loads(response.read() or b"{}")
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=60)
                time.sleep(0.2 * (attempt + 1))
        raise RuntimeError("no answer from %s%s" % (self.url.netloc, path))


def pair(index):
    return "item-%d" % (index // len(LOCATIONS)), LOCATIONS[index % len(LOCATIONS)]


def main():
    service = Client(SERVICE, TOKEN)
    sandbox = Client(SANDBOX)
    probes_needed = int(DURATION) + 10
    print("mapping %d item x location pairs and %d probe rows" % (PAIRS, probes_needed), flush=True)
    listings = []
    for index in range(PAIRS):
        item, location = pair(index)
        listings.append({"channel": "amazon", "listing_id": "%s-%s" % (item, location), "item_id": item, "locations": [location]})
    for probe in range(probes_needed):
        listings.append({"channel": "amazon", "listing_id": "probe-%d" % probe, "item_id": "probe-%d" % probe, "locations": ["L1"]})
    for start in range(0, len(listings), 5000):
        status, answer = service.call("PUT", "/v1/listings", {"listings": listings[start:start + 5000]})
        assert status == 200, answer

    expected = {}
    acknowledged = 0
    probe_sent = {}
    probe_confirmed = {}
    lock = threading.Lock()
    stop = threading.Event()

    def poll_probes():
        poller = Client(SERVICE, TOKEN)
        while not stop.is_set() or len(probe_confirmed) < len(probe_sent):
            with lock:
                waiting = [p for p in probe_sent if p not in probe_confirmed]
            for probe in waiting:
                status, answer = poller.call("GET", "/v1/stock/probe-%d" % probe)
                if status == 200 and answer["locations"][0]["zoho_on_hand"] == -1:
                    with lock:
                        probe_confirmed[probe] = time.time()
            if stop.is_set() and time.time() > stop_time[0] + 1800:
                break
            time.sleep(0.25)

    stop_time = [0.0]
    poller = threading.Thread(target=poll_probes, daemon=True)
    poller.start()

    _, stats_before = sandbox.call("GET", "/sandbox/stats")
    print("sending %d events/s for %d s" % (RATE, DURATION), flush=True)
    rng = random.Random(7)
    per_tick = max(1, int(RATE * TICK))
    started = time.time()
    next_tick = started
    next_probe = started
    sequence = 0
    probe = 0
    while time.time() - started < DURATION:
        events = []
        for _ in range(per_tick):
            index = rng.randrange(PAIRS)
            item, location = pair(index)
            quantity = rng.randint(1, 3)
            events.append({"channel": "amazon", "listing_id": "%s-%s" % (item, location), "order_id": "o%d" % sequence,
                           "line_id": "1", "quantity": quantity, "version": 1})
            sequence += 1
        status, answer = service.call("POST", "/v1/events", {"events": events})
        if status == 200:
            acknowledged += len(events)
            for event in events:
                item, location = event["listing_id"].rsplit("-", 1)
                expected[(item, location)] = expected.get((item, location), 0) - event["quantity"]
        if time.time() >= next_probe:
            status, _ = service.call("POST", "/v1/events", {"events": [{"channel": "amazon", "listing_id": "probe-%d" % probe,
                                                                          "order_id": "p%d" % probe, "line_id": "1", "quantity": 1, "version": 1}]})
            if status == 200:
                with lock:
                    probe_sent[probe] = time.time()
                expected[("probe-%d" % probe, "L1")] = -1
            probe += 1
            next_probe += 1.0
        next_tick += TICK
        delay = next_tick - time.time()
        if delay > 0:
            time.sleep(delay)
    elapsed = time.time() - started
    stop_time[0] = time.time()
    stop.set()
    _, stats_at_stop = sandbox.call("GET", "/sandbox/stats")
    print("sent %d events in %.1f s (%.0f/s); waiting for the last flushes" % (acknowledged, elapsed, acknowledged / elapsed), flush=True)

    # The backlog drains at the call limit; give up only when Zoho stops receiving lines.
    nets = {}
    last_lines, last_progress = -1, time.time()
    while time.time() - last_progress < 4 * FLUSH_INTERVAL + 120:
        _, answer = sandbox.call("GET", "/sandbox/nets")
        nets = {(n["item_id"], n["location_id"]): n["quantity"] for n in answer["nets"]}
        if nets == expected:
            break
        _, progress = sandbox.call("GET", "/sandbox/stats")
        if progress["lines_received"] != last_lines:
            last_lines, last_progress = progress["lines_received"], time.time()
        time.sleep(5)
    drained = time.time() - stop_time[0]
    poller.join(timeout=60)
    _, stats = sandbox.call("GET", "/sandbox/stats")
    calls = stats["calls"] - stats_before["calls"]
    adjustments = stats["adjustments"] - stats_before["adjustments"]
    latencies = sorted(probe_confirmed[p] - probe_sent[p] for p in probe_confirmed)

    def percentile(values, fraction):
        return values[min(len(values) - 1, int(fraction * len(values)))] if values else float("nan")

    events_total = acknowledged + len(probe_sent)
    print()
    print("events acknowledged        %d (%.0f/s over %.0f s)" % (events_total, events_total / elapsed, elapsed))
    storm_calls = stats_at_stop["calls"] - stats_before["calls"]
    storm_adjustments = stats_at_stop["adjustments"] - stats_before["adjustments"]
    print("during the storm           %d adjustment calls (%d API calls, %.1f a minute), %d lines" % (
        storm_adjustments, storm_calls, storm_calls / (elapsed / 60), stats_at_stop["lines_received"] - stats_before["lines_received"]))
    print("sale events per call       %.0f during the storm; %.0f counting the drain (%d calls, %d lines in all)" % (
        events_total / storm_adjustments if storm_adjustments else float("nan"),
        events_total / adjustments if adjustments else float("nan"), adjustments, stats["lines_received"]))
    print("most calls in any minute   %d (sandbox limit %d); all API calls %d" % (
        stats["max_calls_in_a_minute"], stats["calls_per_minute_limit"], calls))
    print("429 answers                %d" % stats["rate_limited"])
    print("ack -> Zoho confirmation   p50 %.1f s, p99 %.1f s, max %.1f s (%d probes, %d confirmed)" % (
        percentile(latencies, 0.5), percentile(latencies, 0.99), latencies[-1] if latencies else float("nan"),
        len(probe_sent), len(latencies)))
    exact = nets == expected
    print("Zoho net = acknowledged net: %s (%d rows; backlog drained %.0f s after the last event)" % (
        "yes" if exact else "NO", len(expected), drained))
    if not exact:
        missing = [k for k in expected if nets.get(k) != expected[k]]
        print("  rows that differ: %d, e.g. %s" % (len(missing), missing[:5]))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
