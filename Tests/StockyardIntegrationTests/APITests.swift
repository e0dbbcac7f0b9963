import Foundation
import StockyardOutbound
import StockyardRedis
import Testing

/// The HTTP API of the real executable, over loopback, backed by a real Redis.
@Suite(.serialized) final class APITests {
    let service: ServiceProcess
    let api: APIClient

    init() throws {
        service = try ServiceProcess(redisURL: SharedRedis.url, environment: ["STOCKYARD_MAX_BODY_BYTES": "65536"])
        api = APIClient(baseURL: service.baseURL)
        let stock = try api.send("PUT", "/v1/stock", json: ["stock": [
            ["item_id": "SKU-1", "location_id": "WH-A", "zoho_on_hand": 10],
            ["item_id": "SKU-1", "location_id": "WH-B", "zoho_on_hand": 4],
            ["item_id": "SKU-2", "location_id": "WH-A", "zoho_on_hand": 9],
        ]])
        #expect(stock.status == 200)
        let listings = try api.send("PUT", "/v1/listings", json: ["listings": [
            ["channel": "shopify", "listing_id": "V-1", "item_id": "SKU-1", "locations": ["WH-A", "WH-B"]],
            ["channel": "amazon", "listing_id": "KIT", "components": [["item_id": "SKU-1", "quantity": 2], ["item_id": "SKU-2", "quantity": 3]], "locations": ["WH-A"]],
        ]])
        #expect(listings.status == 200)
    }

