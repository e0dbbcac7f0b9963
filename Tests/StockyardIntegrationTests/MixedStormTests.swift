import Foundation
import StockyardChannels
import StockyardOutbound
import Testing

/// All four channels at once over real HTTP: signed Shopify webhooks, Amazon bridge
/// notifications, and eBay and Etsy notifications whose orders are looked up in the marketplace
/// sandbox, with duplicate deliveries throughout. Every delivery is answered 200 and, once the
/// look-ups drain, every item's stock is exactly what the orders imply.
@Suite(.serialized) struct MixedStormTests {
    static let shopifySecret = "mixed-storm-shopify-secret"
    static let bridgeSecret = "mixed-storm-bridge-secret"
    static let items = WebhookStormTests.variants
    static let onHand = 100_000
    static let connections = 12

    struct Delivery {
        var path: String
        var headers: [(String, String)]
        var body: [UInt8]
    }

    @Test func fourChannelsAtOnce() async throws {
        let sandbox = try await MarketplaceSandboxServer(
            MarketplaceSandboxServer.testConfiguration(ebayCallsPerSecond: 1000, etsyCallsPerSecond: 1000, etsyCallsPerDay: 1_000_000))
        try await offPool {
            var environment = LookupServiceTests.environment(sandbox)
            environment["STOCKYARD_SHOPIFY_SECRET"] = Self.shopifySecret
            environment["STOCKYARD_AMAZON_BRIDGE_SECRET"] = Self.bridgeSecret
            environment["STOCKYARD_EBAY_LOOKUPS_PER_SECOND"] = "400"
            environment["STOCKYARD_ETSY_LOOKUPS_PER_SECOND"] = "400"
            let service = try ServiceProcess(redisURL: SharedRedis.url, environment: environment)
            let api = APIClient(baseURL: service.baseURL)
            var stock: [[String: Any]] = []
            var listings: [[String: Any]] = []
            for item in 0..<Self.items {
                stock.append(["item_id": "MIX-\(item)", "location_id": "WH", "zoho_on_hand": Self.onHand])
                for (channel, listing) in [
                    ("shopify", "\(7_000_000_000_000_000 + item)"), ("amazon", "AMZ-\(item)"), ("ebay", "\(160_000_000_000 + item)"),
                    ("etsy", "\(1_600_000_000 + item)"),
                ] {
                    listings.append(["channel": channel, "listing_id": listing, "item_id": "MIX-\(item)", "locations": ["WH"]])
                }
            }
            #expect(try api.send("PUT", "/v1/stock", json: ["stock": stock]).status == 200)
            #expect(try api.send("PUT", "/v1/listings", json: ["listings": listings]).status == 200)

            var held = [Int](repeating: 0, count: Self.items)
            var deliveries: [Delivery] = []
            // Shopify: the sample order, five lines of one unit each.
            for order in 0..<200 {
                let (text, variants) = WebhookStormTests.orderBody(order, updated: false)
                for variant in variants { held[variant] += 1 }
                let body = Array(text.utf8)
                deliveries.append(
                    Delivery(path: "/webhooks/shopify", headers: [
                        ("Content-Type", "application/json"), ("X-Shopify-Topic", "orders/create"), ("X-Shopify-Webhook-Id", "mix-\(order)"),
                        ("X-Shopify-Shop-Domain", "mixed.myshopify.com"),
                        ("X-Shopify-Hmac-Sha256", WebhookSignature.shopifyHeader(for: body, secret: WebhookSecret(Self.shopifySecret))),
                    ], body: body))
            }
            // Amazon: one item per notification.
            let example = fixtureText("amazon/OrderChangeNotification.example.json")
            for order in 0..<200 {
                let item = (order * 5) % Self.items
                let quantity = 1 + order % 3
                held[item] += quantity
                let text = example.replacingOccurrences(of: "903-8868176-2219830", with: "903-0000000-\(1_000_000 + order)")
                    .replacingOccurrences(of: "SellerSKUID1", with: "AMZ-\(item)")
                    .replacingOccurrences(of: "\"Quantity\": 10", with: "\"Quantity\": \(quantity)")
                    .replacingOccurrences(of: "d0e9e693-c3ad-4373-979f-ed4ec98dd746\"\n", with: "mix-amazon-\(order)\"\n")
                let body = Array(text.utf8)
                deliveries.append(
                    Delivery(path: "/webhooks/amazon", headers: [
                        ("Content-Type", "application/json"),
                        ("X-Stockyard-Signature", WebhookSignature.hexHeader(for: body, secret: WebhookSecret(Self.bridgeSecret))),
                    ], body: body))
            }
            // eBay: two lines per order, looked up.
            var orders: [[String: Any]] = []
            for order in 0..<200 {
                let first = order % Self.items
                let second = (order * 7 + 3) % Self.items
                held[first] += 2
                held[second] += 1
                orders.append(
                    LookupServiceTests.ebayOrder(
                        "27-\(10_000 + order)-00001", modified: "2026-11-20T10:00:00.000Z",
                        lines: [("A\(order)", "\(160_000_000_000 + first)", nil, nil, 2), ("B\(order)", "\(160_000_000_000 + second)", nil, nil, 1)]))
            }
            for notification in try sandbox.storeEbayOrders(orders) {
                deliveries.append(Delivery(path: "/webhooks/ebay", headers: notification.headers.map { ($0.key, $0.value) }, body: notification.body))
            }
            // Etsy: two transactions per receipt, looked up.
            var receipts: [[String: Any]] = []
            for receipt in 0..<200 {
                let first = (receipt * 3) % Self.items
                let second = (receipt * 11 + 1) % Self.items
                held[first] += 1
                held[second] += 3
                receipts.append(
                    LookupServiceTests.etsyReceipt(
                        3_100_000_000 + receipt, updated: 1_763_600_000, status: "Paid",
                        transactions: [(4_100_000_000 + receipt * 2, 1_600_000_000 + first, nil, 1), (4_100_000_001 + receipt * 2, 1_600_000_000 + second, nil, 3)]))
            }
            for notification in try sandbox.storeEtsyReceipts(shopID: 55_000_002, receipts) {
                deliveries.append(Delivery(path: "/webhooks/etsy", headers: notification.headers.map { ($0.key, $0.value) }, body: notification.body))
            }
            // 30% duplicate deliveries, everything shuffled together.
            var generator = SystemRandomNumberGenerator()
            deliveries += (0..<(deliveries.count * 3 / 10)).map { _ in deliveries.randomElement(using: &generator)! }
            deliveries.shuffle(using: &generator)

            let tally = WebhookStormTests.Tally()
            let group = DispatchGroup()
            for connection in 0..<Self.connections {
                group.enter()
                let slice = stride(from: connection, to: deliveries.count, by: Self.connections).map { deliveries[$0] }
                Thread {
                    defer { group.leave() }
                    let client = CurlHTTPClient(configuration: .init(connectTimeout: 2, totalTimeout: 30))
                    for delivery in slice {
                        do {
                            let response = try client.request(method: "POST", url: service.baseURL + delivery.path, headers: delivery.headers, body: delivery.body)
                            tally.lock.withLock {
                                tally.statuses[response.status, default: 0] += 1
                                if response.status != 200 { tally.failures.append("\(delivery.path): \(response.status) \(response.text.prefix(200))") }
                            }
                        } catch {
                            tally.lock.withLock { tally.failures.append("\(delivery.path): \(error)") }
                        }
                    }
                }.start()
            }
            group.wait()
            #expect(tally.failures.isEmpty, "\(tally.failures.prefix(5))")
            #expect(tally.statuses == [200: deliveries.count])

            try waitUntil("the look-ups drained", timeout: 120) {
                (try api.send("GET", "/readyz").json["lookups"] as? [String: Any])?["backlog"] as? Int == 0
            }
            for item in 0..<Self.items {
                #expect(try api.available("MIX-\(item)", "WH") == Self.onHand - held[item], "MIX-\(item)")
            }
            let stats = try sandbox.stats()
            #expect((stats["ebay"] as? [String: Any])?["order_calls"] as? Int == 200)
            #expect((stats["etsy"] as? [String: Any])?["receipt_calls"] as? Int == 200)
            #expect(service.terminate() == 0)
        }
    }
}
