import Foundation
import StockyardChannels
import StockyardDevServers
import StockyardOutbound
import Testing

/// `POST /webhooks/zoho` over real HTTP: absolute and delta corrections, echoes, signatures,
/// and a correction that arrives while a batch for its row is in flight.
@Suite struct ZohoCorrectionWebhookTests {
    static let secret = "zoho-webhook-secret-0123"

    private func post(_ api: APIClient, _ body: String, sign: Bool = true, token: String? = nil) throws -> APIClient.Reply {
        var headers: [(String, String)] = []
        if sign { headers.append(("X-Stockyard-Signature", WebhookSignature.hexHeader(for: Array(body.utf8), secret: WebhookSecret(Self.secret)))) }
        if let token { headers.append(("X-Stockyard-Token", token)) }
        return try APIClient(baseURL: api.baseURL, token: nil).send("POST", "/webhooks/zoho", body: Array(body.utf8), headers: headers + [("Content-Type", "application/json")])
    }

    private func onHand(_ api: APIClient, _ item: String, _ location: String) throws -> Int? {
        let locations = try api.send("GET", "/v1/stock/\(item)").json["locations"] as? [[String: Any]] ?? []
        return locations.first { $0["location_id"] as? String == location }?["zoho_on_hand"] as? Int
    }

    @Test func correctionsSetAndMoveZohoOnHand() async throws {
        try await offPool {
            let service = try ServiceProcess(redisURL: SharedRedis.url, environment: ["STOCKYARD_ZOHO_WEBHOOK_SECRET": Self.secret])
            let api = APIClient(baseURL: service.baseURL)
            #expect(try api.send("PUT", "/v1/stock", json: ["stock": [["item_id": "A", "location_id": "L1", "zoho_on_hand": 10]]]).status == 200)

            let absolute = #"{"item":{"item_id":"A","locations":[{"location_id":"L1","location_stock_on_hand":"25"},{"location_id":"L2","location_stock_on_hand":"4"}]}}"#
            let reply = try post(api, absolute)
            #expect(reply.status == 200)
            #expect(reply.json["correction"] as? String == "stock")
            #expect(try onHand(api, "A", "L1") == 25)
            #expect(try onHand(api, "A", "L2") == 4)

            let delta = #"{"inventory_adjustment":{"inventory_adjustment_id":"4815000000044100","reference_number":"REF-1","line_items":[{"item_id":"A","location_id":"L1","quantity_adjusted":-5}]}}"#
            #expect(try post(api, delta).json["correction"] as? String == "adjustment")
            #expect(try onHand(api, "A", "L1") == 20)
            // The same adjustment delivered again moves nothing.
            #expect(try post(api, delta).json["correction"] as? String == "duplicate")
            #expect(try onHand(api, "A", "L1") == 20)

            // Our own adjustment coming back is ignored.
            let echo = #"{"inventory_adjustment":{"inventory_adjustment_id":"99","reference_number":"SY-abc-1","line_items":[{"item_id":"A","location_id":"L1","quantity_adjusted":-7}]}}"#
            #expect(try post(api, echo).json["correction"] as? String == "echo")
            #expect(try onHand(api, "A", "L1") == 20)

            // The header token, for organizations that cannot sign.
            let other = #"{"inventory_adjustment":{"inventory_adjustment_id":"4815000000044101","line_items":[{"item_id":"A","location_id":"L1","quantity_adjusted":2}]}}"#
            #expect(try post(api, other, sign: false, token: Self.secret).status == 200)
            #expect(try onHand(api, "A", "L1") == 22)

            // The remembered adjustment id survives a restart.
            service.kill9()
            try service.start()
            #expect(try post(api.rebased(service.baseURL), delta).json["correction"] as? String == "duplicate")
            #expect(try onHand(api.rebased(service.baseURL), "A", "L1") == 22)
        }
    }

    @Test func badSignaturesAndBodiesChangeNothing() async throws {
        try await offPool {
            let service = try ServiceProcess(redisURL: SharedRedis.url, environment: ["STOCKYARD_ZOHO_WEBHOOK_SECRET": Self.secret])
            let api = APIClient(baseURL: service.baseURL)
            #expect(try api.send("PUT", "/v1/stock", json: ["stock": [["item_id": "A", "location_id": "L1", "zoho_on_hand": 10]]]).status == 200)
            let body = #"{"item":{"item_id":"A","locations":[{"location_id":"L1","location_stock_on_hand":"1"}]}}"#
            #expect(try post(api, body, sign: false).status == 401)
            #expect(try post(api, body, sign: false, token: "wrong-token").status == 401)
            #expect(try post(api, body + " ", sign: false, token: nil).status == 401)
            #expect(try onHand(api, "A", "L1") == 10)

            let bad = #"{"item":{"item_id":"A","locations":[{"location_id":"L1","location_stock_on_hand":"1.5"}]}}"#
            let reply = try post(api, bad)
            #expect(reply.status == 400)
            #expect(reply.errorField == "item.locations[0].location_stock_on_hand")
            #expect(try onHand(api, "A", "L1") == 10)
            let letters = try api.send("GET", "/v1/dead-letters").json["dead_letters"] as? [[String: Any]] ?? []
            #expect(letters.contains { $0["channel"] as? String == "zoho" })
        }
    }

    @Test func aCorrectionWaitsForTheBatchInFlightOnItsRow() async throws {
        let sandbox = try await SandboxServer(SandboxConfiguration(items: [SandboxItem(itemID: "A", sku: "A", stock: ["L1": 10])]))
        defer { sandbox.stop() }
        try await offPool {
            // Each Zoho call takes 1.5 s, so the batch is in flight when the correction comes.
            try sandbox.setFaults(["latency_ms": 1500])
            var environment = sandbox.serviceEnvironment()
            environment["STOCKYARD_ZOHO_WEBHOOK_SECRET"] = Self.secret
            let service = try ServiceProcess(redisURL: SharedRedis.url, environment: environment)
            let api = APIClient(baseURL: service.baseURL)
            #expect(try api.send("PUT", "/v1/stock", json: ["stock": [["item_id": "A", "location_id": "L1", "zoho_on_hand": 10]]]).status == 200)
            #expect(try api.send("PUT", "/v1/listings", json: ["listings": [["channel": "shopify", "listing_id": "a", "item_id": "A", "locations": ["L1"]]]]).status == 200)
            #expect(try api.postEvents([saleEvent(listing: "a", order: "1", line: "1", quantity: 3, version: 1)]).results == ["applied"])
            try waitUntil("the batch to be in flight") {
                let locations = try api.send("GET", "/v1/stock/A").json["locations"] as? [[String: Any]] ?? []
                return locations.first?["in_flight"] as? Int == -3
            }
            // Zoho's figure after our batch: 7. Applied only once the batch is confirmed, it stays 7.
            let reply = try post(api, #"{"item":{"item_id":"A","locations":[{"location_id":"L1","location_stock_on_hand":"7"}]}}"#)
            #expect(reply.status == 200)
            let locations = try api.send("GET", "/v1/stock/A").json["locations"] as? [[String: Any]] ?? []
            #expect(locations.first?["in_flight"] as? Int == 0)
            #expect(locations.first?["zoho_on_hand"] as? Int == 7)
            #expect(locations.first?["available"] as? Int == 7)
        }
    }
}

extension APIClient {
    func rebased(_ url: String) -> APIClient { APIClient(baseURL: url, token: token) }
}
