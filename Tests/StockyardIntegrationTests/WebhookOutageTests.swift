import Foundation
import StockyardChannels
import StockyardOutbound
import Testing

/// A webhook that cannot be stored is answered 503 with Retry-After, never 200, and the same
/// delivery goes through once Redis is back.
@Suite(.serialized) struct WebhookOutageTests {
    @Test func webhooksGet503WhileRedisIsDown() throws {
        let redis = try RedisServer()
        let secret = "outage-secret-0123456789"
        let service = try ServiceProcess(redisURL: redis.url, environment: ["STOCKYARD_SHOPIFY_SECRET": secret])
        let api = APIClient(baseURL: service.baseURL)
        #expect(try api.send("PUT", "/v1/stock", json: ["stock": [["item_id": "CHAIR", "location_id": "WH", "zoho_on_hand": 10]]]).status == 200)
        #expect(try api.send("PUT", "/v1/listings", json: ["listings": [
            ["channel": "shopify", "listing_id": "product:788032119674292922", "item_id": "CHAIR", "locations": ["WH"]],
        ]]).status == 200)
        let body = Array(fixtureText("shopify/orders_create.sample.json").utf8)
        let headers = [
            ("Content-Type", "application/json"), ("X-Shopify-Topic", "orders/create"), ("X-Shopify-Webhook-Id", "outage-1"),
            ("X-Shopify-Hmac-Sha256", WebhookSignature.shopifyHeader(for: body, secret: WebhookSecret(secret))),
        ]

        try redis.stop()
        try waitUntil("the service notices Redis is gone", timeout: 30) {
            try api.send("GET", "/readyz").status == 503
        }
        let refused = try api.send("POST", "/webhooks/shopify", body: body, headers: headers)
        #expect(refused.status == 503)
        #expect(refused.errorCode == "store_unavailable")
        #expect(refused.raw.headers.contains { $0.name.lowercased() == "retry-after" })
        let metrics = String(decoding: try api.send("GET", "/metrics").raw.body, as: UTF8.self)
        #expect(metrics.contains("stockyard_webhooks_total{channel=\"shopify\",outcome=\"unavailable\"} 1"))

        // Shopify retries the same delivery once Redis is back: stored, once.
        try redis.start()
        try service.waitUntilReady()
        let stored = try api.send("POST", "/webhooks/shopify", body: body, headers: headers)
        #expect(stored.status == 200)
        #expect(stored.json["delivery"] as? String == "applied")
        #expect(try api.available("CHAIR", "WH") == 7)
        #expect(service.terminate() == 0)
    }

    @Test func eachShopHasItsSecretAndNamespace() throws {
        let directory = makeScratchDirectory("shops")
        let file = directory.appendingPathComponent("shops.json")
        try Data("""
            {"shops": {"eu-store.myshopify.com": {"secrets": ["eu-secret-0123456789"], "namespace": "eu"}}}
            """.utf8).write(to: file)
        let service = try ServiceProcess(
            redisURL: SharedRedis.url,
            environment: ["STOCKYARD_SHOPIFY_SECRET": "default-secret-0123456789", "STOCKYARD_SHOPIFY_SHOPS_FILE": file.path])
        let api = APIClient(baseURL: service.baseURL)
        #expect(try api.send("PUT", "/v1/stock", json: ["stock": [["item_id": "CHAIR", "location_id": "WH", "zoho_on_hand": 10]]]).status == 200)
        #expect(try api.send("PUT", "/v1/listings", json: ["listings": [
            ["channel": "shopify", "listing_id": "eu:product:788032119674292922", "item_id": "CHAIR", "locations": ["WH"]],
        ]]).status == 200)
        let body = Array(fixtureText("shopify/orders_create.sample.json").utf8)
        func post(shop: String, secret: String) throws -> APIClient.Reply {
            try api.send("POST", "/webhooks/shopify", body: body, headers: [
                ("X-Shopify-Topic", "orders/create"), ("X-Shopify-Shop-Domain", shop),
                ("X-Shopify-Hmac-Sha256", WebhookSignature.shopifyHeader(for: body, secret: WebhookSecret(secret))),
            ])
        }
        // The shop's own secret only: the default one does not open it.
        #expect(try post(shop: "eu-store.myshopify.com", secret: "default-secret-0123456789").status == 401)
        let reply = try post(shop: "EU-Store.myshopify.com", secret: "eu-secret-0123456789")
        #expect(reply.status == 200)
        let lines = try #require(reply.json["lines"] as? [[String: Any]])
        #expect(lines.first?["listing_id"] as? String == "eu:product:788032119674292922")
        #expect(lines.first?["order_id"] as? String == "eu:820982911946154508")
        #expect(try api.available("CHAIR", "WH") == 7)
        // Another shop falls back to the default secret and the plain namespace.
        #expect(try post(shop: "other.myshopify.com", secret: "default-secret-0123456789").status == 200)
    }
}
