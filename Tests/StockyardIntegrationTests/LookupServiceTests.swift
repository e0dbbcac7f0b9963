import Crypto
import Foundation
import StockyardChannels
import StockyardOutbound
import Testing

/// eBay and Etsy notifications end to end over real HTTP: the service verifies them (eBay's key
/// fetched by `kid`), stores look-up jobs, fetches the orders from the marketplace sandbox and
/// applies their lines: exactly, once, across duplicates, failures and a `kill -9`.
@Suite(.serialized) struct LookupServiceTests {
    static let onHand = 100

    /// The service's environment for using the sandbox as eBay's and Etsy's APIs.
    static func environment(_ sandbox: MarketplaceSandboxServer, extra: [String: String] = [:]) -> [String: String] {
        var environment = sandbox.serviceEnvironment()
        environment["STOCKYARD_LOOKUP_BACKOFF_SECONDS"] = "0"
        for (key, value) in extra { environment[key] = value }
        return environment
    }

    static func ebayOrder(_ id: String, modified: String, lines: [(line: String, item: String, variation: String?, sku: String?, quantity: Int)], canceled: Bool = false) -> [String: Any] {
        [
            "orderId": id, "legacyOrderId": id, "creationDate": "2026-11-20T10:00:00.000Z", "lastModifiedDate": modified,
            "orderFulfillmentStatus": "NOT_STARTED", "orderPaymentStatus": "PAID",
            "cancelStatus": ["cancelState": canceled ? "CANCELED" : "NONE_REQUESTED", "cancelRequests": []],
            "lineItems": lines.map { line -> [String: Any] in
                var item: [String: Any] = [
                    "lineItemId": line.line, "legacyItemId": line.item, "quantity": line.quantity, "title": "Item \(line.item)",
                    "lineItemFulfillmentStatus": "NOT_STARTED",
                ]
                if let variation = line.variation { item["legacyVariationId"] = variation }
                if let sku = line.sku { item["sku"] = sku }
                return item
            },
        ]
    }

    static func etsyReceipt(_ id: Int, updated: Int, status: String, transactions: [(id: Int, listing: Int, product: Int?, quantity: Int)]) -> [String: Any] {
        [
            "receipt_id": id, "receipt_type": 0, "seller_user_id": 12_345_678, "status": status, "is_paid": true,
            "create_timestamp": 1_763_600_000, "created_timestamp": 1_763_600_000, "update_timestamp": updated, "updated_timestamp": updated,
            "transactions": transactions.map { transaction -> [String: Any] in
                var entry: [String: Any] = [
                    "transaction_id": transaction.id, "listing_id": transaction.listing, "quantity": transaction.quantity,
                    "receipt_id": id, "title": "Listing \(transaction.listing)",
                ]
                if let product = transaction.product { entry["product_id"] = product }
                return entry
            },
        ]
    }

    private func prepare(_ api: APIClient, listings: [(channel: String, listing: String, item: String)]) throws {
        let items = Set(listings.map(\.item))
        #expect(try api.send("PUT", "/v1/stock", json: ["stock": items.map { ["item_id": $0, "location_id": "WH", "zoho_on_hand": Self.onHand] }]).status == 200)
        let maps = listings.map { ["channel": $0.channel, "listing_id": $0.listing, "item_id": $0.item, "locations": ["WH"]] }
        #expect(try api.send("PUT", "/v1/listings", json: ["listings": maps]).status == 200)
    }

    private func deliver(_ api: APIClient, _ path: String, _ notification: (headers: [String: String], body: [UInt8])) throws -> APIClient.Reply {
        try api.send("POST", path, body: notification.body, headers: notification.headers.map { ($0.key, $0.value) })
    }

    private func backlog(_ api: APIClient) throws -> Int {
        (try api.send("GET", "/readyz").json["lookups"] as? [String: Any])?["backlog"] as? Int ?? -1
    }

