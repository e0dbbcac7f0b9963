import Foundation
import StockyardChannels
import StockyardOutbound
import StockyardRedis
import Testing

/// Shopify and Amazon webhooks against the real executable, real Redis, real HTTP.
@Suite(.serialized) final class WebhookTests {
    static let shopifySecret = "shpss_current_0123456789"
    static let previousSecret = "shpss_previous_0123456789"
    static let bridgeSecret = "bridge-secret-0123456789"

    let service: ServiceProcess
    private(set) var api: APIClient

    init() throws {
        service = try ServiceProcess(
            redisURL: SharedRedis.url,
            environment: [
                "STOCKYARD_MAX_BODY_BYTES": "65536",
                "STOCKYARD_SHOPIFY_SECRET": "\(Self.shopifySecret),\(Self.previousSecret)",
                "STOCKYARD_AMAZON_BRIDGE_SECRET": Self.bridgeSecret,
            ])
        api = APIClient(baseURL: service.baseURL)
        let stock = try api.send("PUT", "/v1/stock", json: ["stock": [
            ["item_id": "CHAIR", "location_id": "WH", "zoho_on_hand": 20],
            ["item_id": "LENS", "location_id": "WH", "zoho_on_hand": 20],
            ["item_id": "CASE", "location_id": "WH", "zoho_on_hand": 20],
            ["item_id": "GLASSES", "location_id": "WH", "zoho_on_hand": 50],
        ]])
        #expect(stock.status == 200)
        let listings = try api.send("PUT", "/v1/listings", json: ["listings": [
            ["channel": "shopify", "listing_id": "product:788032119674292922", "item_id": "CHAIR", "locations": ["WH"]],
            ["channel": "shopify", "listing_id": "sku:LENS-PROTECT-2YR", "item_id": "LENS", "locations": ["WH"]],
            ["channel": "shopify", "listing_id": "sku:CASE-LEATHER-PREM", "item_id": "CASE", "locations": ["WH"]],
            ["channel": "amazon", "listing_id": "SellerSKUID1", "item_id": "GLASSES", "locations": ["WH"]],
        ]])
        #expect(listings.status == 200)
    }

    static var order: String { fixtureText("shopify/orders_create.sample.json") }

    func shopify(
        _ topic: String, _ body: String, webhookID: String = UUID().uuidString, secret: String? = WebhookTests.shopifySecret,
        extraHeaders: [(String, String)] = []
    ) throws -> APIClient.Reply {
        let bytes = Array(body.utf8)
        var headers = [
            ("Content-Type", "application/json"), ("X-Shopify-Topic", topic), ("X-Shopify-Shop-Domain", "snowdevil.myshopify.com"),
            ("X-Shopify-Webhook-Id", webhookID), ("X-Shopify-Triggered-At", "2025-07-10T16:15:47.000000Z"),
            ("X-Shopify-API-Version", "2026-07"),
        ]
        if let secret { headers.append(("X-Shopify-Hmac-Sha256", WebhookSignature.shopifyHeader(for: bytes, secret: WebhookSecret(secret)))) }
        headers += extraHeaders
        return try api.send("POST", "/webhooks/shopify", body: bytes, headers: headers)
    }

    func amazon(_ body: String, secret: String = WebhookTests.bridgeSecret) throws -> APIClient.Reply {
        let bytes = Array(body.utf8)
        return try api.send("POST", "/webhooks/amazon", body: bytes, headers: [
            ("Content-Type", "application/json"),
            ("X-Stockyard-Signature", WebhookSignature.hexHeader(for: bytes, secret: WebhookSecret(secret))),
        ])
    }

    func available() throws -> [String: Int] {
        var figures: [String: Int] = [:]
        for item in ["CHAIR", "LENS", "CASE", "GLASSES"] { figures[item] = try api.available(item, "WH") }
        return figures
    }

    func lineResults(_ reply: APIClient.Reply) -> [String] {
        (reply.json["lines"] as? [[String: Any]])?.compactMap { $0["result"] as? String } ?? []
    }

