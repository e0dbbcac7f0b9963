import Foundation
import StockyardDevServers
import StockyardOutbound
import Testing

/// The service syncing with the Zoho sandbox over real HTTP, with a real Redis: batches,
/// exactly once through faults and a crash, token refresh, refused lines, the final flush.
@Suite struct ZohoSyncTests {
    static let items = (1...6).map { SandboxItem(itemID: "48150000000\($0)", sku: "SKU-\($0)", stock: ["L1": 100, "L2": 100]) }

    /// Stock and listings for the sandbox's items, one listing per item × location.
    private func seed(_ api: APIClient) throws {
        var stock: [[String: Any]] = []
        var listings: [[String: Any]] = []
        for item in Self.items {
            for location in ["L1", "L2"] {
                stock.append(["item_id": item.itemID, "location_id": location, "zoho_on_hand": 100])
                listings.append(["channel": "shopify", "listing_id": "\(item.sku)-\(location)", "item_id": item.itemID, "locations": [location]])
            }
        }
        #expect(try api.send("PUT", "/v1/stock", json: ["stock": stock]).status == 200)
        #expect(try api.send("PUT", "/v1/listings", json: ["listings": listings]).status == 200)
    }

    /// Posts sales over the listings and returns the net per "item/location".
    private func sell(_ api: APIClient, orders: Range<Int>, prefix: String = "o") throws -> [String: Double] {
        var events: [[String: Any]] = []
        var nets: [String: Double] = [:]
        for order in orders {
            let item = Self.items[order % Self.items.count]
            let location = order % 4 < 2 ? "L1" : "L2"
            let quantity = 1 + order % 3
            events.append(saleEvent(listing: "\(item.sku)-\(location)", order: "\(prefix)\(order)", line: "1", quantity: quantity, version: 1))
            nets["\(item.itemID)/\(location)", default: 0] -= Double(quantity)
        }
        let reply = try api.postEvents(events)
        #expect(reply.status == 200)
        #expect(reply.results.allSatisfy { $0 == "applied" })
        return nets
    }

    private func unsynced(_ api: APIClient) throws -> Int {
        var total = 0
        for item in Self.items {
            let reply = try api.send("GET", "/v1/stock/\(item.itemID)")
            for location in reply.json["locations"] as? [[String: Any]] ?? [] {
                total += abs(location["unsynced"] as? Int ?? 0)
            }
        }
        return total
    }

    private func waitUntilSynced(_ api: APIClient, _ sandbox: SandboxServer, expected: [String: Double], timeout: Double = 60) throws {
        try waitUntil("Zoho to hold every net", timeout: timeout) {
            try sandbox.nets() == expected && unsynced(api) == 0
        }
    }

    @Test func netsReachZohoOnceAndMoveIntoZohoOnHand() async throws {
        let sandbox = try await SandboxServer(SandboxConfiguration(items: Self.items))
        defer { sandbox.stop() }
        try await offPool { [self] in
            let service = try ServiceProcess(redisURL: SharedRedis.url, environment: sandbox.serviceEnvironment(extra: ["STOCKYARD_ZOHO_MAX_LINES": "5"]))
            let api = APIClient(baseURL: service.baseURL)
            try seed(api)
            let expected = try sell(api, orders: 0..<60)
            try waitUntilSynced(api, sandbox, expected: expected)
            // Twelve rows over batches of at most five lines.
            let stats = try sandbox.stats()
            #expect(stats["adjustments"] as? Int == 3)
            #expect(stats["lines_received"] as? Int == 12)
            let stock = try api.send("GET", "/v1/stock/\(Self.items[0].itemID)").json["locations"] as? [[String: Any]] ?? []
            for location in stock {
                let key = "\(Self.items[0].itemID)/\(location["location_id"]!)"
                #expect(location["zoho_on_hand"] as? Int == 100 + Int(expected[key]!))
            }
            let ready = try api.send("GET", "/readyz").json["zoho"] as? [String: Any]
            #expect(ready?["sync"] as? String == "ok")
            #expect(ready?["sealed_batches"] as? Int == 0)
        }
    }

