import Foundation
import StockyardChannels
import StockyardDevServers
import StockyardOutbound
import Testing

/// The eBay and Etsy sandbox over loopback HTTP: both vendors' token grants, look-ups and their
/// refusals, signed notifications that verify as real ones do, limits, and injected faults.
@Suite struct MarketplaceSandboxTests {
    // MARK: Helpers

    private func ebayToken(_ server: MarketplaceSandboxServer, user: Bool) throws -> String {
        let fields = user ? [("grant_type", "refresh_token"), ("refresh_token", server.ebayRefreshToken)]
            : [("grant_type", "client_credentials"), ("scope", "https://api.ebay.com/oauth/api_scope")]
        let reply = try server.control.postForm(
            "/identity/v1/oauth2/token", fields, headers: [("Authorization", server.ebayBasicAuthorization)])
        guard reply.status == 200, let token = reply.json["access_token"] as? String else {
            throw TestFailure("no eBay token (HTTP \(reply.status)): \(reply.raw.text)")
        }
        return token
    }

    private func etsyRefresh(_ server: MarketplaceSandboxServer, _ refreshToken: String) throws -> APIClient.Reply {
        try server.control.postForm(
            "/v3/public/oauth/token",
            [("grant_type", "refresh_token"), ("client_id", server.etsyKeystring), ("refresh_token", refreshToken)])
    }

    private func etsyToken(_ server: MarketplaceSandboxServer) throws -> String {
        let reply = try etsyRefresh(server, server.etsyRefreshToken)
        guard reply.status == 200, let token = reply.json["access_token"] as? String else {
            throw TestFailure("no Etsy token (HTTP \(reply.status)): \(reply.raw.text)")
        }
        return token
    }

    private func getOrder(_ server: MarketplaceSandboxServer, _ id: String, token: String?) throws -> APIClient.Reply {
        try server.control.send("GET", "/sell/fulfillment/v1/order/\(id)", headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [])
    }

    private func getPublicKey(_ server: MarketplaceSandboxServer, _ kid: String, token: String?) throws -> APIClient.Reply {
        try server.control.send(
            "GET", "/commerce/notification/v1/public_key/\(kid)", headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [])
    }

    private func getReceipt(
        _ server: MarketplaceSandboxServer, shop: Int, receipt: Int, apiKey: String?, token: String?
    ) throws -> APIClient.Reply {
        var headers: [(String, String)] = []
        if let apiKey { headers.append(("x-api-key", apiKey)) }
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        return try server.control.send("GET", "/v3/application/shops/\(shop)/receipts/\(receipt)", headers: headers)
    }

    /// The first eBay error of an `{"errors":[…]}` answer.
    private func ebayError(_ reply: APIClient.Reply) -> [String: Any] {
        (reply.json["errors"] as? [[String: Any]])?.first ?? [:]
    }

    // MARK: eBay

    @Test func ebayGrantsIssueApplicationAndUserTokensAndRefuseWrongCredentials() async throws {
        let server = try await MarketplaceSandboxServer()
        defer { server.stop() }
        try await offPool {
            let client = server.control
            let basic = [("Authorization", server.ebayBasicAuthorization)]
            let application = try client.postForm(
                "/identity/v1/oauth2/token", [("grant_type", "client_credentials"), ("scope", "https://api.ebay.com/oauth/api_scope")],
                headers: basic)
            #expect(application.status == 200)
            #expect(application.raw.header("Content-Type") == "application/json")
            #expect((application.json["access_token"] as? String)?.hasPrefix("v^1.1#i^1#app-") == true)
            #expect(application.json["expires_in"] as? Int == 7200)
            #expect(application.json["token_type"] as? String == "Application Access Token")

            let user = try client.postForm(
                "/identity/v1/oauth2/token", [("grant_type", "refresh_token"), ("refresh_token", server.ebayRefreshToken)], headers: basic)
            #expect(user.status == 200)
            #expect((user.json["access_token"] as? String)?.hasPrefix("v^1.1#i^1#user-") == true)
            #expect(user.json["token_type"] as? String == "User Access Token")

            let wrongSecret = "Basic " + Data("\(server.ebayClientID):not-the-secret".utf8).base64EncodedString()
            let wrongClient = try client.postForm(
                "/identity/v1/oauth2/token", [("grant_type", "client_credentials")], headers: [("Authorization", wrongSecret)])
            #expect(wrongClient.status == 401)
            #expect(wrongClient.json["error"] as? String == "invalid_client")
            #expect(wrongClient.json["error_description"] as? String == "client authentication failed")

            let wrongRefresh = try client.postForm(
                "/identity/v1/oauth2/token", [("grant_type", "refresh_token"), ("refresh_token", "v^1.1#i^1#r^1#revoked")], headers: basic)
            #expect(wrongRefresh.status == 400)
            #expect(wrongRefresh.json["error"] as? String == "invalid_grant")

            let otherGrant = try client.postForm("/identity/v1/oauth2/token", [("grant_type", "password")], headers: basic)
            #expect(otherGrant.status == 400)
            #expect(otherGrant.json["error"] as? String == "unsupported_grant_type")

            #expect(try server.stats()["ebay"].flatMap { ($0 as? [String: Any])?["token_requests"] as? Int } == 5)
        }
    }