    @Test func shopifyOrderLifecycle() throws {
        let created = try shopify("orders/create", Self.order, webhookID: "delivery-1")
        #expect(created.status == 200)
        #expect(created.json["delivery"] as? String == "applied")
        #expect(lineResults(created) == Array(repeating: "applied", count: 5))
        #expect(try available() == ["CHAIR": 17, "LENS": 19, "CASE": 19, "GLASSES": 50])

        // Shopify retries the same delivery: answered at once, nothing applied.
        let retried = try shopify("orders/create", Self.order, webhookID: "delivery-1")
        #expect(retried.status == 200)
        #expect(retried.json["delivery"] as? String == "duplicate")
        // The retry is answered from its delivery id, before its body is read; yet only once the
        // signature holds.
        let cut = try shopify("orders/create", String(Self.order.prefix(40)), webhookID: "delivery-1")
        #expect(cut.status == 200)
        #expect(cut.json["delivery"] as? String == "duplicate")
        #expect(try shopify("orders/create", Self.order, webhookID: "delivery-1", secret: "not-the-secret").status == 401)
        // Another delivery of the same event: every line is a duplicate.
        let again = try shopify("orders/create", Self.order, webhookID: "delivery-2")
        #expect(lineResults(again) == Array(repeating: "duplicate", count: 5))

        // A refund restocking the lens (cancel) and one chair (return), and one not restocking.
        let refund = """
            {"id": 7001, "order_id": 820982911946154508, "created_at": "2022-01-03T10:00:00Z", "refund_line_items": [
              {"id": 1, "line_item_id": 789012345678901234, "quantity": 1, "restock_type": "cancel",
               "line_item": {"id": 789012345678901234, "variant_id": null, "product_id": null, "sku": "LENS-PROTECT-2YR", "quantity": 1}},
              {"id": 2, "line_item_id": 976318377106520349, "quantity": 1, "restock_type": "return",
               "line_item": {"id": 976318377106520349, "variant_id": null, "product_id": 788032119674292922, "sku": "SKU2006-020", "quantity": 1}},
              {"id": 3, "line_item_id": 890123456789012345, "quantity": 1, "restock_type": "no_restock",
               "line_item": {"id": 890123456789012345, "sku": "CASE-LEATHER-PREM", "quantity": 1}}]}
            """
        let refunded = try shopify("refunds/create", refund)
        #expect(lineResults(refunded) == ["applied", "applied"])
        #expect((refunded.json["skipped"] as? [[String: Any]])?.count == 1)
        // The same refund delivered twice (a new delivery id): released once.
        #expect(lineResults(try shopify("refunds/create", refund)) == ["duplicate", "duplicate"])
        #expect(try available() == ["CHAIR": 18, "LENS": 20, "CASE": 19, "GLASSES": 50])

        // Cancellation without restock moves nothing; an edit taking the case to 0 releases it.
        let cancelled = try shopify("orders/cancelled", Self.order.replacingFirst("\"updated_at\": \"2021-12-31T19:00:00-05:00\"", with: "\"updated_at\": \"2022-01-04T00:00:00Z\""))
        #expect(cancelled.status == 200)
        let edit = """
            {"order_edit": {"id": 55, "order_id": 820982911946154508, "created_at": "2022-01-05T00:00:00Z",
              "line_items": {"additions": [], "removals": [{"id": 890123456789012345, "delta": 1}, {"id": 1, "delta": 1}]}}}
            """
        let edited = try shopify("orders/edited", edit)
        #expect(lineResults(edited) == ["applied", "unknown_line"])
        #expect(try available() == ["CHAIR": 18, "LENS": 20, "CASE": 20, "GLASSES": 50])
        // An edit up (the full order update after it) takes the unit again; the older update is stale.
        let up = Self.order.replacingFirst("\"updated_at\": \"2021-12-31T19:00:00-05:00\"", with: "\"updated_at\": \"2022-01-06T00:00:00Z\"")
        #expect(try shopify("orders/updated", up).status == 200)
        #expect(try available()["CASE"] == 19)
        let stale = try shopify("orders/updated", Self.order)
        #expect(lineResults(stale).allSatisfy { $0 == "stale" || $0 == "duplicate" })
        #expect(try available() == ["CHAIR": 18, "LENS": 20, "CASE": 19, "GLASSES": 50])
    }