    @Test func unknownOutcomesAreLookedUpNeverPostedTwice() async throws {
        let sandbox = try await SandboxServer(SandboxConfiguration(items: Self.items))
        defer { sandbox.stop() }
        try await offPool { [self] in
            // Every create is applied and its answer held past the client's timeout; every
            // other call fails half the time with 500.
            try sandbox.setFaults(["apply_then_drop_rate": 1.0, "hold_seconds": 4, "server_error_rate": 0.3])
            let service = try ServiceProcess(
                redisURL: SharedRedis.url,
                environment: sandbox.serviceEnvironment(extra: ["STOCKYARD_ZOHO_MAX_LINES": "4", "STOCKYARD_ZOHO_TIMEOUT": "1"]))
            let api = APIClient(baseURL: service.baseURL)
            try seed(api)
            let expected = try sell(api, orders: 0..<40)
            try waitUntil("the first batches to be applied", timeout: 60) { (try sandbox.stats()["adjustments"] as? Int ?? 0) >= 3 }
            try sandbox.setFaults(["server_error_rate": 0.3])
            try waitUntilSynced(api, sandbox, expected: expected, timeout: 90)
            let stats = try sandbox.stats()
            #expect(stats["lines_received"] as? Int == 12, "no line sent twice: \(stats)")
            let metrics = String(decoding: try api.send("GET", "/metrics").raw.body, as: UTF8.self)
            #expect(metrics.contains("stockyard_zoho_batches_total{outcome=\"found_by_lookup\"}"))
            #expect(!metrics.contains("stockyard_zoho_batches_total{outcome=\"found_by_lookup\"} 0"))
        }
    }

    @Test func aBatchInFlightAtAKillIsResolvedAtRestart() async throws {
        let sandbox = try await SandboxServer(SandboxConfiguration(items: Self.items))
        defer { sandbox.stop() }
        try await offPool { [self] in
            try sandbox.setFaults(["apply_then_drop_rate": 1.0, "hold_seconds": 30])
            let prefix = "zoho-kill-\(UUID().uuidString.prefix(8))"
            let environment = sandbox.serviceEnvironment(extra: ["STOCKYARD_ZOHO_TIMEOUT": "20"])
            var service = try ServiceProcess(redisURL: SharedRedis.url, prefix: prefix, environment: environment)
            var api = APIClient(baseURL: service.baseURL)
            try seed(api)
            let expected = try sell(api, orders: 0..<30)
            // Zoho applied the batch; the service still waits for the answer when it dies.
            try waitUntil("Zoho to apply the batch") { (try sandbox.stats()["adjustments"] as? Int) == 1 }
            service.kill9()
            try sandbox.setFaults([:])
            service = try ServiceProcess(redisURL: SharedRedis.url, prefix: prefix, environment: environment)
            api = APIClient(baseURL: service.baseURL)
            try waitUntilSynced(api, sandbox, expected: expected)
            #expect(try sandbox.stats()["adjustments"] as? Int == 1, "the batch was found, not posted again")
            let metrics = String(decoding: try api.send("GET", "/metrics").raw.body, as: UTF8.self)
            #expect(metrics.contains("stockyard_zoho_batches_total{outcome=\"found_by_lookup\"} 1"))
        }
    }

    @Test func anExpiredTokenIsRefreshedOnceAndTheBatchGoesOn() async throws {
        let sandbox = try await SandboxServer(SandboxConfiguration(items: Self.items))
        defer { sandbox.stop() }
        try await offPool { [self] in
            let service = try ServiceProcess(redisURL: SharedRedis.url, environment: sandbox.serviceEnvironment())
            let api = APIClient(baseURL: service.baseURL)
            try seed(api)
            var expected = try sell(api, orders: 0..<10)
            try waitUntilSynced(api, sandbox, expected: expected)
            #expect(try sandbox.stats()["token_requests"] as? Int == 1)
            _ = try sandbox.control.send("POST", "/sandbox/expire-tokens")
            for (key, value) in try sell(api, orders: 10..<20) { expected[key, default: 0] += value }
            try waitUntilSynced(api, sandbox, expected: expected)
            let stats = try sandbox.stats()
            #expect(stats["token_requests"] as? Int == 2)
            #expect(stats["unauthorized"] as? Int == 1)
        }
    }