    @Test func ebayPublicKeyNeedsATokenAndAKnownKeyID() async throws {
        let server = try await MarketplaceSandboxServer()
        defer { server.stop() }
        try await offPool { [self] in
            let pinned = try server.publicKeys()
            #expect(Array(pinned.keys) == [server.ebayKeyID])

            let anonymous = try getPublicKey(server, server.ebayKeyID, token: nil)
            #expect(anonymous.status == 401)
            #expect(ebayError(anonymous)["errorId"] as? Int == 1001)
            #expect(ebayError(anonymous)["message"] as? String == "Invalid access token")
            #expect(try getPublicKey(server, server.ebayKeyID, token: "v^1.1#i^1#app-forged").status == 401)

            let token = try ebayToken(server, user: false)
            let found = try getPublicKey(server, server.ebayKeyID, token: token)
            #expect(found.status == 200)
            #expect(found.json["algorithm"] as? String == "ECDSA")
            #expect(found.json["digest"] as? String == "SHA1")
            let pem = try #require(found.json["key"] as? String)
            #expect(pem.hasPrefix("-----BEGIN PUBLIC KEY-----\n") && pem.hasSuffix("\n-----END PUBLIC KEY-----"))
            #expect(pem == pinned[server.ebayKeyID])
            #expect(EbaySignature.isPublicKey(pem))

            let unknown = try getPublicKey(server, "no-such-key", token: token)
            #expect(unknown.status == 404)
            #expect(ebayError(unknown)["errorId"] as? Int == 195_001)
            #expect(ebayError(unknown)["domain"] as? String == "API_NOTIFICATION")
        }
    }

    @Test func ebayOrderIsAnsweredAsStoredToAUserTokenOnly() async throws {
        let server = try await MarketplaceSandboxServer()
        defer { server.stop() }
        try await offPool { [self] in
            // Spacing and key order of its own: the look-up gives these bytes back unchanged.
            let stored = #"{ "orderId" : "12-34567-89012", "orderFulfillmentStatus":"NOT_STARTED","lineItems":[{"sku":"BAG-S","quantity":2}] }"#
            let put = try server.control.send("POST", "/sandbox/ebay/orders", body: Array(stored.utf8))
            #expect(put.status == 200)

            let user = try ebayToken(server, user: true)
            let found = try getOrder(server, "12-34567-89012", token: user)
            #expect(found.status == 200)
            #expect(found.raw.header("Content-Type") == "application/json")
            #expect(found.raw.text == stored)

            let application = try ebayToken(server, user: false)
            let denied = try getOrder(server, "12-34567-89012", token: application)
            #expect(denied.status == 403)
            #expect(ebayError(denied)["errorId"] as? Int == 1100)
            #expect(ebayError(denied)["longMessage"] as? String == "Insufficient permissions to fulfill the request.")

            let anonymous = try getOrder(server, "12-34567-89012", token: nil)
            #expect(anonymous.status == 401)
            #expect(ebayError(anonymous)["errorId"] as? Int == 1001)

            let unknown = try getOrder(server, "99-99999-99999", token: user)
            #expect(unknown.status == 404)
            #expect(ebayError(unknown)["errorId"] as? Int == 32_100)
            #expect(ebayError(unknown)["message"] as? String == "Invalid Order Id")

            let stats = try #require(try server.stats()["ebay"] as? [String: Any])
            #expect(stats["order_calls"] as? Int == 4)
            #expect(stats["unauthorized"] as? Int == 2)
        }
    }