    @Test func signaturesAreCheckedOnRawBytes() throws {
        let before = try available()
        let wrong = try shopify("orders/create", Self.order, secret: "not-the-secret")
        #expect(wrong.status == 401)
        #expect(wrong.errorCode == "unauthorized")
        let missing = try shopify("orders/create", Self.order, secret: nil)
        #expect(missing.status == 401)
        // Signed with the previous secret during a rotation: accepted.
        let rotated = try shopify("orders/create", Self.order, secret: Self.previousSecret)
        #expect(rotated.status == 200)
        // A body changed after signing: rejected.
        let bytes = Array(Self.order.utf8)
        var tampered = bytes
        tampered[100] = UInt8(ascii: " ")
        let reply = try api.send("POST", "/webhooks/shopify", body: tampered, headers: [
            ("X-Shopify-Topic", "orders/create"),
            ("X-Shopify-Hmac-Sha256", WebhookSignature.shopifyHeader(for: bytes, secret: WebhookSecret(Self.shopifySecret))),
        ])
        #expect(reply.status == 401)
        let bridge = try amazon(fixtureText("amazon/OrderChangeNotification.example.json"), secret: "wrong")
        #expect(bridge.status == 401)
        var expected = before
        expected["CHAIR"]! -= 3
        expected["LENS"]! -= 1
        expected["CASE"]! -= 1
        #expect(try available() == expected)
        #expect(try api.send("GET", "/v1/dead-letters").json["total"] as? Int == 0)
    }

    @Test func unreadableBodiesBecomeDeadLetters() throws {
        let before = try available()
        let truncated = try shopify("orders/create", String(Self.order.prefix(4000)))
        #expect(truncated.status == 400)
        #expect(truncated.errorCode == "invalid_json")
        let wrongType = try shopify("orders/create", Self.order.replacingFirst("\"quantity\": 1,", with: "\"quantity\": \"1\","))
        #expect(wrongType.status == 400)
        #expect(wrongType.errorField == "line_items[0].quantity")
        let noTopic = try api.send("POST", "/webhooks/shopify", body: Array(Self.order.utf8), headers: [
            ("X-Shopify-Hmac-Sha256", WebhookSignature.shopifyHeader(for: Array(Self.order.utf8), secret: WebhookSecret(Self.shopifySecret))),
        ])
        #expect(noTopic.status == 400)
        #expect(noTopic.errorField == "X-Shopify-Topic")
        let unknown = try shopify("products/update", "{\"id\": 1}")
        #expect(unknown.status == 200)
        #expect(unknown.json["delivery"] as? String == "ignored")
        let huge = try shopify("orders/create", Self.order + String(repeating: " ", count: 70_000))
        #expect(huge.status == 413)
        #expect(try available() == before)

        let list = try api.send("GET", "/v1/dead-letters")
        let letters = try #require(list.json["dead_letters"] as? [[String: Any]])
        #expect(letters.count == 3)
        #expect(letters.map { $0["code"] as? String } == ["invalid_json", "invalid_field", "invalid_header"])
        #expect(letters[1]["field"] as? String == "line_items[0].quantity")
        #expect((letters[1]["body"] as? String)?.contains("\"quantity\": \"1\"") == true)
        #expect((letters[1]["headers"] as? [String: String])?["x-shopify-topic"] == "orders/create")
        #expect(try api.send("GET", "/v1/dead-letters", headers: []).status == 200)
        #expect(try APIClient(baseURL: service.baseURL, token: nil).send("GET", "/v1/dead-letters").status == 401)

        // Replaying a body that still cannot be read changes nothing and keeps the letter.
        let id = try #require(letters[1]["id"] as? String)
        let replay = try api.send("POST", "/v1/dead-letters/\(id)/replay")
        #expect(replay.status == 422)
        #expect(try api.send("GET", "/v1/dead-letters/\(id)").status == 200)
        #expect(try api.send("DELETE", "/v1/dead-letters/\(id)").status == 200)
        #expect(try api.send("GET", "/v1/dead-letters/\(id)").status == 404)

        // Dead letters survive a restart.
        service.kill9()
        try service.start()
        api = APIClient(baseURL: service.baseURL)
        #expect(try api.send("GET", "/v1/dead-letters").json["total"] as? Int == 2)
    }