    @Test func ebayOrdersAreLookedUpAndApplied() async throws {
        let sandbox = try await MarketplaceSandboxServer()
        try await offPool {
            let service = try ServiceProcess(redisURL: SharedRedis.url, environment: Self.environment(sandbox))
            let api = APIClient(baseURL: service.baseURL)
            try prepare(api, listings: [("ebay", "110000000001/sku:E-SKU-1", "E1"), ("ebay", "110000000002/200000000001", "E2")])

            let order = Self.ebayOrder(
                "12-00001-00001", modified: "2026-11-20T10:00:00.000Z",
                lines: [("L1", "110000000001", nil, "E-SKU-1", 3), ("L2", "110000000002", "200000000001", nil, 2)])
            let notification = try sandbox.storeEbayOrder(order)
            let reply = try deliver(api, "/webhooks/ebay", notification)
            #expect(reply.status == 200, "\(reply.json)")
            #expect(reply.json["lookup"] as? String == "queued")
            try waitUntil("the order applied", timeout: 30) { try api.available("E1", "WH") == Self.onHand - 3 }
            #expect(try api.available("E2", "WH") == Self.onHand - 2)
            try waitUntil("no backlog", timeout: 30) { try backlog(api) == 0 }

            // The same delivery again: a duplicate, nothing looked up. Another notification for
            // the same order: looked up again, and the stock does not move.
            #expect(try deliver(api, "/webhooks/ebay", notification).json["lookup"] as? String == "duplicate")
            let second = try sandbox.storeEbayOrder(order)
            #expect(try deliver(api, "/webhooks/ebay", second).json["lookup"] as? String == "queued")
            try waitUntil("the second look-up done", timeout: 30) { try backlog(api) == 0 }
            #expect(try api.available("E1", "WH") == Self.onHand - 3)
            #expect(try api.available("E2", "WH") == Self.onHand - 2)

            // Cancelled on eBay: the lines release their units.
            var canceled = Self.ebayOrder(
                "12-00001-00001", modified: "2026-11-20T12:00:00.000Z",
                lines: [("L1", "110000000001", nil, "E-SKU-1", 3), ("L2", "110000000002", "200000000001", nil, 2)], canceled: true)
            canceled["orderFulfillmentStatus"] = "NOT_STARTED"
            #expect(try deliver(api, "/webhooks/ebay", try sandbox.storeEbayOrder(canceled)).status == 200)
            try waitUntil("the cancellation applied", timeout: 30) { try api.available("E1", "WH") == Self.onHand }
            #expect(try api.available("E2", "WH") == Self.onHand)

            let stats = try sandbox.stats()["ebay"] as? [String: Any]
            // One key fetch for all the notifications (cached), one look-up per job.
            #expect(stats?["public_key_calls"] as? Int == 1)
            #expect(stats?["order_calls"] as? Int == 3)
            #expect(service.terminate() == 0)
        }
    }

    @Test func etsyReceiptsAreLookedUpAndACancellationReleases() async throws {
        let sandbox = try await MarketplaceSandboxServer()
        try await offPool {
            let service = try ServiceProcess(redisURL: SharedRedis.url, environment: Self.environment(sandbox))
            let api = APIClient(baseURL: service.baseURL)
            try prepare(api, listings: [("etsy", "1500000001/7000000001", "T1"), ("etsy", "1500000002", "T2")])

            let paid = Self.etsyReceipt(
                3_000_000_001, updated: 1_763_600_100, status: "Paid",
                transactions: [(4_000_000_001, 1_500_000_001, 7_000_000_001, 2), (4_000_000_002, 1_500_000_002, nil, 5)])
            let reply = try deliver(api, "/webhooks/etsy", try sandbox.storeEtsyReceipt(shopID: 55_000_001, paid))
            #expect(reply.status == 200, "\(reply.json)")
            try waitUntil("the receipt applied", timeout: 30) { try api.available("T2", "WH") == Self.onHand - 5 }
            #expect(try api.available("T1", "WH") == Self.onHand - 2)

            let canceled = Self.etsyReceipt(
                3_000_000_001, updated: 1_763_600_900, status: "Canceled",
                transactions: [(4_000_000_001, 1_500_000_001, 7_000_000_001, 2), (4_000_000_002, 1_500_000_002, nil, 5)])
            let cancel = try deliver(api, "/webhooks/etsy", try sandbox.storeEtsyReceipt(shopID: 55_000_001, canceled, eventType: "order.canceled"))
            #expect(cancel.status == 200, "\(cancel.json)")
            try waitUntil("the cancellation applied", timeout: 30) { try api.available("T1", "WH") == Self.onHand }
            #expect(try api.available("T2", "WH") == Self.onHand)
            try waitUntil("no backlog", timeout: 30) { try backlog(api) == 0 }
            #expect(service.terminate() == 0)
        }
    }

