#!/usr/bin/env python3
"""Signed Shopify orders/* deliveries for ops/loadtest-webhooks, built from Shopify's sample body.

Every order is the sample order (ops/fixtures/shopify/orders_create.sample.json) with its own
order id, number, line item ids, quantities (1..3 per line) and a variant per line drawn from a
pool of --variants, made a fresh paid order. Ids stay above 2^53 like Shopify's, and consecutive,
so a reader that rounds them through a double merges orders or listings and the stock check
catches it. Bodies keep the sample's layout (2-space indent, ~15 KB).

The delivery mix, in one order that wrk sends stream by stream:
  - one orders/create per order;
  - for --update-share of the orders, an orders/updated with a later updated_at and a lower
    current_quantity on some lines; --early-share of those come well before their order's
    orders/create (Shopify does reorder), whose lines are then older than what is held: stale;
  - --duplicate-share of all deliveries are redeliveries of an earlier one (same body, same
    X-Shopify-Webhook-Id), some right after it, some much later.

Written to --out:
  requests.txt      the deliveries, in sending order (format below), read by ops/loadtest-webhooks.lua
  stock-NNN.json    PUT /v1/stock bodies: every item at one location
  listings-NNN.json PUT /v1/listings bodies: shopify variant -> item, one item per variant
  expected.json     per item the units the latest line states hold and the `available` that leaves,
                    plus the mix and the results the deliveries would get if answered in file order

requests.txt: a "#" comment line, then per delivery either
  B <order> <topic> <webhook-id> <event-id> <hmac> <triggered-at> <length>\\n<body bytes>\\n
  R <order> <n>\\n          (a redelivery of the n-th B delivery, counting from 1)
<order> is the order's index: wrk thread t of T sends the deliveries with order % T == t.

The HMAC key is read from LOADTEST_SHOPIFY_SECRET (kept off the command line). Standard library only.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import random
import re
import sys
import uuid

# Id ranges: the sample's own ids, counted upwards (all above 2^53 = 9007199254740992).
ORDER_BASE = 820982911946154508
LINE_BASE = 487817672276298554
VARIANT_BASE = 45671234567890001
ORDER_NUMBER_BASE = 1001
# Orders are created half a second apart from here, in the shop's time zone (as in the sample).
START = datetime.datetime(2026, 11, 23, 8, 0, 0, tzinfo=datetime.timezone.utc)
SHOP_ZONE = datetime.timezone(datetime.timedelta(hours=-5))
CHUNK = 5000  # rows per set-up request


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--fixture", required=True, help="Shopify sample order body (JSON)")
    p.add_argument("--out", required=True, help="directory to write into")
    p.add_argument("--orders", type=int, default=20000)
    p.add_argument("--variants", type=int, default=1000, help="variants (one item each) the lines are spread over")
    p.add_argument("--location", default="wh-1")
    p.add_argument("--on-hand", type=int, default=1000000, help="zoho_on_hand of every item")
    p.add_argument("--duplicate-share", type=float, default=0.30, help="share of all deliveries that are redeliveries")
    p.add_argument("--update-share", type=float, default=0.05, help="share of orders that also get orders/updated")
    p.add_argument("--early-share", type=float, default=0.4, help="share of those updates sent before the creation")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    if args.orders < 1 or args.variants < 1:
        p.error("--orders and --variants must be at least 1")
    if not 0 <= args.duplicate_share < 1:
        p.error("--duplicate-share must be in [0, 1)")
    return args


class Template:
    """The sample body as literal pieces with named holes, so each body is one join."""

    HOLE = re.compile(r'"@@(\w+)@@"')

    def __init__(self, fixture):
        order = json.loads(fixture)
        order["id"] = "@@order_id@@"
        order["admin_graphql_api_id"] = "@@order_gid@@"
        order["name"] = "@@name@@"
        order["number"] = "@@number@@"
        order["order_number"] = "@@order_number@@"
        for field in ("created_at", "processed_at", "updated_at"):
            order[field] = "@@" + field + "@@"
        # A fresh, paid order: the sample is a cancelled, voided one.
        order["cancelled_at"] = None
        order["cancel_reason"] = None
        order["financial_status"] = "paid"
        order["confirmed"] = True
        self.gift_cards = []
        for i, line in enumerate(order["line_items"]):
            line["id"] = f"@@line{i}_id@@"
            line["admin_graphql_api_id"] = f"@@line{i}_gid@@"
            line["quantity"] = f"@@line{i}_quantity@@"
            line["current_quantity"] = f"@@line{i}_current@@"
            line["fulfillable_quantity"] = f"@@line{i}_current@@"
            line["variant_id"] = f"@@line{i}_variant@@"
            self.gift_cards.append(bool(line.get("gift_card")))
        self.lines = len(order["line_items"])
        # The sample's own layout: json.dumps(indent=2) gives it back byte for byte.
        self.parts = self.HOLE.split(json.dumps(order, indent=2, ensure_ascii=False))

    def render(self, values):
        parts = list(self.parts)
        for i in range(1, len(parts), 2):
            parts[i] = json.dumps(values[parts[i]])  # ints come out digit for digit
        return "".join(parts).encode("utf-8")


def rfc3339_shop(moment):
    return moment.astimezone(SHOP_ZONE).isoformat(timespec="seconds")


def rfc3339_utc(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def main():
    args = parse_args()
    secret = os.environ.get("LOADTEST_SHOPIFY_SECRET", "").encode()
    if not secret:
        sys.exit("LOADTEST_SHOPIFY_SECRET is not set")
    with open(args.fixture, "rb") as f:
        template = Template(f.read())
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)

    def new_uuid():
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    # Orders: ids, one variant and a quantity per line, the creation time.
    orders = []
    for k in range(args.orders):
        created = START + datetime.timedelta(seconds=k / 2)
        lines = []
        for i in range(template.lines):
            quantity = rng.randint(1, 3)
            lines.append({"id": LINE_BASE + k * 8 + i, "variant": rng.randrange(args.variants), "quantity": quantity})
        orders.append({"k": k, "id": ORDER_BASE + 1 + k, "number": ORDER_NUMBER_BASE + k, "created": created, "lines": lines})

    def delivery(order, topic, version, currents, key):
        values = {
            "order_id": order["id"], "order_gid": f"gid://shopify/Order/{order['id']}",
            "name": f"#{order['number']}", "number": order["number"] - 1000, "order_number": order["number"],
            "created_at": rfc3339_shop(order["created"]), "processed_at": rfc3339_shop(order["created"]),
            "updated_at": rfc3339_shop(version),
        }
        for i, line in enumerate(order["lines"]):
            values[f"line{i}_id"] = line["id"]
            values[f"line{i}_gid"] = f"gid://shopify/LineItem/{line['id']}"
            values[f"line{i}_quantity"] = line["quantity"]
            values[f"line{i}_current"] = currents[i]
            values[f"line{i}_variant"] = VARIANT_BASE + line["variant"]
        body = template.render(values)
        return {
            "order": order, "topic": topic, "version": version, "currents": currents, "key": key,
            "body": body, "hmac": base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode(),
            "webhook_id": new_uuid(), "event_id": new_uuid(),
            # Shopify stamps the trigger a moment after the change; redeliveries repeat it.
            "triggered_at": rfc3339_utc(version + datetime.timedelta(milliseconds=rng.randint(50, 900))),
        }

    # Unique deliveries with a sort key in "order positions": creations at k, updates shortly
    # after (k + 1..400) or, for the early ones, 400..1500 positions before their creation: far
    # enough that the update has been answered before the creation is sent, whatever the
    # number of connections in flight.
    unique = []
    for order in orders:
        unique.append(delivery(order, "orders/create", order["created"], [l["quantity"] for l in order["lines"]], order["k"]))
    updated = rng.sample(orders, round(args.orders * args.update_share))
    early = set(o["k"] for o in updated[:round(len(updated) * args.early_share)])
    for order in updated:
        currents = [l["quantity"] for l in order["lines"]]
        reduced = [i for i in range(len(currents)) if rng.random() < 0.5] or [rng.randrange(len(currents))]
        for i in reduced:
            currents[i] = rng.randint(0, currents[i] - 1)
        version = order["created"] + datetime.timedelta(seconds=rng.randint(60, 7200))
        key = order["k"] - rng.uniform(400, 1500) if order["k"] in early else order["k"] + rng.uniform(1, 400)
        unique.append(delivery(order, "orders/updated", version, currents, key))

    # Redeliveries: copies of random earlier deliveries, from right after to ~2000 positions later.
    total = round(len(unique) / (1 - args.duplicate_share))
    sequence = [(d["key"], n, d, False) for n, d in enumerate(unique)]
    for n in range(total - len(unique)):
        original = rng.choice(unique)
        gap = rng.uniform(0.5, 20) if rng.random() < 0.25 else rng.uniform(20, 2000)
        sequence.append((original["key"] + gap, len(unique) + n, original, True))
    sequence.sort(key=lambda s: (s[0], s[1]))

    # The requests file, and the results the deliveries would get if answered in this order.
    entry_of = {}
    held_lines = {}  # (order id, line id) -> (version, quantity, variant)
    intended = {"deliveries_applied": 0, "deliveries_duplicate": 0, "applied": 0, "duplicate": 0, "stale": 0, "conflict": 0}
    body_bytes = 0
    with open(os.path.join(args.out, "requests.txt"), "wb") as out:
        out.write(b"# stockyard loadtest requests v1: B <order> <topic> <webhook-id> <event-id> <hmac> <triggered-at> <length> / R <order> <entry>\n")
        for _, _, d, redelivery in sequence:
            k = d["order"]["k"]
            if redelivery:
                out.write(f"R {k} {entry_of[d['webhook_id']]}\n".encode())
                intended["deliveries_duplicate"] += 1
                continue
            entry_of[d["webhook_id"]] = len(entry_of) + 1
            out.write(f"B {k} {d['topic']} {d['webhook_id']} {d['event_id']} {d['hmac']} {d['triggered_at']} {len(d['body'])}\n".encode())
            out.write(d["body"])
            out.write(b"\n")
            body_bytes += len(d["body"])
            intended["deliveries_applied"] += 1
            for i, line in enumerate(d["order"]["lines"]):
                if template.gift_cards[i]:
                    continue
                key = (d["order"]["id"], line["id"])
                state = held_lines.get(key)
                if state is None or d["version"] > state[0]:
                    intended["applied"] += 1
                    held_lines[key] = (d["version"], d["currents"][i], line["variant"])
                elif d["version"] < state[0]:
                    intended["stale"] += 1
                elif d["currents"][i] == state[1]:
                    intended["duplicate"] += 1
                else:
                    intended["conflict"] += 1

    # What every item should show: the latest state of every line, summed per variant's item.
    def item_id(v):
        return f"lt-item-{v:05d}"

    held = [0] * args.variants
    for _, quantity, variant in held_lines.values():
        held[variant] += quantity
    # The same figure straight from the orders (latest version per order), as a cross-check.
    latest = {}
    for d in unique:
        if d["order"]["k"] not in latest or d["version"] > latest[d["order"]["k"]]["version"]:
            latest[d["order"]["k"]] = d
    check = [0] * args.variants
    for d in latest.values():
        for i, line in enumerate(d["order"]["lines"]):
            if not template.gift_cards[i]:
                check[line["variant"]] += d["currents"][i]
    assert check == held, "expected figures disagree"

    expected = {
        "location_id": args.location,
        "on_hand": args.on_hand,
        "items": {item_id(v): {"held": held[v], "available": args.on_hand - held[v]} for v in range(args.variants)},
        "mix": {
            "orders": args.orders, "deliveries": len(sequence), "unique_deliveries": len(unique),
            "redeliveries": len(sequence) - len(unique), "updates": len(updated), "updates_before_creation": len(early),
            "lines": len(held_lines), "units_held": sum(held), "mean_body_bytes": round(body_bytes / len(unique)),
        },
        "intended": intended,
    }
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)

    for start in range(0, args.variants, CHUNK):
        chunk = range(start, min(start + CHUNK, args.variants))
        number = start // CHUNK + 1
        with open(os.path.join(args.out, f"stock-{number:03d}.json"), "w") as f:
            json.dump({"stock": [{"item_id": item_id(v), "location_id": args.location, "zoho_on_hand": args.on_hand} for v in chunk]}, f)
        with open(os.path.join(args.out, f"listings-{number:03d}.json"), "w") as f:
            json.dump({"listings": [{"channel": "shopify", "listing_id": str(VARIANT_BASE + v), "item_id": item_id(v),
                                     "locations": [args.location]} for v in chunk]}, f)

    m = expected["mix"]
    print(f"{m['orders']} orders, {m['deliveries']} deliveries ({m['redeliveries']} redeliveries, {m['updates']} orders/updated, "
          f"{m['updates_before_creation']} of them before their orders/create), {m['lines']} order lines, "
          f"{m['units_held']} units held over {args.variants} items, bodies {m['mean_body_bytes']} bytes on average",
          file=sys.stderr)


if __name__ == "__main__":
    main()
