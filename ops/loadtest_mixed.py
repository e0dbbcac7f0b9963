"""Requests and checks for ops/loadtest-mixed (four channels at once).

  prepare SERVICE_PORT SANDBOX_PORT ITEMS ON_HAND PER_CHANNEL DIR
      stock and listings; PER_CHANNEL orders per channel (Shopify and Amazon signed here, eBay
      and Etsy stored in the marketplace sandbox, which signs their notifications); 30% duplicate
      deliveries; all shuffled into DIR/requests.bin; units each item should end holding in
      DIR/expected.json
  drain SERVICE_PORT DIR
      waits for the look-up backlog to reach 0 and prints the drain rate
  check SERVICE_PORT ITEMS ON_HAND DIR
      compares every item's available stock with ON_HAND less what it should hold
"""
import base64, hashlib, hmac, http.client, json, os, random, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def connection(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=120)


def call(conn, method, path, body=None, headers=None):
    conn.request(method, path, None if body is None else json.dumps(body), headers or {})
    response = conn.getresponse()
    text = response.read()
    if response.status != 200:
        sys.exit(f"{method} {path}: {response.status} {text[:300]!r}")
    return json.loads(text)


def listing(channel, item):
    return {"shopify": f"7000000000000{item:06d}", "amazon": f"AMZ-{item}", "ebay": str(170_000_000_000 + item),
            "etsy": str(1_700_000_000 + item)}[channel]


