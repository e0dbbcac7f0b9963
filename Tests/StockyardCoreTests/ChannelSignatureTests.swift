import Crypto
import Foundation
import StockyardChannels
import Testing

/// Standard Webhooks (Etsy) and eBay's ECDSA signatures, on raw bytes.
@Suite struct ChannelSignatureTests {
    // MARK: Standard Webhooks

    /// The body Etsy really sends for order.paid.
    static let etsyBody = #"{"event_type":"order.paid","resource_url":"https://openapi.etsy.com/v3/application/shops/12345/receipts/54321","shop_id":42}"#
    /// base64 of "stockyard-etsy-test-secret-001"; the signature below was computed with Python's hmac.
    static let etsySecret = StandardWebhookSecret("whsec_c3RvY2t5YXJkLWV0c3ktdGVzdC1zZWNyZXQtMDAx")!
    static let etsySignature = "v1,0rfIC+DJFalzLNTrQhdXqTOcFovKpRF+HPuCvyuYx2k="

    private func verify(
        id: String? = "evt_01HX", timestamp: String? = "1795400000", signature: String? = etsySignature, body: String = etsyBody,
        secrets: [StandardWebhookSecret] = [etsySecret], now: Int64 = 1_795_400_000
    ) throws {
        let bytes = Array(body.utf8)
        try bytes.withUnsafeBytes { raw in
            try StandardWebhooks.verify(id: id, timestamp: timestamp, signature: signature, body: raw, secrets: secrets, now: now)
        }
    }

    @Test func validSignatureAndTheSpecificationsVector() throws {
        try verify()
        // The Standard Webhooks libraries' own test vector.
        let secret = try #require(StandardWebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        try verify(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: "1614265330", signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            body: #"{"test": 2432232314}"#, secrets: [secret], now: 1_614_265_330)
        #expect(StandardWebhooks.sign(id: "evt_01HX", timestamp: 1_795_400_000, body: Array(Self.etsyBody.utf8), secret: Self.etsySecret) == Self.etsySignature)
    }

    @Test func tamperedBodyWrongSecretAndOtherIDFail() {
        #expect(throws: StandardWebhooks.Failure.noSignatureMatches) { try verify(body: Self.etsyBody.replacingOccurrences(of: "54321", with: "54322")) }
        #expect(throws: StandardWebhooks.Failure.noSignatureMatches) { try verify(secrets: [StandardWebhookSecret("whsec_b3RoZXItc2VjcmV0")!]) }
        #expect(throws: StandardWebhooks.Failure.noSignatureMatches) { try verify(id: "evt_01HY") }
        #expect(throws: StandardWebhooks.Failure.noSignatureMatches) { try verify(timestamp: "1795400001", now: 1_795_400_001) }
    }

    @Test func timestampToleranceIsFiveMinutesEachWay() throws {
        try verify(now: 1_795_400_300)
        try verify(now: 1_795_399_700)
        #expect(throws: StandardWebhooks.Failure.timestampOutOfTolerance) { try verify(now: 1_795_400_301) }
        #expect(throws: StandardWebhooks.Failure.timestampOutOfTolerance) { try verify(now: 1_795_399_699) }
    }

    @Test func severalSignaturesAndRotatedSecrets() throws {
        // Entries are space-separated; unknown versions (v1a) and bad entries are skipped.
        try verify(signature: "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw== v1,AAAA \(Self.etsySignature)")
        // During a rotation either secret may have signed.
        try verify(secrets: [StandardWebhookSecret("whsec_b3RoZXItc2VjcmV0")!, Self.etsySecret])
        #expect(throws: StandardWebhooks.Failure.noSignatureMatches) { try verify(signature: "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw==") }
    }

    @Test func theWhsecPrefixIsOptionalAndTheRestMustBeBase64() {
        #expect(StandardWebhookSecret("c3RvY2t5YXJkLWV0c3ktdGVzdC1zZWNyZXQtMDAx") != nil)
        #expect(StandardWebhookSecret("whsec_not base64!") == nil)
        #expect(StandardWebhookSecret("whsec_") == nil)
    }

    @Test func missingAndMalformedHeadersAreNamed() {
        #expect(throws: StandardWebhooks.Failure.missingHeader("webhook-id")) { try verify(id: nil) }
        #expect(throws: StandardWebhooks.Failure.invalidHeader("webhook-id")) { try verify(id: "evt.1") }
        #expect(throws: StandardWebhooks.Failure.missingHeader("webhook-timestamp")) { try verify(timestamp: "") }
        #expect(throws: StandardWebhooks.Failure.invalidHeader("webhook-timestamp")) { try verify(timestamp: "2026-11-23T00:00:00Z") }
        #expect(throws: StandardWebhooks.Failure.missingHeader("webhook-signature")) { try verify(signature: nil) }
    }