    @Test func tokensAreRefreshedAheadOfExpiryWithinTheTokenRequestLimit() async throws {
        // Tokens live 4 s and are replaced a quarter of their lifetime (1 s) before expiry: a
        // flush every second or so wants a new one every few seconds, and only Zoho's 10 token
        // requests per 10 minutes hold it back.
        let sandbox = try await SandboxServer(SandboxConfiguration(accessTokenSeconds: 4, tokenRequestsPer10Minutes: 10, items: Self.items))
        defer { sandbox.stop() }
        try await offPool { [self] in
            let service = try ServiceProcess(redisURL: SharedRedis.url, environment: sandbox.serviceEnvironment())
            let api = APIClient(baseURL: service.baseURL)
            try seed(api)
            var expected: [String: Double] = [:]
            var round = 0
            try waitUntil("ten token requests' worth of flushes", timeout: 120) {
                let orders = (round * 6)..<(round * 6 + 6)
                round += 1
                for (key, value) in try sell(api, orders: orders, prefix: "t") { expected[key, default: 0] += value }
                try waitUntilSynced(api, sandbox, expected: expected)
                return try sandbox.stats()["token_requests"] as? Int == 10
            }
            let stats = try sandbox.stats()
            #expect(stats["unauthorized"] as? Int == 0, "refreshed before expiry: \(stats)")
            #expect(stats["token_requests_refused"] as? Int == 0, "never over the limit: \(stats)")
            #expect(stats["max_token_requests_in_10_minutes"] as? Int == 10)
        }
    }

    @Test func aRevokedRefreshTokenStopsTheSyncLoudlyWhileSalesAreAccepted() async throws {
        let sandbox = try await SandboxServer(SandboxConfiguration(items: Self.items))
        defer { sandbox.stop() }
        try await offPool { [self] in
            _ = try sandbox.control.send("POST", "/sandbox/revoke-refresh-tokens")
            let service = try ServiceProcess(redisURL: SharedRedis.url, environment: sandbox.serviceEnvironment())
            let api = APIClient(baseURL: service.baseURL)
            try seed(api)
            _ = try sell(api, orders: 0..<10)
            try waitUntil("the sync to report the refused token") {
                let ready = try api.send("GET", "/readyz")
                return ready.status == 200 && (ready.json["zoho"] as? [String: Any])?["sync"] as? String == "token_rejected"
            }
            #expect(try sell(api, orders: 10..<20).count > 0)
            #expect(try unsynced(api) > 0)
            let metrics = String(decoding: try api.send("GET", "/metrics").raw.body, as: UTF8.self)
            #expect(metrics.contains("stockyard_zoho_token_rejected_total 1"))
            #expect(try sandbox.stats()["token_requests"] as? Int == 1, "a refused refresh token is not tried again")
            #expect(!service.logText.contains(sandbox.configuration.clientSecret))
        }
    }

