import Crypto
import Foundation
import StockyardChannels
import StockyardOutbound
import Testing

/// eBay and Etsy notifications over real HTTP: authentication, and look-up jobs stored durably
/// before the answer, once per delivery.
@Suite struct LookupWebhookTests {
    static let etsySecret = "whsec_c3RvY2t5YXJkLWV0c3ktdGVzdC1zZWNyZXQtMDAx"
    static let ebayToken = "stockyard_ebay_verification_token_0001"
    static let ebayURL = "https://stock.example.com/webhooks/ebay"

    private func service(_ key: P256.Signing.PrivateKey, prefix: String = "lookups-\(UUID().uuidString.prefix(8))") throws -> (ServiceProcess, String) {
        let keys = FileManager.default.temporaryDirectory.appendingPathComponent("ebay-keys-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: ["kid-1": key.publicKey.pemRepresentation]).write(to: keys)
        let service = try ServiceProcess(
            redisURL: SharedRedis.url, prefix: prefix,
            environment: [
                "STOCKYARD_ETSY_WEBHOOK_SECRET": Self.etsySecret, "STOCKYARD_EBAY_VERIFICATION_TOKEN": Self.ebayToken,
                "STOCKYARD_EBAY_ENDPOINT_URL": Self.ebayURL, "STOCKYARD_EBAY_PUBLIC_KEYS": keys.path,
            ])
        return (service, keys.path)
    }

    private func backlog(_ api: APIClient) throws -> Int? {
        (try api.send("GET", "/readyz").json["lookups"] as? [String: Any])?["backlog"] as? Int
    }

    @Test func ebayChallengeAndSignedNotifications() async throws {
        try await offPool {
            let key = P256.Signing.PrivateKey()
            let (service, _) = try service(key)
            let api = APIClient(baseURL: service.baseURL, token: nil)

            let challenge = try api.send("GET", "/webhooks/ebay?challenge_code=abc123")
            #expect(challenge.status == 200)
            #expect(
                challenge.json["challengeResponse"] as? String
                    == EbaySignature.challengeResponse(challengeCode: "abc123", verificationToken: Self.ebayToken, endpointURL: Self.ebayURL))

            let body = fixtureText("ebay/notification_envelope.sample.json").replacingOccurrences(of: "MARKETPLACE_ACCOUNT_DELETION", with: "ORDER_CONFIRMATION")
                .replacingOccurrences(of: #""username": "test_user""#, with: #""orderId": "12-34567-89012""#)
            let bytes = Array(body.utf8)
            let header = try EbaySignature.header(for: bytes, key: key, keyID: "kid-1")
            let reply = try api.send("POST", "/webhooks/ebay", body: bytes, headers: [("X-EBAY-SIGNATURE", header), ("Content-Type", "application/json")])
            #expect(reply.status == 200, "\(reply.json)")
            #expect(reply.json["lookup"] as? String == "queued")
            #expect(try backlog(api) == 1)
            // Delivered again: nothing more is stored.
            let again = try api.send("POST", "/webhooks/ebay", body: bytes, headers: [("X-EBAY-SIGNATURE", header), ("Content-Type", "application/json")])
            #expect(again.json["lookup"] as? String == "duplicate")

            // A body that does not match: 412, as eBay's SDKs answer. An unknown key: 503, so eBay retries.
            let tampered = Array(body.replacingOccurrences(of: "89012", with: "89013").utf8)
            #expect(try api.send("POST", "/webhooks/ebay", body: tampered, headers: [("X-EBAY-SIGNATURE", header)]).status == 412)
            let stranger = try EbaySignature.header(for: bytes, key: P256.Signing.PrivateKey(), keyID: "kid-2")
            let unknown = try api.send("POST", "/webhooks/ebay", body: bytes, headers: [("X-EBAY-SIGNATURE", stranger)])
            #expect(unknown.status == 503)
            #expect(unknown.raw.headers.contains { $0.name.lowercased() == "retry-after" })
            #expect(try api.send("POST", "/webhooks/ebay", body: bytes).status == 412)

            // Account deletion: acknowledged, nothing stored.
            let deletion = Array(fixtureText("ebay/notification_envelope.sample.json").utf8)
            let deletionReply = try api.send(
                "POST", "/webhooks/ebay", body: deletion, headers: [("X-EBAY-SIGNATURE", try EbaySignature.header(for: deletion, key: key, keyID: "kid-1"))])
            #expect(deletionReply.json["notification"] as? String == "account_deletion")
            #expect(try backlog(api) == 1)

            // The job survives a crash.
            service.kill9()
            try service.start()
            #expect(try backlog(APIClient(baseURL: service.baseURL, token: nil)) == 1)
        }
    }

    @Test func etsyStandardWebhooks() async throws {
        try await offPool {
            let (service, _) = try service(P256.Signing.PrivateKey())
            let api = APIClient(baseURL: service.baseURL, token: nil)
            let body = Array(fixtureText("etsy/order_paid.observed.json").utf8)
            let secret = StandardWebhookSecret(Self.etsySecret)!
            func headers(id: String = "evt_1", at time: Int64 = Int64(Date().timeIntervalSince1970), secret: StandardWebhookSecret = secret) -> [(String, String)] {
                [
                    ("webhook-id", id), ("webhook-timestamp", String(time)),
                    ("webhook-signature", StandardWebhooks.sign(id: id, timestamp: time, body: body, secret: secret)),
                ]
            }
            let reply = try api.send("POST", "/webhooks/etsy", body: body, headers: headers())
            #expect(reply.status == 200, "\(reply.json)")
            #expect(reply.json["lookup"] as? String == "queued")
            #expect(try api.send("POST", "/webhooks/etsy", body: body, headers: headers()).json["lookup"] as? String == "duplicate")
            #expect(try backlog(api) == 1)

            let old = try api.send("POST", "/webhooks/etsy", body: body, headers: headers(id: "evt_2", at: Int64(Date().timeIntervalSince1970) - 600))
            #expect(old.status == 401)
            #expect(old.errorField == "webhook-timestamp")
            let wrong = try api.send("POST", "/webhooks/etsy", body: body, headers: headers(id: "evt_3", secret: StandardWebhookSecret("whsec_b3RoZXI=")!))
            #expect(wrong.status == 401)
            var tampered = body
            tampered[tampered.count - 2] = UInt8(ascii: "3")
            #expect(try api.send("POST", "/webhooks/etsy", body: tampered, headers: headers(id: "evt_4")).status == 401)
            #expect(try backlog(api) == 1)
        }
    }
}