    // MARK: eBay

    /// A key and signature made with the openssl command line (`openssl dgst -sha1 -sign`), so
    /// the check does not only agree with itself.
    static let opensslKey = """
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE6DsynbZ0OwtaNr+6DZ+jKK/EM4UF
        vN3n2ehS1MfhPsCqdHG2MNj4B9Sj6nVYhF4Fgg/SPvFE+4we3Dp4+ffSBg==
        -----END PUBLIC KEY-----
        """
    static let opensslSignature = "MEYCIQCmZJGuAP7Rh4pQg9grER2m7V7fMYr1febVoVqJyFlrNwIhAOwT7FzwXT2AmCRZ2HvU6+6R+EpnX0Rrg1W25fr5Uo8a"
    static let ebayBody = #"{"metadata":{"topic":"MARKETPLACE_ACCOUNT_DELETION","schemaVersion":"1.0","deprecated":false},"notification":{"notificationId":"49feeaeb","eventDate":"2021-03-19T20:43:59.462Z","publishDate":"2021-03-19T20:43:59.679Z","publishAttemptCount":1,"data":{"username":"test_user","userId":"ma8vp1jySJC","eiasToken":"nY+sHZ2PrBmdj6wVnY+sEZ2PrA2dj6wJnY+gAZGEpwmdj6x9nY+seQ=="}}}"#

    private func ebayHeader(signature: String = opensslSignature, digest: String = "SHA1") -> String {
        let json = #"{"alg":"ECDSA","kid":"99345bd2-4a5b-4d33-a6f7-2c6ab3b5e7f0","signature":"\#(signature)","digest":"\#(digest)"}"#
        return Data(json.utf8).base64EncodedString()
    }

    private func verifyEbay(_ header: String?, body: String = ebayBody, key: String = opensslKey) throws {
        let signature = try EbaySignature(header: header)
        try Array(body.utf8).withUnsafeBytes { raw in try signature.verify(body: raw, publicKey: key) }
    }

    @Test func ebaySignatureMadeByOpenSSLVerifies() throws {
        let signature = try EbaySignature(header: ebayHeader())
        #expect(signature.keyID == "99345bd2-4a5b-4d33-a6f7-2c6ab3b5e7f0")
        try verifyEbay(ebayHeader())
        // The bare base64 of the key's DER works too.
        let der = Self.opensslKey.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        try verifyEbay(ebayHeader(), key: der)
    }

    @Test func ebaySignatureRejectsTamperingOtherKeysAndOtherDigests() throws {
        #expect(throws: EbaySignature.Failure.mismatch) { try verifyEbay(ebayHeader(), body: Self.ebayBody.replacingOccurrences(of: "test_user", with: "test_usr")) }
        let other = P256.Signing.PrivateKey()
        #expect(throws: EbaySignature.Failure.mismatch) { try verifyEbay(ebayHeader(), key: other.publicKey.pemRepresentation) }
        #expect(throws: EbaySignature.Failure.unsupported("SHA256")) { try verifyEbay(ebayHeader(digest: "SHA256")) }
        #expect(throws: EbaySignature.Failure.missingHeader) { try verifyEbay(nil) }
        #expect(throws: EbaySignature.Failure.malformedHeader("not base64 of a JSON object")) { try verifyEbay("%%%") }
        #expect(throws: EbaySignature.Failure.invalidKey) { try verifyEbay(ebayHeader(), key: "not a key") }
    }

    @Test func ebaySignaturesTheTestsMakeVerify() throws {
        let key = P256.Signing.PrivateKey()
        let header = try EbaySignature.header(for: Array(Self.ebayBody.utf8), key: key, keyID: "k1")
        try verifyEbay(header, key: key.publicKey.pemRepresentation)
    }

    @Test func ebayChallengeResponse() {
        // hex(SHA-256(code + token + URL)), computed with Python's hashlib.
        #expect(
            EbaySignature.challengeResponse(
                challengeCode: "a8628072-3d33-45ee-9004-bee86830a22d", verificationToken: "71745723-d031-455c-bfa5-f90d11b4f20a",
                endpointURL: "https://www.testendpoint.com/webhook")
                == "a1d8c12dc8f31594e78e3f2c7032c34746144c28ffbdee1cd9cbd4fd2fc618c6")
    }
}
