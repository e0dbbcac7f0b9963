import Crypto
import Foundation
import StockyardChannels
import Testing

/// HMAC-SHA256 over raw bodies. Expected values were computed outside Stockyard (RFC 4231 and
/// Python's `hmac` over the fixture file's bytes).
@Suite struct WebhookSignatureTests {
    static let secret = WebhookSecret("shpss_test_secret_current")

    func verifyShopify(_ header: String?, _ body: [UInt8], _ secrets: [WebhookSecret]) -> Bool {
        body.withUnsafeBytes { WebhookSignature.verifyShopify(header: header, body: $0, secrets: secrets) }
    }

    @Test func rfc4231Vector() {
        let body = Array("what do ya want for nothing?".utf8)
        let hex = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        #expect(body.withUnsafeBytes { WebhookSignature.verifyHex(header: "sha256=" + hex, body: $0, secrets: [WebhookSecret("Jefe")]) })
        #expect(body.withUnsafeBytes { WebhookSignature.verifyHex(header: hex.uppercased(), body: $0, secrets: [WebhookSecret("Jefe")]) })
        #expect(!body.withUnsafeBytes { WebhookSignature.verifyHex(header: "sha256=" + hex, body: $0, secrets: [WebhookSecret("jefe")]) })
        #expect(!body.withUnsafeBytes { WebhookSignature.verifyHex(header: "sha256=" + hex.dropLast(2), body: $0, secrets: [WebhookSecret("Jefe")]) })
    }

    @Test func rfc4231KeyLongerThanABlock() {
        // Test case 6: a 131-byte key is hashed first.
        let key = [UInt8](repeating: 0xAA, count: 131)
        let body = Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
        let hex = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        #expect(body.withUnsafeBytes { WebhookSignature.verifyHex(header: hex, body: $0, secrets: [WebhookSecret(bytes: key)]) })
    }

    @Test func sameCodeAsTheGeneralHMACForEveryKeyLength() {
        // The pads are hashed once per secret: keys shorter than, equal to and longer than the
        // 64-byte block, and bodies of every length around a block boundary.
        var generator = SystemRandomNumberGenerator()
        for keyLength in [0, 1, 31, 32, 63, 64, 65, 100, 128, 129, 300] {
            let key = (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let secret = WebhookSecret(bytes: key)
            for bodyLength in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 15_000] {
                let body = (0..<bodyLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let expected = Array(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: key)))
                #expect(secret.mac(for: body) == expected, "key \(keyLength), body \(bodyLength)")
                #expect(body.withUnsafeBytes { secret.isValid(mac: expected, for: $0) })
                var wrong = expected
                wrong[bodyLength % 32] ^= 0x01
                #expect(!body.withUnsafeBytes { secret.isValid(mac: wrong, for: $0) })
            }
        }
    }

    @Test func shopifySampleBody() {
        let body = FixtureFiles.bytes("shopify/orders_create.sample.json")
        let header = "1kCw7ciAbzVxQwBl1ZdaWbVAEe67ocDtzhSGPfhgnMU="
        #expect(verifyShopify(header, body, [Self.secret]))
        // During a rotation either secret passes, in either order.
        #expect(verifyShopify(header, body, [WebhookSecret("new-secret"), Self.secret]))
        #expect(!verifyShopify(header, body, [WebhookSecret("new-secret")]))
        #expect(!verifyShopify(nil, body, [Self.secret]))
        #expect(!verifyShopify("not base64!", body, [Self.secret]))
        #expect(!verifyShopify(header, body, []))
        // One byte changed: rejected.
        var tampered = body
        tampered[tampered.count / 2] ^= 0x01
        #expect(!verifyShopify(header, tampered, [Self.secret]))
    }

    @Test func shopifyHeaderForms() {
        let body = FixtureFiles.bytes("shopify/orders_create.sample.json")
        let header = "1kCw7ciAbzVxQwBl1ZdaWbVAEe67ocDtzhSGPfhgnMU="
        #expect(verifyShopify(" \t" + header + " ", body, [Self.secret]))
        #expect(!verifyShopify("1kCw7ciAbzVxQwBl1ZdaWbVAEe67ocDtzhSGPfhgnM!=", body, [Self.secret]))
        // Other forms are read as the general base64 decoder reads them.
        let mac = Data(base64Encoded: header).map(Array.init)
        for form in [
            String(header.dropLast()), header + "=", String(header.dropLast(2)) + "==",
            "1kCw7ciAbzVxQwBl1ZdaWbVAEe67ocDtzhSGPfhgnMV=", "\u{A0}" + header,
        ] {
            let decoded = Data(base64Encoded: form.trimmingCharacters(in: .whitespaces)).map(Array.init)
            #expect(verifyShopify(form, body, [Self.secret]) == (decoded == mac), "\(form)")
        }
    }

    @Test func nonASCIIAndEscapesAreSignedAsSent() {
        // The raw bytes are signed: `\u0026` stays six bytes, UTF-8 stays UTF-8.
        let text = FixtureFiles.shopifyOrder.replacingFirst("\"note\": null", with: "\"note\": \"Café \\u0026 crème — 東京\"")
        let body = Array(text.utf8)
        #expect(verifyShopify("Z7/rRlJUZ/giypRP3bWzeqW1FWGUfWfXIphm+Dqtmho=", body, [Self.secret]))
        // The same JSON re-serialised with `&` unescaped is a different body.
        let reserialised = Array(text.replacingFirst("\\u0026", with: "&").utf8)
        #expect(!verifyShopify("Z7/rRlJUZ/giypRP3bWzeqW1FWGUfWfXIphm+Dqtmho=", reserialised, [Self.secret]))
    }

    @Test func bridgeHeaderRoundTrip() {
        let body = FixtureFiles.bytes("amazon/OrderChangeNotification.example.json")
        let expected = "sha256=dcbcdf01bb2c7ba2125847bf3b952462ddc0afe7c5ba037ca5ad1eca8562055a"
        #expect(WebhookSignature.hexHeader(for: body, secret: WebhookSecret("bridge-secret")) == expected)
        #expect(body.withUnsafeBytes { WebhookSignature.verifyHex(header: expected, body: $0, secrets: [WebhookSecret("bridge-secret")]) })
    }
}