    @Test func serviceThreadsAreNamedForOperators() throws {
        // `top -H`, `perf` and `/proc` show the writer and the blocking workers under names of
        // their own, not the name of the thread that started them. Linux keeps at most 15 bytes.
        let pid = try #require(service.processIdentifier)
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        let names = tasks.compactMap { try? String(contentsOfFile: "/proc/\(pid)/task/\($0)/comm", encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(names.filter { $0 == "ledger-writer" }.count == 1, "threads: \(names)")
        // The outbound layer's thread for its Redis records (tokens, call history), named as given.
        #expect(names.contains("outbound-redis"), "threads: \(names)")
    }

    @Test func upsertsAndReads() throws {
        let first = try api.postEvents([
            saleEvent(listing: "V-1", order: "1001", line: "1", quantity: 3, version: "2026-11-23T10:00:00Z"),
            saleEvent("amazon", listing: "KIT", order: "A-1", line: "9", quantity: 1, version: 7),
        ])
        #expect(first.status == 200)
        #expect(first.results == ["applied", "applied"])
        #expect(try api.available("SKU-1", "WH-A") == 10 - 3 - 2)
        #expect(try api.available("SKU-2", "WH-A") == 9 - 3)

        // Edit down, a duplicate, a stale replay and a conflict, in one request.
        let second = try api.postEvents([
            saleEvent(listing: "V-1", order: "1001", line: "1", quantity: 1, version: "2026-11-23T10:05:00Z"),
            saleEvent(listing: "V-1", order: "1001", line: "1", quantity: 1, version: "2026-11-23T10:05:00Z"),
            saleEvent(listing: "V-1", order: "1001", line: "1", quantity: 3, version: "2026-11-23T10:00:00Z"),
            saleEvent("amazon", listing: "KIT", order: "A-1", line: "9", quantity: 2, version: 7),
        ])
        #expect(second.results == ["applied", "duplicate", "stale", "conflict"])
        let counts = try #require(second.json["counts"] as? [String: Int])
        #expect(counts["duplicate"] == 1 && counts["conflict"] == 1)
        #expect(try api.available("SKU-1", "WH-A") == 10 - 1 - 2)

        let sellable = try api.send("GET", "/v1/listings/amazon/KIT/sellable")
        #expect(sellable.status == 200)
        // SKU-1 at WH-A: 7 available → 3 kits; SKU-2: 6 → 2 kits.
        #expect(sellable.json["sellable"] as? Int == 2)
        #expect(sellable.json["stale"] as? Bool == false)

        let rules = try api.send("PUT", "/v1/allocation-rules", json: ["rules": [
            ["channel": "shopify", "safety_stock": 2, "percentage": 50, "max": 100, "locations": ["WH-A", "WH-B"]],
        ]])
        #expect(rules.status == 200)
        let stock = try api.send("GET", "/v1/stock/SKU-1")
        let perChannel = try #require(stock.json["sellable"] as? [String: Int])
        // (7 + 4 − 2) × 50 % = 4.5 → 4.
        #expect(perChannel["shopify"] == 4)
        #expect(perChannel["ebay"] == 11)
    }

    @Test func unmappedEventsAreParkedAndReplayed() throws {
        let parked = try api.postEvents([
            saleEvent("etsy", listing: "E-77", order: "R-1", line: "T-1", quantity: 2, version: 1),
            saleEvent("etsy", listing: "E-77", order: "R-1", line: "T-1", quantity: 1, version: 2),
        ])
        #expect(parked.results == ["unmapped", "unmapped"])
        #expect(try api.available("SKU-2", "WH-A") == 9)
        let mapped = try api.send("PUT", "/v1/listings", json: ["listings": [
            ["channel": "etsy", "listing_id": "E-77", "item_id": "SKU-2", "locations": ["WH-A"]],
        ]])
        #expect(mapped.status == 200)
        #expect(mapped.json["replayed"] as? Int == 2)
        #expect(try api.available("SKU-2", "WH-A") == 9 - 1)
    }

    @Test func aParkedEventThatNoLongerFitsDoesNotBlockItsListing() throws {
        var event = saleEvent("ebay", listing: "EB-1", order: "E-1", line: "1", quantity: 1, version: 1)
        event["location_id"] = "WH-GONE"
        #expect(try api.postEvents([event]).results == ["unmapped"])
        let mapped = try api.send("PUT", "/v1/listings", json: ["listings": [
            ["channel": "ebay", "listing_id": "EB-1", "item_id": "SKU-2", "locations": ["WH-A"]],
        ]])
        #expect(mapped.status == 200)
        let counts = try #require(mapped.json["replayed_counts"] as? [String: Int])
        #expect(counts["invalid"] == 1)
        #expect(try api.available("SKU-2", "WH-A") == 9)
        #expect(try api.send("GET", "/v1/listings/ebay/EB-1/sellable").json["sellable"] as? Int == 9)
    }

    @Test func badInputIsRefusedAndChangesNothing() throws {
        let before = try api.send("GET", "/v1/stock/SKU-1").raw.body
        let valid = saleEvent(listing: "V-1", order: "bad-1", line: "1", quantity: 1, version: 1)
        func refused(_ reply: APIClient.Reply, status: Int, code: String, field: String?, _ comment: Comment) {
            #expect(reply.status == status, comment)
            #expect(reply.errorCode == code, comment)
            #expect(reply.errorField == field, comment)
        }

        // Cut short: the error names where the document ends.
        refused(try api.send("POST", "/v1/events", body: Array("{\"events\":[".utf8)), status: 400, code: "invalid_json", field: "events[0]", "malformed JSON")
        refused(try api.send("POST", "/v1/events", json: ["events": [valid, valid.merging(["quantity": "2"]) { $1 }]]), status: 400, code: "invalid_field", field: "events[1].quantity", "quantity as a string")
        refused(try api.send("POST", "/v1/events", json: ["events": [valid, valid.merging(["quantity": -1]) { $1 }]]), status: 400, code: "invalid_field", field: "events[1].quantity", "negative quantity")
        refused(try api.send("POST", "/v1/events", json: ["events": [valid.merging(["order_id": ""]) { $1 }]]), status: 400, code: "invalid_field", field: "events[0].order_id", "empty order id")
        refused(try api.send("POST", "/v1/events", json: ["events": [valid.merging(["channel": "walmart"]) { $1 }]]), status: 400, code: "invalid_field", field: "events[0].channel", "unknown channel")
        refused(try api.send("POST", "/v1/events", json: ["events": [valid.merging(["version": "yesterday"]) { $1 }]]), status: 400, code: "invalid_field", field: "events[0].version", "bad version")
        var missing = valid
        missing["line_id"] = nil
        refused(try api.send("POST", "/v1/events", json: ["events": [missing]]), status: 400, code: "invalid_field", field: "events[0].line_id", "missing line id")
        refused(try api.send("POST", "/v1/events", json: ["events": [valid.merging(["location_id": "WH-Z"]) { $1 }]]), status: 400, code: "invalid_field", field: "events[0].location_id", "location not on the listing")
        refused(try api.send("POST", "/v1/events", json: ["events": []]), status: 400, code: "invalid_field", field: "events", "no events")
        let huge = Array(repeating: valid, count: 2_000)
        refused(try api.send("POST", "/v1/events", json: ["events": huge]), status: 413, code: "body_too_large", field: nil, "body over the limit")
        refused(try api.send("PUT", "/v1/stock", json: ["stock": [["item_id": "SKU-1", "location_id": "WH-A", "zoho_on_hand": 1.5]]]), status: 400, code: "invalid_field", field: "stock[0].zoho_on_hand", "fractional stock")
        refused(try api.send("PUT", "/v1/stock", body: Array(#"{"stock":[{"item_id":"SKU-1","location_id":"WH-A","zoho_on_hand":-9223372036854775808}]}"#.utf8)), status: 400, code: "invalid_field", field: "stock[0].zoho_on_hand", "most negative stock")
        refused(try api.send("PUT", "/v1/listings", json: ["listings": [["channel": "shopify", "listing_id": "V-9", "item_id": "SKU-1", "locations": []]]]), status: 400, code: "invalid_field", field: "listings[0].locations", "listing without locations")
        refused(try api.send("PUT", "/v1/allocation-rules", json: ["rules": [["channel": "shopify", "percentage": 150]]]), status: 400, code: "invalid_field", field: "rules[0].percentage", "percentage over 100")

        refused(try api.send("PUT", "/v1/listings", json: ["listings": []]), status: 400, code: "invalid_field", field: "listings", "no listings")
        refused(try api.send("PUT", "/v1/stock", json: ["stock": []]), status: 400, code: "invalid_field", field: "stock", "no stock")
        refused(try api.send("POST", "/v1/events", json: ["events": [valid]], headers: [("Content-Type", "application/jsonx")]), status: 415, code: "unsupported_media_type", field: "Content-Type", "wrong media type")

        let anonymous = APIClient(baseURL: service.baseURL, token: nil)
        refused(try anonymous.postEvents([valid]), status: 401, code: "unauthorized", field: nil, "no token")
        let wrong = APIClient(baseURL: service.baseURL, token: "not-the-token-at-all")
        refused(try wrong.send("PUT", "/v1/stock", json: ["stock": [["item_id": "SKU-1", "location_id": "WH-A", "zoho_on_hand": 0]]]), status: 401, code: "unauthorized", field: nil, "wrong token")

        #expect(try api.send("GET", "/v1/stock/SKU-1").raw.body == before)
        // The refused event was never stored: sent now, it applies.
        #expect(try api.postEvents([valid]).results == ["applied"])
    }

    @Test func theJournalRecordsEveryAcceptedEventWithItsResult() throws {
        let events = [
            saleEvent(listing: "V-1", order: "J-1", line: "1", quantity: 2, version: 1_700_000_000_123_456),
            saleEvent(listing: "V-1", order: "J-1", line: "1", quantity: 2, version: 1_700_000_000_123_456),
            saleEvent(listing: "V-1", order: "J-1", line: "1", quantity: 5, version: 3),
        ]
        #expect(try api.postEvents(events).results == ["applied", "duplicate", "stale"])
        let redis = try RedisConnection(configuration: try SharedRedis.configuration(prefix: service.prefix))
        guard case .array(let entries) = try redis.command(["XRANGE", "\(service.prefix):{c}:journal", "-", "+"]) else {
            Issue.record("no journal")
            return
        }
        let bodies = entries.compactMap { entry -> String? in
            guard case .array(let parts) = entry, case .array(let fields) = parts[1] else { return nil }
            let texts = fields.map { $0.text ?? "" }
            guard texts.count == 4, texts[0] == "kind", texts[1] == "events" else { return nil }
            return texts[3]
        }
        let expected = [
            "shopify\tV-1\tJ-1\t1\t2\t1700000000123456\t-\tapplied",
            "shopify\tV-1\tJ-1\t1\t2\t1700000000123456\t-\tduplicate",
            "shopify\tV-1\tJ-1\t1\t5\t3\t-\tstale",
        ].joined(separator: "\n") + "\n"
        #expect(bodies.contains(expected))
    }

    @Test func readsOfUnknownThingsAre404() throws {
        let item = try api.send("GET", "/v1/stock/NOPE")
        #expect(item.status == 404)
        #expect(item.errorCode == "not_found")
        #expect(try api.send("GET", "/v1/listings/shopify/NOPE/sellable").status == 404)
        #expect(try api.send("GET", "/v1/listings/walmart/V-1/sellable").status == 404)
    }

    @Test func healthReadinessAndMetrics() throws {
        #expect(try api.send("GET", "/healthz").status == 200)
        let ready = try api.send("GET", "/readyz")
        #expect(ready.status == 200)
        #expect(ready.json["redis_reachable"] as? Bool == true)
        _ = try api.postEvents([saleEvent(listing: "V-1", order: "m-1", line: "1", quantity: 1, version: 1)])
        let metrics = try api.send("GET", "/metrics").raw.text
        #expect(metrics.contains("stockyard_events_total{channel=\"shopify\",result=\"applied\"}"))
        #expect(metrics.contains("stockyard_commit_seconds_bucket"))
        #expect(ready.raw.header("X-Request-Id")?.isEmpty == false)
    }

    deinit {
        _ = service.terminate()
    }
}
