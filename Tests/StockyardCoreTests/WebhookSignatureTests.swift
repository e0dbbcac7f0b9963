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