    @Test func anUnavailableKeyIsAnswered503AndNothingIsStored() async throws {
        let sandbox = try await MarketplaceSandboxServer()
        try await offPool {
            let service = try ServiceProcess(redisURL: SharedRedis.url, environment: Self.environment(sandbox))
            let api = APIClient(baseURL: service.baseURL)
            try prepare(api, listings: [("ebay", "120000000001", "K1")])
            let notification = try sandbox.storeEbayOrder(
                Self.ebayOrder("12-00002-00001", modified: "2026-11-20T10:00:00.000Z", lines: [("L1", "120000000001", nil, nil, 4)]))

            try sandbox.setFaults(["unavailable": true])
            let refused = try deliver(api, "/webhooks/ebay", notification)
            #expect(refused.status == 503)
            #expect((refused.json["error"] as? [String: Any])?["code"] as? String == "key_unavailable")
            #expect(refused.raw.headers.contains { $0.name.lowercased() == "retry-after" })
            #expect(try backlog(api) == 0)

            // eBay delivers again once the key can be fetched; then the order is applied.
            try sandbox.setFaults(["unavailable": false])
            try waitUntil("the redelivery accepted", timeout: 30) { try deliver(api, "/webhooks/ebay", notification).status == 200 }
            try waitUntil("the order applied", timeout: 30) { try api.available("K1", "WH") == Self.onHand - 4 }
            #expect(service.terminate() == 0)
        }
    }