    @Test func aLineZohoRefusesBecomesADeadLetterAndTheRestIsPosted() async throws {
        let sandbox = try await SandboxServer(SandboxConfiguration(items: Self.items))
        defer { sandbox.stop() }
        try await offPool { [self] in
            let service = try ServiceProcess(redisURL: SharedRedis.url, environment: sandbox.serviceEnvironment())
            let api = APIClient(baseURL: service.baseURL)
            try seed(api)
            #expect(try api.send("PUT", "/v1/stock", json: ["stock": [["item_id": "999", "location_id": "L1", "zoho_on_hand": 5]]]).status == 200)
            #expect(
                try api.send("PUT", "/v1/listings", json: ["listings": [["channel": "shopify", "listing_id": "ghost", "item_id": "999", "locations": ["L1"]]]]).status == 200)
            let expected = try sell(api, orders: 0..<12)
            #expect(try api.postEvents([saleEvent(listing: "ghost", order: "g1", line: "1", quantity: 2, version: 1)]).results == ["applied"])
            try waitUntil("the refused line to be a dead letter") {
                let letters = try api.send("GET", "/v1/dead-letters").json["dead_letters"] as? [[String: Any]] ?? []
                return letters.contains { $0["channel"] as? String == "zoho" }
            }
            try waitUntil("Zoho to hold the other nets") { try sandbox.nets() == expected }
            let letters = try api.send("GET", "/v1/dead-letters").json["dead_letters"] as? [[String: Any]] ?? []
            let letter = try #require(letters.first { $0["channel"] as? String == "zoho" })
            #expect((letter["message"] as? String)?.contains("Item does not exist") == true)
            // The refused units stay unsynced: nothing pretends Zoho has them.
            let ghost = try api.send("GET", "/v1/stock/999").json["locations"] as? [[String: Any]]
            #expect(ghost?.first?["unsynced"] as? Int == -2)
            #expect(ghost?.first?["zoho_on_hand"] as? Int == 5)

            // Once Zoho knows the item, a replay sends the line again in a batch of its own.
            let id = try #require(letter["id"] as? String)
            #expect(try sandbox.control.send("PUT", "/sandbox/items", json: [["item_id": "999", "sku": "GHOST", "stock": ["L1": 5]]]).status == 200)
            let replay = try api.send("POST", "/v1/dead-letters/\(id)/replay")
            #expect(replay.status == 200, "\(replay.json)")
            try waitUntil("the replayed line to reach Zoho") {
                let row = (try api.send("GET", "/v1/stock/999").json["locations"] as? [[String: Any]])?.first
                return try sandbox.nets()["999/L1"] == -2 && row?["unsynced"] as? Int == 0 && row?["zoho_on_hand"] as? Int == 3
            }
            #expect(try api.send("GET", "/v1/dead-letters/\(id)").status == 404)

            // A refused line a person gives up on leaves flight into zoho_on_hand; available stays.
            #expect(try api.send("PUT", "/v1/listings", json: ["listings": [["channel": "shopify", "listing_id": "ghost2", "item_id": "998", "locations": ["L1"]]]]).status == 200)
            #expect(try api.postEvents([saleEvent(listing: "ghost2", order: "g2", line: "1", quantity: 1, version: 1)]).results == ["applied"])
            var second: String?
            try waitUntil("the second refused line") {
                let letters = try api.send("GET", "/v1/dead-letters").json["dead_letters"] as? [[String: Any]] ?? []
                second = letters.first { $0["channel"] as? String == "zoho" }?["id"] as? String
                return second != nil
            }
            #expect(try api.send("DELETE", "/v1/dead-letters/\(second!)").status == 200)
            let row = (try api.send("GET", "/v1/stock/998").json["locations"] as? [[String: Any]])?.first
            #expect(row?["in_flight"] as? Int == 0)
            #expect(row?["zoho_on_hand"] as? Int == -1)
            #expect(row?["available"] as? Int == -1)
        }
    }

    @Test func aRestartKeepsCountingTheCallsOfTheLastMinute() async throws {
        let sandbox = try await SandboxServer(SandboxConfiguration(items: Self.items))
        defer { sandbox.stop() }
        try await offPool { [self] in
            let prefix = "zoho-rate-\(UUID().uuidString.prefix(8))"
            // One line per call and five calls a minute: twelve rows need three minutes.
            let environment = sandbox.serviceEnvironment(extra: ["STOCKYARD_ZOHO_MAX_LINES": "1", "STOCKYARD_ZOHO_RATE_PER_MINUTE": "5"])
            var service = try ServiceProcess(redisURL: SharedRedis.url, prefix: prefix, environment: environment)
            var api = APIClient(baseURL: service.baseURL)
            try seed(api)
            // The flush at start finds nothing to send: that must not cost a call.
            try waitUntil("the flush at start to end") {
                (try api.send("GET", "/readyz").json["zoho"] as? [String: Any])?["sync"] as? String == "ok"
            }
            _ = try sell(api, orders: 0..<24)
            try waitUntil("five calls") { (try sandbox.stats()["calls"] as? Int ?? 0) >= 5 }
            service.kill9()
            let made = try sandbox.stats()["calls"] as? Int ?? 0
            service = try ServiceProcess(redisURL: SharedRedis.url, prefix: prefix, environment: environment)
            api = APIClient(baseURL: service.baseURL)
            // The new process counts the calls the old one made, and so waits for the minute to end.
            // (Without that it would make calls of its own before its count reached the old one's.)
            try waitUntil("the calls to be counted") {
                (try api.send("GET", "/readyz").json["zoho"] as? [String: Any])?["calls_today"] as? Int == made
            }
            let stats = try sandbox.stats()
            #expect(stats["calls"] as? Int == made, "\(stats)")
            #expect(stats["max_calls_in_a_minute"] as? Int ?? 99 <= 5, "\(stats)")
        }
    }

    @Test func gracefulShutdownFlushesWhatIsOpen() async throws {
        let sandbox = try await SandboxServer(SandboxConfiguration(items: Self.items))
        defer { sandbox.stop() }
        try await offPool { [self] in
            let service = try ServiceProcess(redisURL: SharedRedis.url, environment: sandbox.serviceEnvironment(interval: 3600))
            let api = APIClient(baseURL: service.baseURL)
            try seed(api)
            try waitUntil("the flush at start to end") {
                (try api.send("GET", "/readyz").json["zoho"] as? [String: Any])?["sync"] as? String == "ok"
            }
            let expected = try sell(api, orders: 0..<20)
            #expect(try sandbox.nets().isEmpty)
            #expect(service.terminate() == 0)
            #expect(try sandbox.nets() == expected)
        }
    }
}