def prepare(service_port, sandbox_port, items, on_hand, per_channel, directory):
    admin = {"Authorization": "Bearer " + os.environ["STOCKYARD_ADMIN_TOKEN"], "Content-Type": "application/json"}
    service = connection(service_port)
    call(service, "PUT", "/v1/stock", {"stock": [{"item_id": f"item-{i}", "location_id": "wh-1", "zoho_on_hand": on_hand}
                                                 for i in range(items)]}, admin)
    maps = [{"channel": c, "listing_id": listing(c, i), "item_id": f"item-{i}", "locations": ["wh-1"]}
            for i in range(items) for c in ("shopify", "amazon", "ebay", "etsy")]
    for start in range(0, len(maps), 5000):
        call(service, "PUT", "/v1/listings", {"listings": maps[start:start + 5000]}, admin)

    held = [0] * items
    requests = []
    rng = random.Random(20261123)

    # Shopify: the sample order with its own ids, five lines of one unit each.
    shopify_secret = os.environ["STOCKYARD_SHOPIFY_SECRET"].encode()
    template = open(os.path.join(ROOT, "ops/fixtures/shopify/orders_create.sample.json")).read()
    template = template.replace("820982911946154508", "{ORDER}")
    for index, line in enumerate(["487817672276298554", "789012345678901234", "890123456789012345",
                                  "976318377106520349", "315789986012684393"]):
        template = template.replace(line, "{L%d}" % index)
    parts = template.split('"variant_id": null')
    template = "".join(part + ('"variant_id": {V%d}' % n if n < len(parts) - 1 else "") for n, part in enumerate(parts))
    for order in range(per_channel):
        text = template.replace("{ORDER}", "5100%015d" % order)
        for line in range(5):
            item = rng.randrange(items)
            held[item] += 1
            text = text.replace("{L%d}" % line, "6100%013d%d" % (order, line)).replace("{V%d}" % line, listing("shopify", item))
        body = text.encode()
        signature = base64.b64encode(hmac.new(shopify_secret, body, hashlib.sha256).digest()).decode()
        requests.append(("/webhooks/shopify", {"Content-Type": "application/json", "X-Shopify-Topic": "orders/create",
                                               "X-Shopify-Webhook-Id": f"mixed-{order}", "X-Shopify-Hmac-Sha256": signature,
                                               "X-Shopify-Shop-Domain": "loadtest.myshopify.com"}, body))

    # Amazon: one item per notification, through the bridge's signature.
    bridge_secret = os.environ["STOCKYARD_AMAZON_BRIDGE_SECRET"].encode()
    example = open(os.path.join(ROOT, "Tests/Fixtures/amazon/OrderChangeNotification.example.json")).read()
    for order in range(per_channel):
        item, quantity = rng.randrange(items), rng.randint(1, 3)
        held[item] += quantity
        body = (example.replace("903-8868176-2219830", "903-%07d-%07d" % (order // 1000, order))
                .replace("SellerSKUID1", listing("amazon", item)).replace('"Quantity": 10', f'"Quantity": {quantity}')
                .replace('d0e9e693-c3ad-4373-979f-ed4ec98dd746"\n', f'mixed-amazon-{order}"\n')).encode()
        signature = hmac.new(bridge_secret, body, hashlib.sha256).hexdigest()
        requests.append(("/webhooks/amazon", {"Content-Type": "application/json", "X-Stockyard-Signature": signature}, body))

    # eBay and Etsy: stored in the sandbox, which answers the notifications it would send.
    sandbox = connection(sandbox_port)
    orders, receipts = [], []
    for order in range(per_channel):
        lines = []
        for line in range(2):
            item, quantity = rng.randrange(items), rng.randint(1, 2)
            held[item] += quantity
            lines.append({"lineItemId": f"{order}-{line}", "legacyItemId": listing("ebay", item), "quantity": quantity,
                          "lineItemFulfillmentStatus": "NOT_STARTED"})
        orders.append({"orderId": "28-%05d-%05d" % (order // 100000, order), "lastModifiedDate": "2026-11-23T10:00:00.000Z",
                       "orderFulfillmentStatus": "NOT_STARTED", "cancelStatus": {"cancelState": "NONE_REQUESTED"},
                       "lineItems": lines})
        transactions = []
        for line in range(2):
            item, quantity = rng.randrange(items), rng.randint(1, 2)
            held[item] += quantity
            transactions.append({"transaction_id": 5_000_000_000 + order * 2 + line, "listing_id": int(listing("etsy", item)),
                                 "quantity": quantity})
        receipts.append({"receipt_id": 3_200_000_000 + order, "status": "Paid", "updated_timestamp": 1_763_800_000,
                         "transactions": transactions})
    for start in range(0, per_channel, 2000):
        for n in call(sandbox, "POST", "/sandbox/ebay/orders", orders[start:start + 2000])["notifications"]:
            requests.append(("/webhooks/ebay", n["headers"], n["body"].encode()))
        for n in call(sandbox, "POST", "/sandbox/etsy/shops/56000001/receipts", receipts[start:start + 2000])["notifications"]:
            requests.append(("/webhooks/etsy", n["headers"], n["body"].encode()))

    requests += [rng.choice(requests) for _ in range(len(requests) * 3 // 10)]
    rng.shuffle(requests)
    with open(os.path.join(directory, "requests.bin"), "wb") as out:
        for path, headers, body in requests:
            out.write(f"{path}\n{len(headers)}\n".encode())
            for name, value in headers.items():
                out.write(f"{name}: {value}\n".encode())
            out.write(f"{len(body)}\n".encode() + body)
    json.dump(held, open(os.path.join(directory, "expected.json"), "w"))
    print(f"requests={len(requests)} (of which duplicates={len(requests) * 3 // 13}) per_channel={per_channel}")


def backlog(conn):
    conn.request("GET", "/readyz")
    return json.loads(conn.getresponse().read())["lookups"]["backlog"]


def drain(service_port, directory):
    conn = connection(service_port)
    start, initial = time.monotonic(), backlog(conn)
    remaining = initial
    while remaining > 0:
        if time.monotonic() - start > 1800:
            sys.exit(f"the backlog did not drain within 30 minutes ({remaining} left)")
        time.sleep(0.2)
        remaining = backlog(conn)
    seconds = time.monotonic() - start
    rate = initial / seconds if seconds > 0 and initial else 0
    print(f"DRAIN backlog_at_end_of_load={initial} drained_in_s={seconds:.1f} drain_rate_per_s={rate:.0f}")


def check(service_port, items, on_hand, directory):
    held = json.load(open(os.path.join(directory, "expected.json")))
    conn = connection(service_port)
    wrong = []
    for item in range(items):
        conn.request("GET", f"/v1/stock/item-{item}", headers={"Authorization": "Bearer " + os.environ["STOCKYARD_ADMIN_TOKEN"]})
        available = json.loads(conn.getresponse().read())["locations"][0]["available"]
        if available != on_hand - held[item]:
            wrong.append(f"item-{item}: available {available}, expected {on_hand - held[item]}")
    conn.request("GET", "/metrics")
    metrics = conn.getresponse().read().decode()
    counts = [line for line in metrics.splitlines() if line.startswith(("stockyard_lookups_total", "stockyard_webhooks_total"))
              and not line.endswith(" 0")]
    conn.request("GET", "/v1/dead-letters?limit=20", headers={"Authorization": "Bearer " + os.environ["STOCKYARD_ADMIN_TOKEN"]})
    letters = json.loads(conn.getresponse().read()).get("dead_letters", [])
    print("METRICS " + " ".join(counts))
    print(f"DEAD_LETTERS {len(letters)} " + " ".join(f"{l['channel']}:{l['code']}:{l.get('field')}" for l in letters[:10]))
    print(f"CHECK units_held={sum(held)} items_checked={items} mismatches={len(wrong)}")
    for line in wrong[:20]:
        print(line)
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "prepare":
        prepare(int(args[0]), int(args[1]), int(args[2]), int(args[3]), int(args[4]), args[5])
    elif command == "drain":
        drain(int(args[0]), args[1])
    elif command == "check":
        check(int(args[0]), int(args[1]), int(args[2]), args[3])
    else:
        sys.exit(__doc__)