    /// An eBay notification about `orderID` signed with a key of the test's own (pinned as `test-kid`).
    static func ebayNotification(orderID: String, id: String, key: P256.Signing.PrivateKey) throws -> (headers: [String: String], body: [UInt8]) {
        let envelope: [String: Any] = [
            "metadata": ["topic": "ORDER_CONFIRMATION", "schemaVersion": "1.0", "deprecated": false],
            "notification": ["notificationId": id, "eventDate": "2026-11-20T10:00:00.000Z", "publishAttemptCount": 1, "data": ["orderId": orderID]],
        ]
        let body = Array(try JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys]))
        return (["X-EBAY-SIGNATURE": try EbaySignature.header(for: body, key: key, keyID: "test-kid"), "Content-Type": "application/json"], body)
    }

    @Test func failingLookUpsBecomeADeadLetterThatReplays() async throws {
        let sandbox = try await MarketplaceSandboxServer()
        try await offPool {
            let key = P256.Signing.PrivateKey()
            let keys = FileManager.default.temporaryDirectory.appendingPathComponent("ebay-keys-\(UUID().uuidString).json")
            try JSONSerialization.data(withJSONObject: ["test-kid": key.publicKey.pemRepresentation]).write(to: keys)
            let service = try ServiceProcess(
                redisURL: SharedRedis.url,
                environment: Self.environment(sandbox, extra: ["STOCKYARD_LOOKUP_MAX_ATTEMPTS": "3", "STOCKYARD_EBAY_PUBLIC_KEYS": keys.path]))
            let api = APIClient(baseURL: service.baseURL)
            try prepare(api, listings: [("ebay", "130000000001", "D1")])

            // eBay does not know the order (yet): 404, three times, then a dead letter.
            #expect(try deliver(api, "/webhooks/ebay", try Self.ebayNotification(orderID: "12-00003-00001", id: "n-404", key: key)).status == 200)
            try waitUntil("the job given up", timeout: 60) { try backlog(api) == 0 }
            let letters = try api.send("GET", "/v1/dead-letters").json["dead_letters"] as? [[String: Any]] ?? []
            let letter = letters.first { $0["channel"] as? String == "ebay" && $0["code"] as? String == "lookup_failed" }
            #expect(letter != nil, "\(letters)")
            #expect(try api.available("D1", "WH") == Self.onHand)
            let metrics = String(decoding: try api.send("GET", "/metrics").raw.body, as: UTF8.self)
            #expect(metrics.contains("stockyard_lookups_total{channel=\"ebay\",result=\"retry\"} 2"))
            #expect(metrics.contains("stockyard_lookups_total{channel=\"ebay\",result=\"dead_lettered\"} 1"))

            // Once eBay has it, the replay queues the look-up again and the order is applied.
            _ = try sandbox.storeEbayOrder(
                Self.ebayOrder("12-00003-00001", modified: "2026-11-20T10:00:00.000Z", lines: [("L1", "130000000001", nil, nil, 6)]))
            let id = try #require(letter?["id"] as? String)
            let replay = try api.send("POST", "/v1/dead-letters/\(id)/replay")
            #expect(replay.status == 200, "\(replay.json)")
            #expect(replay.json["requeued"] as? String == id)
            try waitUntil("the replayed look-up applied", timeout: 30) { try api.available("D1", "WH") == Self.onHand - 6 }
            #expect(try api.send("GET", "/v1/dead-letters/\(id)").status == 404)
            // Replayed again: the letter is gone, nothing is queued.
            #expect(try api.send("POST", "/v1/dead-letters/\(id)/replay").status == 404)

            // An order that cannot be read is kept at once, without the buyer's data.
            var broken = Self.ebayOrder("12-00003-00002", modified: "2026-11-20T10:00:00.000Z", lines: [("L1", "130000000001", nil, nil, 1)])
            broken["lineItems"] = [["lineItemId": "L1", "legacyItemId": "130000000001", "quantity": "many"]]
            broken["buyer"] = ["username": "jane_doe_42", "buyerRegistrationAddress": ["fullName": "Jane Doe", "email": "jane@example.com"]]
            #expect(try deliver(api, "/webhooks/ebay", try sandbox.storeEbayOrder(broken)).status == 200)
            try waitUntil("the unreadable order kept", timeout: 30) {
                (try api.send("GET", "/v1/dead-letters").json["dead_letters"] as? [[String: Any]] ?? []).contains { $0["code"] as? String == "invalid_field" }
            }
            let kept = try #require(
                (try api.send("GET", "/v1/dead-letters").json["dead_letters"] as? [[String: Any]] ?? []).first { $0["code"] as? String == "invalid_field" })
            let keptText = try api.send("GET", "/v1/dead-letters/\(kept["id"] as! String)").raw.text
            #expect(keptText.contains("lineItems"))
            #expect(!keptText.contains("jane"))
            #expect(!keptText.contains("Jane"))
            #expect(try api.available("D1", "WH") == Self.onHand - 6)
            #expect(service.terminate() == 0)
        }
    }

    @Test func anOutagePausesTheChannelWithoutUsingUpAttempts() async throws {
        let sandbox = try await MarketplaceSandboxServer()
        try await offPool {
            let service = try ServiceProcess(
                redisURL: SharedRedis.url,
                environment: Self.environment(sandbox, extra: ["STOCKYARD_LOOKUP_MAX_ATTEMPTS": "3", "STOCKYARD_EBAY_PUBLIC_KEYS": try sandbox.pinnedKeysFile()]))
            let api = APIClient(baseURL: service.baseURL)
            try prepare(api, listings: [("ebay", "150000000001", "O1")])
            let notification = try sandbox.storeEbayOrder(
                Self.ebayOrder("12-00005-00001", modified: "2026-11-20T10:00:00.000Z", lines: [("L1", "150000000001", nil, nil, 5)]))

            // eBay answers 500 to everything, for longer than three attempts would last.
            try sandbox.setFaults(["server_error_rate": 1.0])
            #expect(try deliver(api, "/webhooks/ebay", notification).status == 200)
            try waitUntil("more failed calls than attempts allowed", timeout: 60) {
                let stats = try sandbox.stats()["ebay"] as? [String: Any]
                return (stats?["order_calls"] as? Int ?? 0) + (stats?["token_requests"] as? Int ?? 0) >= 5
            }
            let lane = (try api.send("GET", "/readyz").json["lookups"] as? [String: Any])?["ebay"] as? [String: Any]
            #expect(lane?["state"] as? String == "failing")
            #expect(try backlog(api) == 1)
            #expect((try api.send("GET", "/v1/dead-letters").json["dead_letters"] as? [[String: Any]] ?? []).isEmpty)

            try sandbox.setFaults(["server_error_rate": 0.0])
            try waitUntil("the order applied once eBay is back", timeout: 60) { try api.available("O1", "WH") == Self.onHand - 5 }
            #expect(service.terminate() == 0)
        }
    }

    @Test func aJobSurvivesKillNineBetweenAcknowledgementAndLookUpAndRunsOnce() async throws {
        let sandbox = try await MarketplaceSandboxServer()
        try await offPool {
            let keys = try sandbox.pinnedKeysFile()
            // First run: keys pinned but no eBay API, so the notification is acknowledged and its
            // job waits.
            var environment = Self.environment(sandbox, extra: ["STOCKYARD_EBAY_PUBLIC_KEYS": keys])
            let withoutAPI = environment.filter { !$0.key.hasPrefix("STOCKYARD_EBAY_CLIENT") && !$0.key.hasPrefix("STOCKYARD_EBAY_REFRESH") }
            let prefix = "kill9-\(UUID().uuidString.prefix(8))"
            let first = try ServiceProcess(redisURL: SharedRedis.url, prefix: prefix, environment: withoutAPI)
            let api = APIClient(baseURL: first.baseURL)
            try prepare(api, listings: [("ebay", "140000000001", "R1")])
            let notification = try sandbox.storeEbayOrder(
                Self.ebayOrder("12-00004-00001", modified: "2026-11-20T10:00:00.000Z", lines: [("L1", "140000000001", nil, nil, 7)]))
            #expect(try deliver(api, "/webhooks/ebay", notification).json["lookup"] as? String == "queued")
            #expect(try backlog(api) == 1)
            try waitUntil("the eBay lane reports it is not configured", timeout: 30) {
                ((try api.send("GET", "/readyz").json["lookups"] as? [String: Any])?["ebay"] as? [String: Any])?["state"] as? String == "not_configured"
            }
            first.kill9()

            // Restarted with the API: the job from Redis runs, once.
            environment["STOCKYARD_EBAY_PUBLIC_KEYS"] = keys
            let second = try ServiceProcess(redisURL: SharedRedis.url, prefix: prefix, environment: environment)
            let restarted = APIClient(baseURL: second.baseURL)
            try waitUntil("the order applied after the restart", timeout: 30) { try restarted.available("R1", "WH") == Self.onHand - 7 }
            try waitUntil("no backlog", timeout: 30) { try backlog(restarted) == 0 }
            // The redelivery eBay makes because the first answer was lost is a duplicate.
            #expect(try deliver(restarted, "/webhooks/ebay", notification).json["lookup"] as? String == "duplicate")
            second.kill9()
            let third = try ServiceProcess(redisURL: SharedRedis.url, prefix: prefix, environment: environment)
            let again = APIClient(baseURL: third.baseURL)
            #expect(try backlog(again) == 0)
            #expect(try again.available("R1", "WH") == Self.onHand - 7)
            #expect((try sandbox.stats()["ebay"] as? [String: Any])?["order_calls"] as? Int == 1)
            #expect(third.terminate() == 0)
        }
    }

    @Test func tokensAreRefreshedAfterExpiryAndReusedAfterARestart() async throws {
        let sandbox = try await MarketplaceSandboxServer()
        try await offPool {
            let prefix = "tokens-\(UUID().uuidString.prefix(8))"
            let service = try ServiceProcess(redisURL: SharedRedis.url, prefix: prefix, environment: Self.environment(sandbox))
            let api = APIClient(baseURL: service.baseURL)
            try prepare(api, listings: [("etsy", "1800000001", "X1")])
            func receipt(_ id: Int, quantity: Int) throws -> APIClient.Reply {
                let body = Self.etsyReceipt(id, updated: 1_763_600_100, status: "Paid", transactions: [(id + 1, 1_800_000_001, nil, quantity)])
                return try deliver(api, "/webhooks/etsy", try sandbox.storeEtsyReceipt(shopID: 55_000_003, body))
            }
            func tokenRequests() throws -> Int? { (try sandbox.stats()["etsy"] as? [String: Any])?["token_requests"] as? Int }

            #expect(try receipt(3_300_000_001, quantity: 1).status == 200)
            try waitUntil("the first receipt applied", timeout: 30) { try api.available("X1", "WH") == Self.onHand - 1 }
            #expect(try tokenRequests() == 1)

            // Etsy expires the token early: the 401 brings one refresh, and the look-up succeeds.
            try sandbox.setFaults(["expire_tokens": true])
            #expect(try receipt(3_300_000_011, quantity: 2).status == 200)
            try waitUntil("the second receipt applied", timeout: 30) { try api.available("X1", "WH") == Self.onHand - 3 }
            #expect(try tokenRequests() == 2)

            // After a restart the token cached in Redis is used: no new token request.
            service.kill9()
            let restarted = try ServiceProcess(redisURL: SharedRedis.url, prefix: prefix, environment: Self.environment(sandbox))
            let again = APIClient(baseURL: restarted.baseURL)
            let body = Self.etsyReceipt(3_300_000_021, updated: 1_763_600_100, status: "Paid", transactions: [(3_300_000_022, 1_800_000_001, nil, 4)])
            #expect(try deliver(again, "/webhooks/etsy", try sandbox.storeEtsyReceipt(shopID: 55_000_003, body)).status == 200)
            try waitUntil("the third receipt applied", timeout: 30) { try again.available("X1", "WH") == Self.onHand - 7 }
            #expect(try tokenRequests() == 2)
            #expect(restarted.terminate() == 0)
        }
    }
}

extension MarketplaceSandboxServer {
    /// The service's environment for using this sandbox as eBay's and Etsy's APIs, and for
    /// verifying the notifications it signs.
    func serviceEnvironment() -> [String: String] {
        [
            "STOCKYARD_EBAY_API_URL": url, "STOCKYARD_EBAY_CLIENT_ID": ebayClientID, "STOCKYARD_EBAY_CLIENT_SECRET": ebayClientSecret,
            "STOCKYARD_EBAY_REFRESH_TOKEN": ebayRefreshToken, "STOCKYARD_ETSY_API_URL": url, "STOCKYARD_ETSY_KEYSTRING": etsyKeystring,
            "STOCKYARD_ETSY_SHARED_SECRET": etsySharedSecret, "STOCKYARD_ETSY_REFRESH_TOKEN": etsyRefreshToken,
            "STOCKYARD_ETSY_WEBHOOK_SECRET": etsyWebhookSecret,
        ]
    }

    /// A file of the sandbox's signing keys, for `STOCKYARD_EBAY_PUBLIC_KEYS`.
    func pinnedKeysFile() throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ebay-keys-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: try publicKeys()).write(to: file)
        return file.path
    }
}