    @Test func ebayNotificationVerifiesWithTheFetchedPublicKey() async throws {
        let server = try await MarketplaceSandboxServer()
        defer { server.stop() }
        try await offPool { [self] in
            let (headers, body) = try server.storeEbayOrder(["orderId": "27-00001-00001", "lineItems": [] as [Any]])
            #expect(headers["Content-Type"] == "application/json")
            let signature = try EbaySignature(header: headers["X-EBAY-SIGNATURE"])
            #expect(signature.keyID == server.ebayKeyID)

            let fetched = try getPublicKey(server, signature.keyID, token: try ebayToken(server, user: false))
            let pem = try #require(fetched.json["key"] as? String)
            try body.withUnsafeBytes { try signature.verify(body: $0, publicKey: pem) }
            var tampered = body
            tampered[tampered.count - 3] ^= 1
            #expect(throws: EbaySignature.Failure.mismatch) { try tampered.withUnsafeBytes { try signature.verify(body: $0, publicKey: pem) } }

            let notification = try body.withUnsafeBytes { try EbayNotification.read(body: $0) }
            #expect(notification.topic == "ORDER_CONFIRMATION")
            #expect(notification.kind == .order(orderID: "27-00001-00001"))
            #expect(notification.eventDate?.hasSuffix("Z") == true)

            let cancelled = try server.storeEbayOrder(["orderId": "27-00001-00001"], topic: "ORDER_CANCELLATION")
            #expect(try cancelled.body.withUnsafeBytes { try EbayNotification.read(body: $0) }.topic == "ORDER_CANCELLATION")
        }
    }

    @Test func ebayOrdersStoredInABatchAreEachNotifiedAndFound() async throws {
        let server = try await MarketplaceSandboxServer()
        defer { server.stop() }
        try await offPool { [self] in
            let orders = (1...200).map { ["orderId": "31-\($0)", "lineItems": [["sku": "S\($0)", "quantity": 1]]] as [String: Any] }
            let notifications = try server.storeEbayOrders(orders)
            #expect(notifications.count == 200)
            let pem = try #require(try server.publicKeys()[server.ebayKeyID])
            for (index, notification) in notifications.enumerated() {
                let read = try notification.body.withUnsafeBytes { try EbayNotification.read(body: $0) }
                #expect(read.kind == .order(orderID: "31-\(index + 1)"))
                let signature = try EbaySignature(header: notification.headers["X-EBAY-SIGNATURE"])
                try notification.body.withUnsafeBytes { try signature.verify(body: $0, publicKey: pem) }
            }
            let user = try ebayToken(server, user: true)
            let last = try getOrder(server, "31-200", token: user)
            #expect(last.status == 200)
            #expect((last.json["lineItems"] as? [[String: Any]])?.first?["sku"] as? String == "S200")

            let missing = try server.control.send("POST", "/sandbox/ebay/orders", json: [["orderId": "31-1"], ["order_id": "31-2"]])
            #expect(missing.status == 400)
            #expect((missing.json["error"] as? String)?.contains("[1].orderId") == true)
        }
    }