    @Test func deadLetterReplayStoresTheBody() throws {
        // A letter kept by an older version that could not read this body: the current one can.
        let connection = try RedisConnection(configuration: RedisConfiguration(url: SharedRedis.url, keyPrefix: service.prefix))
        let record: [String: Any] = [
            "channel": "shopify", "received_at": 1_700_000_000_000, "code": "invalid_field", "message": "old reader",
            "headers": ["x-shopify-topic": "orders/create", "x-shopify-webhook-id": "dl-1"],
            "body": Data(Self.order.utf8).base64EncodedString(), "replays": 0,
        ]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: record), as: UTF8.self)
        _ = try connection.command(["HSET", "\(service.prefix):{c}:dead-letters", "1700000000000-0000abcd", json])
        connection.close()
        service.kill9()
        try service.start()
        api = APIClient(baseURL: service.baseURL)

        let replay = try api.send("POST", "/v1/dead-letters/1700000000000-0000abcd/replay")
        #expect(replay.status == 200)
        #expect(lineResults(replay) == Array(repeating: "applied", count: 5))
        #expect(try available()["CHAIR"] == 17)
        #expect(try api.send("GET", "/v1/dead-letters/1700000000000-0000abcd").status == 404)
        // Shopify's own redelivery of it afterwards is recognised.
        #expect(lineResults(try shopify("orders/create", Self.order)) == Array(repeating: "duplicate", count: 5))
    }

    @Test func amazonNotifications() throws {
        let example = fixtureText("amazon/OrderChangeNotification.example.json")
        let first = try amazon(example)
        #expect(first.status == 200)
        #expect(lineResults(first) == ["applied"])
        #expect(try available()["GLASSES"] == 40)
        #expect(try amazon(example).json["delivery"] as? String == "duplicate")

        // camelCase keys, a new notification id, an older EventTime: stale.
        var camel = example
        for key in ["NotificationType", "EventTime", "Payload", "OrderChangeNotification", "AmazonOrderId", "Summary", "OrderStatus",
            "OrderItems", "OrderItemId", "SellerSKU", "Quantity", "NotificationMetadata", "NotificationId"]
        {
            camel = camel.replacingOccurrences(of: "\"\(key)\"", with: "\"\(key.prefix(1).lowercased() + key.dropFirst())\"")
        }
        camel = camel.replacingFirst("d0e9e693-c3ad-4373-979f-ed4ec98dd746\"\n", with: "n-2\"\n")
            .replacingFirst("2020-01-11T00:09:53.109Z", with: "2020-01-10T00:00:00Z")
        #expect(lineResults(try amazon(camel)) == ["stale"])

        // Canceled, later: releases the units.
        let canceled = example.replacingFirst("\"OrderStatus\": \"Unshipped\"", with: "\"OrderStatus\": \"Canceled\"")
            .replacingFirst("2020-01-11T00:09:53.109Z", with: "2020-01-12T00:00:00Z")
            .replacingFirst("d0e9e693-c3ad-4373-979f-ed4ec98dd746\"\n", with: "n-3\"\n")
        #expect(lineResults(try amazon(canceled)) == ["applied"])
        #expect(try available()["GLASSES"] == 50)

        let mfn = example.replacingFirst("\"ORDER_CHANGE\"", with: "\"LISTINGS_ITEM_MFN_QUANTITY_CHANGE\"")
            .replacingFirst("d0e9e693-c3ad-4373-979f-ed4ec98dd746\"\n", with: "n-4\"\n")
        let info = try amazon(mfn)
        #expect(info.status == 200)
        #expect(info.json["delivery"] as? String == "informational")
        let metrics = String(decoding: try api.send("GET", "/metrics").raw.body, as: UTF8.self)
        #expect(metrics.contains("stockyard_webhooks_total{channel=\"amazon\",outcome=\"informational\"} 1"))
        #expect(try available()["GLASSES"] == 50)
    }

    @Test func unmappedListingsWaitForAMapOrTheCatalogue() throws {
        let example = fixtureText("amazon/OrderChangeNotification.example.json")
            .replacingOccurrences(of: "SellerSKUID1", with: "NEW-SKU-9")
        #expect(lineResults(try amazon(example)) == ["unmapped"])
        let unmapped = try api.send("GET", "/v1/unmapped")
        let listings = try #require(unmapped.json["listings"] as? [[String: Any]])
        #expect(listings.first?["listing_id"] as? String == "NEW-SKU-9")
        #expect(unmapped.json["event_count"] as? Int == 1)

        // The catalogue names the SKU: the listing maps itself and the parked line replays.
        let items = try api.send("PUT", "/v1/items", json: ["items": [["item_id": "GLASSES", "sku": "NEW-SKU-9"]]])
        #expect(items.status == 200)
        #expect(items.json["replayed"] as? Int == 1)
        #expect(try available()["GLASSES"] == 40)
        #expect(try api.send("GET", "/v1/listings/amazon/NEW-SKU-9").json["item_id"] as? String == "GLASSES")
        #expect(try api.send("GET", "/v1/unmapped").json["event_count"] as? Int == 0)

        // A new SKU-keyed Shopify line whose SKU is in the catalogue maps itself on arrival.
        _ = try api.send("PUT", "/v1/items", json: ["items": [["item_id": "LENS", "sku": "SKU-LENS-2", "locations": ["WH"]]]])
        let order = Self.order.replacingOccurrences(of: "LENS-PROTECT-2YR", with: "SKU-LENS-2")
        let reply = try shopify("orders/create", order)
        #expect((reply.json["auto_mapped"] as? [String]) == ["sku:SKU-LENS-2"])
        #expect(try available()["LENS"] == 19)

        // CSV import maps a listing and replays what waited for it.
        let parked = try shopify(
            "orders/create",
            Self.order.replacingOccurrences(of: "788032119674292922", with: "111").replacingOccurrences(of: "820982911946154508", with: "42"))
        #expect(lineResults(parked).filter { $0 == "unmapped" }.count == 3)
        let csv = "channel,listing_id,item_id,locations\nshopify,product:111,CHAIR,WH\n"
        let imported = try api.send("POST", "/v1/listings/import", body: Array(csv.utf8), headers: [("Content-Type", "text/csv")])
        #expect(imported.status == 200)
        #expect(imported.json["replayed"] as? Int == 3)
        let bad = try api.send("POST", "/v1/listings/import", body: Array("shopify,x,CHAIR\n".utf8), headers: [("Content-Type", "text/csv")])
        #expect(bad.status == 400)
        #expect(bad.errorField == "line 1")
    }
}

