import Crypto
import Foundation
import Glibc
import StockyardChannels
import StockyardOutbound
import StockyardRedis
import Testing

/// What an outsider can send: bytes that are not UTF-8, numbers and keys that read two ways,
/// refunds larger than the sale, broken framing, slow and idle connections, oversized headers,
/// and settings too weak to protect anything. Each case goes over real HTTP to the real
/// executable and Redis.
@Suite(.serialized) final class HardeningTests {
    static let shopifySecret = "hardening-shopify-secret-0123"
    static let bridgeSecret = "hardening-bridge-secret-0123"

    /// The services a test started, kept running until the test ends.
    private var services: [ServiceProcess] = []

    /// A service with a Shopify secret, item HARD at WH (10 on hand) and listing V1 drawing on it.
    private func service(_ environment: [String: String] = [:], redisURL: String = SharedRedis.url) throws -> (ServiceProcess, APIClient) {
        var settings = ["STOCKYARD_SHOPIFY_SECRET": Self.shopifySecret, "STOCKYARD_AMAZON_BRIDGE_SECRET": Self.bridgeSecret]
        for (key, value) in environment { settings[key] = value }
        let service = try ServiceProcess(redisURL: redisURL, environment: settings)
        services.append(service)
        let api = APIClient(baseURL: service.baseURL)
        #expect(try api.send("PUT", "/v1/stock", json: ["stock": [["item_id": "HARD", "location_id": "WH", "zoho_on_hand": 10]]]).status == 200)
        #expect(try api.send("PUT", "/v1/listings", json: ["listings": [
            ["channel": "shopify", "listing_id": "V1", "item_id": "HARD", "locations": ["WH"]],
            ["channel": "shopify", "listing_id": "V2", "item_id": "HARD", "locations": ["WH"]],
        ]]).status == 200)
        return (service, api)
    }

    private func shopify(
        _ api: APIClient, _ topic: String, _ body: [UInt8], headers: [(String, String)] = []
    ) throws -> APIClient.Reply {
        try APIClient(baseURL: api.baseURL, token: nil).send("POST", "/webhooks/shopify", body: body, headers: [
            ("Content-Type", "application/json"), ("X-Shopify-Topic", topic), ("X-Shopify-Shop-Domain", "hard.myshopify.com"),
            ("X-Shopify-Webhook-Id", UUID().uuidString),
            ("X-Shopify-Hmac-Sha256", WebhookSignature.shopifyHeader(for: body, secret: WebhookSecret(Self.shopifySecret))),
        ] + headers)
    }

    /// An order with one line on `variant` holding `quantity`, its ids given as JSON text.
    private static func order(id: String, variant: String = "\"V1\"", quantity: String = "1", extra: String = "") -> [UInt8] {
        Array("""
            {"id":\(id),"updated_at":"2025-03-01T10:00:00Z","line_items":[{"id":1,"variant_id":\(variant),"quantity":\(quantity)\(extra)}]}
            """.utf8)
    }

    /// Text and raw bytes (given as arrays of byte values) joined.
    private static func bytes(_ parts: Any...) -> [UInt8] {
        var out: [UInt8] = []
        for part in parts {
            switch part {
            case let text as String: out += Array(text.utf8)
            case let raw as [Int]: out += raw.map { UInt8($0) }
            default: preconditionFailure("text or byte values, not \(type(of: part))")
            }
        }
        return out
    }

    // MARK: Bodies

    /// Finding 4: bytes that are not UTF-8 are refused, naming the field, never repaired into
    /// text that another id already has.
    @Test func invalidUTF8IsRefusedNamingTheField() throws {
        let (_, api) = try service()
        let first = try shopify(api, "orders/create", Self.bytes("{\"id\":\"ORD-", [0xFF], "\",\"updated_at\":\"2025-03-01T10:00:00Z\",\"line_items\":[{\"id\":1,\"variant_id\":\"V1\",\"quantity\":2}]}"))
        #expect(first.status == 400, "\(first.json)")
        #expect(first.errorField == "id")
        let variant = try shopify(api, "orders/create", Self.bytes("{\"id\":\"ORD-1\",\"updated_at\":\"2025-03-01T10:00:00Z\",\"line_items\":[{\"id\":1,\"variant_id\":\"V", [0xFE], "\",\"quantity\":2}]}"))
        #expect(variant.status == 400)
        #expect(variant.errorField == "line_items[0].variant_id")
        // A field Stockyard does not read is checked all the same.
        let unread = try shopify(api, "orders/create", Self.bytes("{\"id\":\"ORD-2\",\"note\":\"", [0xC3, 0x28], "\",\"updated_at\":\"2025-03-01T10:00:00Z\",\"line_items\":[]}"))
        #expect(unread.status == 400)
        #expect(unread.errorField == "note")
        #expect(try api.available("HARD", "WH") == 10)

        let events = try api.send("POST", "/v1/events", body: Self.bytes(
            "{\"events\":[{\"channel\":\"shopify\",\"listing_id\":\"V1\",\"order_id\":\"E-", [0xFF],
            "\",\"line_id\":\"1\",\"quantity\":1,\"version\":1}]}"))
        #expect(events.status == 400)
        #expect(events.errorField == "events[0].order_id")

        let csv = try api.send(
            "POST", "/v1/listings/import", body: Self.bytes("channel,listing_id,item_id,locations\nshopify,V", [0xFF], ",HARD,WH\n"),
            headers: [("Content-Type", "text/csv")])
        #expect(csv.status == 400)
        #expect(csv.errorField == "line 2.listing_id")
        #expect(try api.available("HARD", "WH") == 10)
    }

    /// Finding 4, the other half: ids that are the same text to Unicode but not the same bytes
    /// (`é` as one code point, or as `e` and a combining accent) are two ids, as they are in Redis.
    @Test func idsAreComparedByteForByte() throws {
        let (service, api) = try service()
        let composed = "CAF\u{C9}"
        let decomposed = "CAFE\u{301}"
        #expect(composed == decomposed)
        #expect(try api.send("PUT", "/v1/stock", json: ["stock": [
            ["item_id": composed, "location_id": "WH", "zoho_on_hand": 5],
            ["item_id": decomposed, "location_id": "WH", "zoho_on_hand": 2],
        ]]).status == 200)
        #expect(try api.send("PUT", "/v1/listings", json: ["listings": [
            ["channel": "shopify", "listing_id": "L-" + composed, "item_id": composed, "locations": ["WH"]],
            ["channel": "shopify", "listing_id": "L-" + decomposed, "item_id": decomposed, "locations": ["WH"]],
        ]]).status == 200)
        let sold = try api.postEvents([
            saleEvent(listing: "L-" + decomposed, order: "N-1", line: "1", quantity: 1, version: 1),
        ])
        #expect(sold.results == ["applied"])
        func available(_ api: APIClient, _ item: String) throws -> Int? {
            try api.available(item.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? item, "WH")
        }
        #expect(try available(api, composed) == 5)
        #expect(try available(api, decomposed) == 1)
        // The same after a start from Redis alone.
        service.kill9()
        try service.start()
        let restarted = APIClient(baseURL: service.baseURL)
        #expect(try available(restarted, composed) == 5)
        #expect(try available(restarted, decomposed) == 1)
    }

    /// Finding 5: a number is whole when its text says so; a double that rounds it is not asked.
    @Test func wholeNumbersAreDecidedFromTheText() throws {
        let (_, api) = try service()
        func post(_ quantity: String, _ version: String) throws -> APIClient.Reply {
            try api.send("POST", "/v1/events", body: Array("""
                {"events":[{"channel":"shopify","listing_id":"V1","order_id":"W-1","line_id":"1","quantity":\(quantity),"version":\(version)}]}
                """.utf8))
        }
        let nearlyOne = try post("0.99999999999999999999", "1")
        #expect(nearlyOne.status == 400)
        #expect(nearlyOne.errorField == "events[0].quantity")
        let tiny = try post("1", "1e-400")
        #expect(tiny.status == 400)
        #expect(tiny.errorField == "events[0].version")
        #expect(try post("1e-400", "1").errorField == "events[0].quantity")
        let stock = try api.send("PUT", "/v1/stock", body: Array(#"{"stock":[{"item_id":"HARD","location_id":"WH","zoho_on_hand":9.99999999999999999999}]}"#.utf8))
        #expect(stock.status == 400)
        #expect(stock.errorField == "stock[0].zoho_on_hand")
        #expect(try api.available("HARD", "WH") == 10)
        // Whole numbers written with a zero fraction still read.
        #expect(try post("2.0", "1").status == 200)
        #expect(try api.available("HARD", "WH") == 8)
    }

    /// Finding 6: a field given twice in one object is refused with its name, in every body
    /// that moves stock.
    @Test func duplicateKeysAreRefusedNamingTheField() throws {
        let (_, api) = try service()
        let twice = try shopify(api, "orders/create", Self.order(id: "\"DUP-1\"", extra: ",\"quantity\":500"))
        #expect(twice.status == 400, "\(twice.json)")
        #expect(twice.errorField == "line_items[0].quantity")
        let events = try api.send("POST", "/v1/events", body: Array("""
            {"events":[{"channel":"shopify","listing_id":"V1","order_id":"DUP-2","line_id":"1","quantity":1,"quantity":500,"version":1}]}
            """.utf8))
        #expect(events.status == 400)
        #expect(events.errorField == "events[0].quantity")
        let stock = try api.send("PUT", "/v1/stock", body: Array(#"{"stock":[{"item_id":"HARD","location_id":"WH","zoho_on_hand":1,"zoho_on_hand":900}]}"#.utf8))
        #expect(stock.status == 400)
        #expect(stock.errorField == "stock[0].zoho_on_hand")
        let amazon = Array(#"{"NotificationType":"ORDER_CHANGE","NotificationType":"OTHER","Payload":{}}"#.utf8)
        let amazonReply = try APIClient(baseURL: api.baseURL, token: nil).send("POST", "/webhooks/amazon", body: amazon, headers: [
            ("Content-Type", "application/json"),
            ("X-Stockyard-Signature", WebhookSignature.hexHeader(for: amazon, secret: WebhookSecret(Self.bridgeSecret))),
        ])
        #expect(amazonReply.status == 400)
        #expect(amazonReply.errorField == "NotificationType")
        #expect(try api.available("HARD", "WH") == 10)
    }

    private func lineResults(_ reply: APIClient.Reply) -> [String] {
        (reply.json["lines"] as? [[String: Any]])?.compactMap { $0["result"] as? String } ?? []
    }

    /// Finding 7: a restock never gives back more units than its order line holds, nor do the
    /// line's restocks together; one that would is refused as a conflict, kept for a person in
    /// the conflicts list and counted, and moves nothing.
    @Test func refundsNeverGiveBackMoreThanTheSale() throws {
        let (service, api) = try service()
        #expect(lineResults(try shopify(api, "orders/create", Self.order(id: "\"R-1\"", quantity: "5"))) == ["applied"])
        #expect(try api.available("HARD", "WH") == 5)
        func refund(_ api: APIClient, _ id: Int, _ quantity: Int) throws -> [String] {
            lineResults(try shopify(api, "refunds/create", Array("""
                {"id":\(id),"order_id":"R-1","created_at":"2025-03-02T10:00:0\(id)Z","refund_line_items":[{"id":\(id),
                "line_item_id":1,"quantity":\(quantity),"restock_type":"return","line_item":{"id":1,"variant_id":"V1","quantity":5}}]}
                """.utf8)))
        }
        #expect(try refund(api, 1, 1_000_000) == ["conflict"])
        #expect(try api.available("HARD", "WH") == 5)
        #expect(try refund(api, 2, 3) == ["applied"])
        #expect(try api.available("HARD", "WH") == 8)
        // 3 more would make 6 of 5 given back.
        #expect(try refund(api, 3, 3) == ["conflict"])
        #expect(try refund(api, 4, 2) == ["applied"])
        #expect(try api.available("HARD", "WH") == 10)
        // A refund delivered again is a duplicate, not a refusal.
        #expect(try refund(api, 2, 3) == ["duplicate"])
        // The restocks given back so far still count after a restart.
        service.kill9()
        try service.start()
        let restarted = APIClient(baseURL: service.baseURL)
        #expect(try refund(restarted, 5, 1) == ["conflict"])
        #expect(try restarted.available("HARD", "WH") == 10)
        // Each refusal is kept for a person.
        let redis = try RedisConnection(configuration: try SharedRedis.configuration(prefix: service.prefix))
        #expect(try redis.command(["LLEN", "\(service.prefix):{c}:conflicts"]) == .integer(3))
        let metrics = String(decoding: try restarted.send("GET", "/metrics").raw.body, as: UTF8.self)
        #expect(metrics.contains(#"stockyard_events_total{channel="shopify",result="conflict"} 1"#), "\(metrics)")
    }

    // MARK: Redis

    /// Finding 3: a write that Redis never answers (here Redis is paused past the command
    /// timeout) is answered 503 `outcome_unknown`, not "nothing was stored"; afterwards memory and
    /// Redis agree, whichever way it went, and retrying is safe.
    @Test func aWriteRedisNeverAnsweredMayHaveBeenStored() throws {
        let redis = try RedisServer()
        let (service, api) = try service(redisURL: redis.url)
        let event = saleEvent(listing: "V1", order: "U-1", line: "1", quantity: 2, version: 1)
        kill(redis.processIdentifier, SIGSTOP)
        let unanswered: APIClient.Reply
        do {
            defer { kill(redis.processIdentifier, SIGCONT) }
            unanswered = try api.postEvents([event])
        }
        #expect(unanswered.status == 503)
        #expect(unanswered.errorCode == "outcome_unknown", "\(unanswered.json)")
        #expect(unanswered.raw.headers.contains { $0.name.lowercased() == "retry-after" })
        try service.waitUntilReady()
        let figure = try #require(try api.available("HARD", "WH"))
        #expect(figure == 8 || figure == 10)
        // The unanswered connection was ended on the server before the state was read back.
        let redisClient = try RedisConnection(configuration: redis.configuration(prefix: service.prefix))
        let stats = try redisClient.command(["INFO", "commandstats"]).text ?? ""
        #expect(stats.contains("cmdstat_client|kill:calls=1,"), "\(stats)")
        // What memory shows is what Redis holds: a start from Redis alone shows the same.
        service.kill9()
        try service.start()
        let restarted = APIClient(baseURL: service.baseURL)
        #expect(try restarted.available("HARD", "WH") == figure)
        // Retrying is safe: the line holds its 2 units once, whichever way the first try went.
        let retried = try restarted.postEvents([event])
        #expect(retried.results == [figure == 8 ? "duplicate" : "applied"])
        #expect(try restarted.available("HARD", "WH") == 8)
    }

    // MARK: Zoho

    /// Finding 9: a Zoho correction whose ids or figures cannot be taken is refused naming the
    /// body's own field, and kept as a dead letter like any other body that does not read.
    @Test func zohoCorrectionsThatCannotBeTakenAreDeadLettered() throws {
        let secret = "hardening-zoho-secret-0123"
        let (_, api) = try service(["STOCKYARD_ZOHO_WEBHOOK_SECRET": secret])
        func post(_ item: String, _ location: String = "WH", _ onHand: String = "\"5\"") throws -> APIClient.Reply {
            let body = Array(#"{"item":{"item_id":"\#(item)","locations":[{"location_id":"\#(location)","location_stock_on_hand":\#(onHand)}]}}"#.utf8)
            return try APIClient(baseURL: api.baseURL, token: nil).send("POST", "/webhooks/zoho", body: body, headers: [
                ("Content-Type", "application/json"),
                ("X-Stockyard-Signature", WebhookSignature.hexHeader(for: body, secret: WebhookSecret(secret))),
            ])
        }
        for (reply, field) in [
            (try post("A\\u0000B"), "item.item_id"),
            (try post(String(repeating: "x", count: 1_000_000)), "item.item_id"),
            (try post("HARD", "W\\u0007H"), "item.locations[0].location_id"),
            (try post("HARD", "WH", "\"9.99999999999999999999\""), "item.locations[0].location_stock_on_hand"),
        ] {
            #expect(reply.status == 400, "\(field): \(reply.json)")
            #expect(reply.errorField == field)
            #expect(((reply.json["error"] as? [String: Any])?["message"] as? String)?.contains("dead letter") == true)
        }
        #expect(try api.send("GET", "/v1/dead-letters").json["total"] as? Int == 4)
        let locations = try api.send("GET", "/v1/stock/HARD").json["locations"] as? [[String: Any]]
        #expect(locations?.first?["zoho_on_hand"] as? Int == 10)
        // A correction that reads is taken, as before.
        #expect(try post("HARD").status == 200)
    }

    /// Finding 8: an absolute Zoho correction no newer (by its record's `last_modified_time`)
    /// than the last applied to a row is not applied: an old body replayed cannot set the row
    /// back, before a restart or after.
    @Test func oldZohoCorrectionsCannotSetARowBack() throws {
        let secret = "hardening-zoho-secret-0123"
        let (service, api) = try service(["STOCKYARD_ZOHO_WEBHOOK_SECRET": secret])
        func post(_ api: APIClient, onHand: Int, modified: String) throws -> APIClient.Reply {
            let body = Array(#"{"item":{"item_id":"HARD","last_modified_time":"\#(modified)","locations":[{"location_id":"WH","location_stock_on_hand":"\#(onHand)"}]}}"#.utf8)
            return try APIClient(baseURL: api.baseURL, token: nil).send("POST", "/webhooks/zoho", body: body, headers: [
                ("Content-Type", "application/json"),
                ("X-Stockyard-Signature", WebhookSignature.hexHeader(for: body, secret: WebhookSecret(secret))),
            ])
        }
        func onHand(_ api: APIClient) throws -> Int? {
            (try api.send("GET", "/v1/stock/HARD").json["locations"] as? [[String: Any]])?.first?["zoho_on_hand"] as? Int
        }
        #expect(try post(api, onHand: 109, modified: "2025-03-01T10:00:00+0530").json["correction"] as? String == "stock")
        #expect(try post(api, onHand: 115, modified: "2025-03-01T11:00:00+0530").json["correction"] as? String == "stock")
        #expect(try onHand(api) == 115)
        // The older body replayed, and the newer one again: neither is applied.
        let replayed = try post(api, onHand: 109, modified: "2025-03-01T10:00:00+0530")
        #expect(replayed.status == 200)
        #expect(replayed.json["correction"] as? String == "stale")
        #expect(try post(api, onHand: 112, modified: "2025-03-01T11:00:00+0530").json["correction"] as? String == "stale")
        #expect(try onHand(api) == 115)
        // What was applied last is remembered in Redis.
        service.kill9()
        try service.start()
        let restarted = APIClient(baseURL: service.baseURL)
        #expect(try post(restarted, onHand: 109, modified: "2025-03-01T10:00:00+0530").json["correction"] as? String == "stale")
        #expect(try onHand(restarted) == 115)
        #expect(try post(restarted, onHand: 120, modified: "2025-03-01T05:31:00Z").json["correction"] as? String == "stock")
        #expect(try onHand(restarted) == 120)
    }

    // MARK: Settings

    /// Finding 12: every token and secret the service checks has the admin token's minimum.
    @Test(arguments: [
        "STOCKYARD_INGEST_TOKEN", "STOCKYARD_READ_TOKEN", "STOCKYARD_SHOPIFY_SECRET", "STOCKYARD_AMAZON_BRIDGE_SECRET",
        "STOCKYARD_ZOHO_WEBHOOK_SECRET",
    ])
    func shortSecretsStopTheServiceNamingTheSetting(_ setting: String) throws {
        let (status, output) = try ConfigurationTests.start([setting: "a"])
        #expect(status == 78)
        #expect(output.contains(setting), "\(output)")
        #expect(output.contains("16"))
    }

    // MARK: eBay key ids

    /// Finding 10: a key id with characters eBay's ids do not use is refused before any call.
    @Test func ebayKeyIDsAreCheckedBeforeAnyFetch() throws {
        let ebay = try LoopbackRecorder()
        let service = try ServiceProcess(redisURL: SharedRedis.url, environment: [
            "STOCKYARD_EBAY_API_URL": "http://127.0.0.1:\(ebay.port)", "STOCKYARD_EBAY_CLIENT_ID": "hardening-client",
            "STOCKYARD_EBAY_CLIENT_SECRET": "hardening-client-secret-0123",
        ])
        let api = APIClient(baseURL: service.baseURL, token: nil)
        let body = Array(#"{"metadata":{"topic":"ORDER_CONFIRMATION"},"notification":{"notificationId":"n-1","data":{"orderId":"1"}}}"#.utf8)
        let before = ebay.requests.count
        for kid in ["..", "../../identity", "a/b", String(repeating: "a", count: 300)] {
            let header = try EbaySignature.header(for: body, key: P256.Signing.PrivateKey(), keyID: kid)
            let reply = try api.send("POST", "/webhooks/ebay", body: body, headers: [("X-EBAY-SIGNATURE", header)])
            #expect(reply.status == 412, "\(kid): \(reply.json)")
            #expect(reply.errorField == "X-EBAY-SIGNATURE")
        }
        #expect(ebay.requests.count == before, "\(ebay.requests)")
    }

    // MARK: Logs

    /// Finding 11: what an unauthenticated caller puts in a header is logged short, and once.
    @Test func unauthenticatedHeaderValuesAreLoggedShort() throws {
        let (service, api) = try service()
        let shop = String(repeating: "s", count: 30_000) + ".myshopify.com"
        let reply = try APIClient(baseURL: api.baseURL, token: nil).send("POST", "/webhooks/shopify", body: Self.order(id: "1"), headers: [
            ("X-Shopify-Topic", "orders/create"), ("X-Shopify-Shop-Domain", shop), ("X-Shopify-Hmac-Sha256", "bm90IGl0"),
        ])
        #expect(reply.status == 401)
        try waitUntil("the refusal to be logged") { service.logText.contains("webhook signature rejected") }
        let lines = service.logText.split(separator: "\n")
        let refusal = try #require(lines.first { $0.contains("webhook signature rejected") })
        #expect(refusal.utf8.count < 1_000, "a log line of \(refusal.utf8.count) bytes")
        #expect(lines.allSatisfy { $0.utf8.count < 4_000 })
    }

    // MARK: Framing

    /// Finding 2: broken framing on the open webhook routes is a 400 (or a closed connection),
    /// never a 500, and is logged at warning level at most.
    @Test func malformedFramingIsABadRequest() throws {
        let (service, _) = try service()
        let head = "POST /webhooks/shopify HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
        for request in [
            head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
            head + "Transfer-Encoding: chunked\r\n\r\n-5\r\n{}\r\n0\r\n\r\n",
        ] {
            let connection = try RawConnection(port: service.port)
            try connection.send(request)
            let answer = connection.readUntilClosed(timeout: 10)
            #expect(answer.closed)
            #expect(answer.text.isEmpty || answer.text.hasPrefix("HTTP/1.1 400"), "\(answer.text)")
        }
        // A body shorter than its Content-Length, the connection half-closed.
        let short = try RawConnection(port: service.port)
        try short.send(head + "Content-Length: 100\r\n\r\n{\"id\":1}")
        short.shutdownWrite()
        let answer = short.readUntilClosed(timeout: 10)
        #expect(answer.closed)
        #expect(answer.text.isEmpty || answer.text.hasPrefix("HTTP/1.1 400"), "\(answer.text)")
        // The service is fine, and said nothing above a warning.
        #expect(try APIClient(baseURL: service.baseURL).send("GET", "/healthz").status == 200)
        #expect(!service.logText.contains("\"level\":\"error\""), "\(service.logText)")
        #expect(!service.logText.contains("\"level\":\"critical\""))
    }

    // MARK: Connections

    /// Finding 1: a request that arrives too slowly and a connection left idle are closed, and
    /// no more than the configured number of connections are held open. Bounded in time: the
    /// service is given timeouts of a second or two, and each wait here gives up after a few.
    @Test func slowIdleAndSurplusConnectionsAreClosed() throws {
        let (service, _) = try service([
            "STOCKYARD_HTTP_IDLE_TIMEOUT": "1", "STOCKYARD_HTTP_REQUEST_TIMEOUT": "2", "STOCKYARD_MAX_CONNECTIONS": "6",
        ])
        // Headers a byte at a time: closed once the idle time passes without a whole head.
        let slowHead = try RawConnection(port: service.port)
        try slowHead.send("POST /webhooks/shopify HTTP/1.1\r\n")
        #expect(slowHead.trickle("X-Slow: " + String(repeating: "a", count: 40), every: 0.25, closedWithin: 6))
        // A body a byte at a time: each byte keeps the connection busy, but the whole request
        // must arrive within its time.
        let slowBody = try RawConnection(port: service.port)
        try slowBody.send("POST /webhooks/shopify HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
        #expect(slowBody.trickle(String(repeating: " ", count: 40), every: 0.25, closedWithin: 8))
        // A keep-alive connection with nothing more to ask is closed after the idle time.
        let idle = try RawConnection(port: service.port)
        try idle.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(idle.readResponse(timeout: 5)?.hasPrefix("HTTP/1.1 200") == true)
        #expect(idle.readUntilClosed(timeout: 5).closed)
    }

    @Test func connectionsBeyondTheLimitAreClosed() throws {
        let (service, _) = try service(["STOCKYARD_HTTP_IDLE_TIMEOUT": "60", "STOCKYARD_MAX_CONNECTIONS": "6"])
        var held: [RawConnection] = []
        for _ in 0..<6 {
            let connection = try RawConnection(port: service.port)
            try connection.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(connection.readResponse(timeout: 5)?.hasPrefix("HTTP/1.1 200") == true)
            held.append(connection)
        }
        let surplus = try RawConnection(port: service.port)
        try surplus.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        let refused = surplus.readUntilClosed(timeout: 5)
        #expect(refused.closed)
        #expect(!refused.text.contains("200 OK"), "\(refused.text)")
        // The held ones still work, and a place freed is taken again.
        try held[0].send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(held[0].readResponse(timeout: 5)?.hasPrefix("HTTP/1.1 200") == true)
        held.removeLast()
        try waitUntil("a freed place to be taken", timeout: 10) {
            let connection = try RawConnection(port: service.port)
            try connection.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
            return connection.readResponse(timeout: 2)?.hasPrefix("HTTP/1.1 200") == true
        }
    }

    // MARK: Protocol

    /// Finding 13: HTTP/1.0 without keep-alive is closed after its answer; a transfer coding the
    /// service cannot undo is refused; a repeated topic header is refused; a byte order mark is
    /// refused on every JSON route alike. (An empty stock list stays refused, as every empty list
    /// is; the API description now says so.)
    @Test func protocolPointsAreKept() throws {
        let (service, api) = try service()
        let old = try RawConnection(port: service.port)
        try old.send("GET /healthz HTTP/1.0\r\n\r\n")
        let answer = old.readUntilClosed(timeout: 5)
        #expect(answer.closed)
        #expect(answer.text.contains(" 200 "), "\(answer.text)")

        let events = #"{"events":[{"channel":"shopify","listing_id":"V1","order_id":"TE-1","line_id":"1","quantity":1,"version":1}]}"#
        let gzip = try RawConnection(port: service.port)
        try gzip.send(
            "POST /v1/events HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(ServiceProcess.adminToken)\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                + String(events.utf8.count, radix: 16) + "\r\n" + events + "\r\n0\r\n\r\n")
        let coded = gzip.readResponse(timeout: 5) ?? ""
        #expect(coded.hasPrefix("HTTP/1.1 501") || coded.hasPrefix("HTTP/1.1 400"), "\(coded)")
        #expect(try api.available("HARD", "WH") == 10)

        let topics = try shopify(api, "orders/create", Self.order(id: "\"TOPIC-1\""), headers: [("X-Shopify-Topic", "orders/create")])
        #expect(topics.status == 400, "\(topics.json)")
        #expect(topics.errorField == "X-Shopify-Topic")
        #expect(try api.available("HARD", "WH") == 10)

        let bom = try api.send("POST", "/v1/events", body: [0xEF, 0xBB, 0xBF] + Array(events.utf8))
        #expect(bom.status == 400)
        #expect(bom.errorCode == "invalid_json")
        #expect(try shopify(api, "orders/create", [0xEF, 0xBB, 0xBF] + Self.order(id: "\"BOM-1\"")).status == 400)
        #expect(try api.available("HARD", "WH") == 10)
    }
}

/// A plain TCP connection to a service on loopback, for requests a client library will not send
/// as they are: broken framing, a byte at a time, HTTP/1.0.
final class RawConnection {
    private let fd: Int32

    init(port: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw TestFailure("cannot connect to 127.0.0.1:\(port): errno \(errno)")
        }
    }

    deinit { close(fd) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw TestFailure("send failed: errno \(errno)") }
            offset += written
        }
    }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Waits up to `timeout` seconds for bytes; nil when none came, an empty array when the peer
    /// closed.
    private func receive(timeout: Double) -> [UInt8]? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(max(0, timeout) * 1000)) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count <= 0 ? [] : Array(buffer[0..<count])
    }

    /// Everything the peer sends until it closes the connection or `timeout` seconds pass.
    func readUntilClosed(timeout: Double) -> (text: String, closed: Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        var bytes: [UInt8] = []
        while Date() < deadline {
            guard let chunk = receive(timeout: deadline.timeIntervalSinceNow) else { break }
            if chunk.isEmpty { return (String(decoding: bytes, as: UTF8.self), true) }
            bytes += chunk
        }
        return (String(decoding: bytes, as: UTF8.self), false)
    }

    /// One response (head and a `Content-Length` body), or nil if none came in time.
    func readResponse(timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        var bytes: [UInt8] = []
        while Date() < deadline {
            let text = String(decoding: bytes, as: UTF8.self)
            if let end = text.range(of: "\r\n\r\n") {
                let head = text[..<end.lowerBound].lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if text.utf8.count - text[..<end.upperBound].utf8.count >= length { return text }
            }
            guard let chunk = receive(timeout: deadline.timeIntervalSinceNow), !chunk.isEmpty else { return nil }
            bytes += chunk
        }
        return nil
    }

    /// Sends `text` a byte every `every` seconds; true once the peer closes, within
    /// `closedWithin` seconds of the first byte, false if it is still open by then.
    func trickle(_ text: String, every interval: Double, closedWithin limit: Double) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        for byte in text.utf8 {
            // The wait between bytes is the attack itself, not a wait for the service.
            if let chunk = receive(timeout: min(interval, deadline.timeIntervalSinceNow)), chunk.isEmpty { return true }
            guard Date() < deadline else { return false }
            let written = withUnsafeBytes(of: byte) { Glibc.send(fd, $0.baseAddress, 1, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return true }
        }
        return readUntilClosed(timeout: deadline.timeIntervalSinceNow).closed
    }
}

/// A stand-in for a channel's API on loopback that records the request line of every request it
/// gets and answers each one 503, so that a test can tell whether the service called out.
final class LoopbackRecorder: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    private let log = RequestLog()

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 16) == 0 else { throw TestFailure("cannot listen on loopback: errno \(errno)") }
        port = Int(UInt16(bigEndian: address.sin_port))
        let listener = fd
        let log = self.log
        Thread {
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                var buffer = [UInt8](repeating: 0, count: 16_384)
                let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                if count > 0, let line = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\r\n").first {
                    log.append(String(line))
                }
                let answer = Array("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
                _ = answer.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                close(client)
            }
        }.start()
    }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    var requests: [String] { log.lines }

    private final class RequestLog: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [String] = []
        func append(_ line: String) { lock.withLock { stored.append(line) } }
        var lines: [String] { lock.withLock { stored } }
    }
}