    @Test func ebayCallsBeyondTheLimitPerSecondAreRefused() async throws {
        let server = try await MarketplaceSandboxServer(MarketplaceSandboxServer.testConfiguration(ebayCallsPerSecond: 3))
        defer { server.stop() }
        try await offPool { [self] in
            let token = try ebayToken(server, user: false)
            // Loopback calls take about a millisecond: 20 of them cannot all fall in separate seconds' windows of 3.
            let replies = try (0..<20).map { _ in try getPublicKey(server, server.ebayKeyID, token: token) }
            let refused = try #require(replies.first { $0.status == 429 })
            #expect(refused.raw.header("Retry-After") == "1")
            #expect(ebayError(refused)["errorId"] as? Int == 2001)
            #expect(replies.allSatisfy { $0.status == 200 || $0.status == 429 })
            let stats = try #require(try server.stats()["ebay"] as? [String: Any])
            #expect(stats["rate_limited"] as? Int == replies.filter { $0.status == 429 }.count)
            #expect(stats["public_key_calls"] as? Int == 20)
        }
    }

    // MARK: Etsy

    @Test func etsyRefreshRotatesTheRefreshTokenAndRefusesWrongCredentials() async throws {
        let server = try await MarketplaceSandboxServer()
        defer { server.stop() }
        try await offPool { [self] in
            let first = try etsyRefresh(server, server.etsyRefreshToken)
            #expect(first.status == 200)
            #expect(first.json["token_type"] as? String == "Bearer")
            #expect(first.json["expires_in"] as? Int == 3600)
            let access = try #require(first.json["access_token"] as? String)
            let rotated = try #require(first.json["refresh_token"] as? String)
            #expect(access.hasPrefix("\(server.configuration.etsyUserID)."))
            #expect(rotated.hasPrefix("\(server.configuration.etsyUserID)."))
            #expect(rotated != server.etsyRefreshToken)

            let second = try etsyRefresh(server, rotated)
            #expect(second.status == 200)
            #expect(second.json["access_token"] as? String != access)

            let wrongClient = try server.control.postForm(
                "/v3/public/oauth/token",
                [("grant_type", "refresh_token"), ("client_id", "someoneelse"), ("refresh_token", server.etsyRefreshToken)])
            #expect(wrongClient.status == 401)
            #expect(wrongClient.json["error"] as? String == "invalid_client")

            let unknown = try etsyRefresh(server, "\(server.configuration.etsyUserID).never-issued")
            #expect(unknown.status == 400)
            #expect(unknown.json["error"] as? String == "invalid_grant")
        }
    }

    @Test func etsyReceiptNeedsTheKeyWithItsSharedSecretAndAToken() async throws {
        let server = try await MarketplaceSandboxServer()
        defer { server.stop() }
        try await offPool { [self] in
            let stored = #"{"receipt_id": 3141592653, "status": "Paid", "transactions": [{"sku": "MUG-1", "quantity": 1}]}"#
            #expect(try server.control.send("POST", "/sandbox/etsy/shops/42/receipts", body: Array(stored.utf8)).status == 200)
            let token = try etsyToken(server)

            let keystringOnly = try getReceipt(server, shop: 42, receipt: 3_141_592_653, apiKey: server.etsyKeystring, token: token)
            #expect(keystringOnly.status == 403)
            #expect(keystringOnly.json["error"] as? String == "Invalid API key")

            let anonymous = try getReceipt(server, shop: 42, receipt: 3_141_592_653, apiKey: server.etsyAPIKey, token: nil)
            #expect(anonymous.status == 401)
            #expect(anonymous.json["error"] as? String == "invalid_token")

            let found = try getReceipt(server, shop: 42, receipt: 3_141_592_653, apiKey: server.etsyAPIKey, token: token)
            #expect(found.status == 200)
            #expect(found.raw.text == stored)
            #expect(found.raw.header("Content-Type") == "application/json")
            #expect(found.raw.header("x-limit-per-second") == "10")
            #expect(found.raw.header("x-limit-per-day") == "10000")
            #expect(found.raw.header("x-remaining-today") == "9998")
            #expect(found.raw.header("x-remaining-this-second") != nil)

            let otherShop = try getReceipt(server, shop: 43, receipt: 3_141_592_653, apiKey: server.etsyAPIKey, token: token)
            #expect(otherShop.status == 404)
            #expect(otherShop.json["error"] as? String == "Receipt not found")

            let notWhole = try server.control.send("POST", "/sandbox/etsy/shops/42/receipts", json: ["receipt_id": "3141592653"])
            #expect(notWhole.status == 400)
            #expect((notWhole.json["error"] as? String)?.contains("receipt_id") == true)

            let stats = try #require(try server.stats()["etsy"] as? [String: Any])
            #expect(stats["receipt_calls"] as? Int == 4)
            #expect(stats["unauthorized"] as? Int == 2)
            #expect(stats["token_requests"] as? Int == 1)
        }
    }

