import Crypto
import Foundation
import StockyardChannels

/// Builds the notifications the vendors would send for a stored order or receipt, signed as they
/// sign them: eBay's `X-EBAY-SIGNATURE` with the sandbox's P-256 key, Etsy's Standard Webhooks
/// headers with the webhook secret.
struct NotificationSigner: Sendable {
    let ebayKey: P256.Signing.PrivateKey
    let ebayKeyID: String
    let etsySecret: StandardWebhookSecret

    /// eBay's envelope for an order topic, e.g. `ORDER_CONFIRMATION`; `date` as
    /// `JSONText.timestamp` writes it.
    func ebay(orderID: String, topic: String, date: String) throws -> SignedNotification {
        let date = JSONText.quoted(date)
        let body =
            "{\"metadata\":{\"topic\":\(JSONText.quoted(topic)),\"schemaVersion\":\"1.0\",\"deprecated\":false},"
            + "\"notification\":{\"notificationId\":\(JSONText.quoted(UUID().uuidString.lowercased())),"
            + "\"eventDate\":\(date),\"publishDate\":\(date),\"publishAttemptCount\":1,"
            + "\"data\":{\"orderId\":\(JSONText.quoted(orderID))}}}"
        let signature = try EbaySignature.header(for: Array(body.utf8), key: ebayKey, keyID: ebayKeyID)
        return SignedNotification(headers: [("X-EBAY-SIGNATURE", signature), ("Content-Type", "application/json")], body: body)
    }

    /// Etsy's webhook body for a receipt event, e.g. `order.paid`.
    func etsy(shopID: String, receiptID: String, eventType: String, now: Double) -> SignedNotification {
        let url = "https://openapi.etsy.com/v3/application/shops/\(shopID)/receipts/\(receiptID)"
        let body = "{\"event_type\":\(JSONText.quoted(eventType)),\"resource_url\":\(JSONText.quoted(url)),\"shop_id\":\(shopID)}"
        let id = "msg_" + randomToken(27)
        let timestamp = Int64(now.rounded(.down))
        let signature = StandardWebhooks.sign(id: id, timestamp: timestamp, body: Array(body.utf8), secret: etsySecret)
        return SignedNotification(
            headers: [
                ("webhook-id", id), ("webhook-timestamp", String(timestamp)), ("webhook-signature", signature),
                ("Content-Type", "application/json"),
            ],
            body: body)
    }
}

/// A notification as a vendor would deliver it: its headers and its body's text.
struct SignedNotification: Sendable {
    var headers: [(String, String)]
    var body: String

    /// Appends `{"headers":{…},"body":"<text>"}`.
    func write(to out: inout [UInt8]) {
        out += Array("{\"headers\":{".utf8)
        for (index, (name, value)) in headers.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(name, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONText.appendQuoted(value, to: &out)
        }
        out += Array("},\"body\":".utf8)
        JSONText.appendQuoted(body, to: &out)
        out.append(UInt8(ascii: "}"))
    }
}
