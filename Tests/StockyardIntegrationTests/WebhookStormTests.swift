import Foundation
import StockyardChannels
import StockyardOutbound
import Testing

/// Thousands of signed Shopify webhooks from many connections at once, with duplicate deliveries
/// and updates that overtake their order's creation: every delivery is answered 200 and the stock
/// ends exactly where the latest line states put it.
@Suite(.serialized) struct WebhookStormTests {
    static let secret = "storm-secret-0123456789"
    static let variants = 24
    static let orders = 700
    static let connections = 16

    struct Delivery {
        var topic: String
        var webhookID: String
        var body: [UInt8]
    }

    /// The sample order with its own ids; every line on a variant of the pool.
    static func orderBody(_ order: Int, updated: Bool) -> (String, [Int]) {
        var text = fixtureText("shopify/orders_create.sample.json")
            .replacingOccurrences(of: "820982911946154508", with: "\(9_100_000_000_000_000 + order)")
        var variants: [Int] = []
        for (index, line) in ["487817672276298554", "789012345678901234", "890123456789012345", "976318377106520349", "315789986012684393"].enumerated() {
            text = text.replacingOccurrences(of: line, with: "\(8_000_000_000_000_000 + order * 10 + index)")
            let variant = (order * 7 + index * 5) % Self.variants
            variants.append(variant)
            text = text.replacingFirst("\"variant_id\": null", with: "\"variant_id\": \(7_000_000_000_000_000 + variant)")
        }
        if updated {
            text = text.replacingFirst("\"updated_at\": \"2021-12-31T19:00:00-05:00\"", with: "\"updated_at\": \"2022-01-01T12:00:00Z\"")
                .replacingFirst("\"current_quantity\": 1", with: "\"current_quantity\": 0")
        }
        return (text, variants)
    }

    /// Answers counted across the storm's threads.
    final class Tally: @unchecked Sendable {
        let lock = NSLock()
        var statuses: [Int: Int] = [:]
        var counts: [String: Int] = [:]
        var failures: [String] = []
    }

    @Test func stormOfSignedWebhooks() throws {
        let service = try ServiceProcess(redisURL: SharedRedis.url, environment: ["STOCKYARD_SHOPIFY_SECRET": Self.secret])
        let api = APIClient(baseURL: service.baseURL)
        let onHand = 100_000
        var stock: [[String: Any]] = []
        var listings: [[String: Any]] = []
        for variant in 0..<Self.variants {
            stock.append(["item_id": "ITEM-\(variant)", "location_id": "WH", "zoho_on_hand": onHand])
            listings.append(["channel": "shopify", "listing_id": "\(7_000_000_000_000_000 + variant)", "item_id": "ITEM-\(variant)", "locations": ["WH"]])
        }
        #expect(try api.send("PUT", "/v1/stock", json: ["stock": stock]).status == 200)
        #expect(try api.send("PUT", "/v1/listings", json: ["listings": listings]).status == 200)

        var deliveries: [Delivery] = []
        var held = [Int](repeating: 0, count: Self.variants)
        for order in 0..<Self.orders {
            let (created, variants) = Self.orderBody(order, updated: false)
            let isUpdated = order % 5 == 0
            for (index, variant) in variants.enumerated() where !(isUpdated && index == 0) { held[variant] += 1 }
            var batch = [Delivery(topic: "orders/create", webhookID: "c-\(order)", body: Array(created.utf8))]
            if isUpdated {
                let update = Delivery(topic: "orders/updated", webhookID: "u-\(order)", body: Array(Self.orderBody(order, updated: true).0.utf8))
                // Half of the updates overtake the creation.
                if order % 10 == 0 { batch.insert(update, at: 0) } else { batch.append(update) }
            }
            deliveries += batch
        }
        // 30% duplicate deliveries (the same delivery id again), spread through the storm.
        var generator = SystemRandomNumberGenerator()
        let duplicates = (0..<(deliveries.count * 3 / 10)).map { _ in deliveries.randomElement(using: &generator)! }
        for duplicate in duplicates { deliveries.insert(duplicate, at: Int.random(in: 0...deliveries.count, using: &generator)) }

        let tally = Tally()
        let group = DispatchGroup()
        for connection in 0..<Self.connections {
            group.enter()
            let slice = stride(from: connection, to: deliveries.count, by: Self.connections).map { deliveries[$0] }
            let thread = Thread {
                defer { group.leave() }
                let client = CurlHTTPClient(configuration: .init(connectTimeout: 2, totalTimeout: 30))
                for delivery in slice {
                    let headers = [
                        ("Content-Type", "application/json"), ("X-Shopify-Topic", delivery.topic),
                        ("X-Shopify-Webhook-Id", delivery.webhookID), ("X-Shopify-Shop-Domain", "storm.myshopify.com"),
                        ("X-Shopify-Hmac-Sha256", WebhookSignature.shopifyHeader(for: delivery.body, secret: WebhookSecret(Self.secret))),
                    ]
                    do {
                        let response = try client.request(method: "POST", url: service.baseURL + "/webhooks/shopify", headers: headers, body: delivery.body)
                        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
                        tally.lock.withLock {
                            tally.statuses[response.status, default: 0] += 1
                            for (result, count) in (json?["counts"] as? [String: Int]) ?? [:] { tally.counts[result, default: 0] += count }
                        }
                    } catch {
                        tally.lock.withLock { tally.failures.append("\(error)") }
                    }
                }
            }
            thread.start()
        }
        group.wait()
        #expect(tally.failures.isEmpty)
        #expect(tally.statuses == [200: deliveries.count])
        #expect(tally.counts["conflict"] == 0)
        #expect(tally.counts["applied", default: 0] > 0)
        for variant in 0..<Self.variants {
            #expect(try api.available("ITEM-\(variant)", "WH") == onHand - held[variant], "ITEM-\(variant)")
        }
        // The same figures after a restart from Redis alone.
        service.kill9()
        try service.start()
        let restarted = APIClient(baseURL: service.baseURL)
        for variant in 0..<Self.variants {
            #expect(try restarted.available("ITEM-\(variant)", "WH") == onHand - held[variant])
        }
    }
}