    @Test func etsyNotificationVerifiesWithTheWebhookSecret() async throws {
        let server = try await MarketplaceSandboxServer()
        defer { server.stop() }
        try await offPool { [self] in
            let (headers, body) = try server.storeEtsyReceipt(shopID: 42, ["receipt_id": 54321, "transactions": [] as [Any]])
            #expect(headers["Content-Type"] == "application/json")
            let secret = try #require(StandardWebhookSecret(server.etsyWebhookSecret))
            let now = Int64(Date().timeIntervalSince1970)
            try body.withUnsafeBytes {
                try StandardWebhooks.verify(
                    id: headers["webhook-id"], timestamp: headers["webhook-timestamp"], signature: headers["webhook-signature"],
                    body: $0, secrets: [secret], now: now)
            }
            let other = try #require(StandardWebhookSecret("whsec_" + Data(repeating: 7, count: 32).base64EncodedString()))
            #expect(throws: StandardWebhooks.Failure.noSignatureMatches) {
                try body.withUnsafeBytes {
                    try StandardWebhooks.verify(
                        id: headers["webhook-id"], timestamp: headers["webhook-timestamp"], signature: headers["webhook-signature"],
                        body: $0, secrets: [other], now: now)
                }
            }

            let notification = try body.withUnsafeBytes { try EtsyNotification.read(body: $0) }
            #expect(notification.eventType == "order.paid")
            #expect(notification.shopID == "42")
            #expect(notification.receiptShopID == "42")
            #expect(notification.receiptID == "54321")

            // The receipt the notification names is there to look up.
            let found = try getReceipt(server, shop: 42, receipt: 54321, apiKey: server.etsyAPIKey, token: try etsyToken(server))
            #expect(found.status == 200)

            let batch = try server.storeEtsyReceipts(shopID: 7, [["receipt_id": 1], ["receipt_id": 2]], eventType: "order.shipped")
            #expect(try batch.map { try $0.body.withUnsafeBytes { try EtsyNotification.read(body: $0) }.receiptID } == ["1", "2"])
            #expect(try batch[1].body.withUnsafeBytes { try EtsyNotification.read(body: $0) }.eventType == "order.shipped")
        }
    }

    @Test func etsyCallsBeyondTheLimitsPerSecondAndPerDayAreRefused() async throws {
        let perSecond = try await MarketplaceSandboxServer(MarketplaceSandboxServer.testConfiguration(etsyCallsPerSecond: 2))
        defer { perSecond.stop() }
        let perDay = try await MarketplaceSandboxServer(
            MarketplaceSandboxServer.testConfiguration(etsyCallsPerSecond: 1000, etsyCallsPerDay: 3))
        defer { perDay.stop() }
        try await offPool { [self] in
            let token = try etsyToken(perSecond)
            let replies = try (0..<20).map { _ in try getReceipt(perSecond, shop: 1, receipt: 1, apiKey: perSecond.etsyAPIKey, token: token) }
            let refused = try #require(replies.first { $0.status == 429 })
            #expect(refused.json["error"] as? String == "Too many requests")
            #expect(refused.raw.header("retry-after") == "1")
            #expect(refused.raw.header("x-remaining-this-second") == "0")
            #expect(replies.allSatisfy { $0.status == 404 || $0.status == 429 })

            let dayToken = try etsyToken(perDay)
            let day = try (0..<4).map { _ in try getReceipt(perDay, shop: 1, receipt: 1, apiKey: perDay.etsyAPIKey, token: dayToken) }
            #expect(day.map(\.status) == [404, 404, 404, 429])
            #expect(day[2].raw.header("x-remaining-today") == "0")
            let wait = try #require(day[3].raw.header("retry-after").flatMap { Int($0) })
            let now = Date().timeIntervalSince1970
            let toMidnight = Int((now / 86_400).rounded(.down) + 1) * 86_400 - Int(now)
            #expect(wait >= 1 && wait <= 86_400)
            #expect(abs(wait - toMidnight) <= 2)
            #expect((try perDay.stats()["etsy"] as? [String: Any])?["rate_limited"] as? Int == 1)
        }
    }

    // MARK: Faults

    @Test func expiringTokensMakesLiveTokensStopWorking() async throws {
        let server = try await MarketplaceSandboxServer()
        defer { server.stop() }
        try await offPool { [self] in
            _ = try server.storeEbayOrder(["orderId": "5-5"])
            _ = try server.storeEtsyReceipt(shopID: 9, ["receipt_id": 5])
            let ebay = try ebayToken(server, user: true)
            let etsy = try etsyToken(server)
            #expect(try getOrder(server, "5-5", token: ebay).status == 200)
            #expect(try getReceipt(server, shop: 9, receipt: 5, apiKey: server.etsyAPIKey, token: etsy).status == 200)

            let answer = try server.control.send("PUT", "/sandbox/faults", json: ["expire_tokens": true])
            #expect(answer.status == 200)
            #expect(answer.json["tokens_expired"] as? Int == 2)

            let expired = try getOrder(server, "5-5", token: ebay)
            #expect(expired.status == 401)
            #expect(ebayError(expired)["errorId"] as? Int == 1001)
            #expect(try getReceipt(server, shop: 9, receipt: 5, apiKey: server.etsyAPIKey, token: etsy).status == 401)

            // One-shot: fresh tokens work.
            #expect(try getOrder(server, "5-5", token: try ebayToken(server, user: true)).status == 200)
            #expect(try getReceipt(server, shop: 9, receipt: 5, apiKey: server.etsyAPIKey, token: try etsyToken(server)).status == 200)
        }
    }

    @Test func faultsAnswerUnavailableAndServerErrorsInEachVendorsShape() async throws {
        let server = try await MarketplaceSandboxServer()
        defer { server.stop() }
        try await offPool { [self] in
            _ = try server.storeEbayOrder(["orderId": "8-8"])
            let ebay = try ebayToken(server, user: true)
            let etsy = try etsyToken(server)

            try server.setFaults(["unavailable": true])
            #expect(try getOrder(server, "8-8", token: ebay).status == 503)
            #expect(try getReceipt(server, shop: 1, receipt: 1, apiKey: server.etsyAPIKey, token: etsy).status == 503)
            #expect(try etsyRefresh(server, server.etsyRefreshToken).status == 503)

            // A partial body changes only what it names.
            let faults = try server.control.send("PUT", "/sandbox/faults", json: ["server_error_rate": 1])
            #expect(faults.json["unavailable"] as? Bool == true)
            try server.setFaults(["unavailable": false])
            let failed = try getOrder(server, "8-8", token: ebay)
            #expect(failed.status == 500)
            #expect(ebayError(failed)["category"] as? String == "APPLICATION")
            let etsyFailed = try getReceipt(server, shop: 1, receipt: 1, apiKey: server.etsyAPIKey, token: etsy)
            #expect(etsyFailed.status == 500)
            #expect(etsyFailed.json["error"] is String)
            // Refusals come before injected errors.
            #expect(try getOrder(server, "8-8", token: nil).status == 401)

            let cleared = try server.control.send("PUT", "/sandbox/faults", json: ["server_error_rate": 0, "latency_ms": 0])
            #expect(cleared.json["server_error_rate"] as? Double == 0)
            #expect(try getOrder(server, "8-8", token: ebay).status == 200)

            let wrong = try server.control.send("PUT", "/sandbox/faults", json: ["server_error_rate": 2])
            #expect(wrong.status == 400)
            #expect((wrong.json["error"] as? String)?.contains("server_error_rate") == true)
        }
    }
}