extension WebhookTests {
    /// Runs `ops/amazon-bridge/bridge.py` on an SQS event; returns its exit status and answer.
    func runBridge(_ event: [String: Any], url: String, secret: String) throws -> (Int32, [String]) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("ops/amazon-bridge/bridge.py").path]
        var environment = ProcessInfo.processInfo.environment
        environment["STOCKYARD_URL"] = url
        environment["STOCKYARD_AMAZON_BRIDGE_SECRET"] = secret
        environment["STOCKYARD_BRIDGE_TIMEOUT_SECONDS"] = "5"
        process.environment = environment
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: event))
        try input.fileHandleForWriting.close()
        let answer = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let json = try JSONSerialization.jsonObject(with: answer) as? [String: Any]
        let failed = (json?["batchItemFailures"] as? [[String: String]])?.compactMap { $0["itemIdentifier"] } ?? []
        return (process.terminationStatus, failed)
    }

    @Test func amazonBridgeForwardsSQSMessages() throws {
        let example = fixtureText("amazon/OrderChangeNotification.example.json")
        let event: [String: Any] = ["Records": [
            ["messageId": "m-1", "body": example],
            ["messageId": "m-2", "body": "{\"NotificationType\": \"ORDER_CHANGE\""],
        ]]
        // Stored, and kept as a dead letter: both delivered, nothing for SQS to retry.
        let (status, failed) = try runBridge(event, url: service.baseURL, secret: Self.bridgeSecret)
        #expect(status == 0)
        #expect(failed.isEmpty)
        #expect(try available()["GLASSES"] == 40)
        #expect(try api.send("GET", "/v1/dead-letters").json["total"] as? Int == 1)
        // A wrong secret or an unreachable service: every message goes back to SQS.
        let (wrongStatus, wrongFailed) = try runBridge(event, url: service.baseURL, secret: "not-the-secret")
        #expect(wrongStatus == 1)
        #expect(wrongFailed == ["m-1", "m-2"])
        let (downStatus, downFailed) = try runBridge(event, url: "http://127.0.0.1:\(freePort())", secret: Self.bridgeSecret)
        #expect(downStatus == 1)
        #expect(downFailed == ["m-1", "m-2"])
        #expect(try available()["GLASSES"] == 40)
    }
}

/// A vendor payload from `Tests/Fixtures`, as text.
func fixtureText(_ path: String) -> String {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(path)
    return String(decoding: FileManager.default.contents(atPath: url.path) ?? Data(), as: UTF8.self)
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { fatalError("text has no \(target)") }
        return replacingCharacters(in: range, with: replacement)
    }
}
