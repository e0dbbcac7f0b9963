import HTTPTypes

/// The headers of a Shopify webhook, read in one pass over the request's fields. A field given
/// twice is joined with ", ", as `HTTPFields` joins it, so a repeated topic can be refused.
struct ShopifyHeaders: Sendable {
    /// `X-Shopify-Hmac-Sha256`: the body's signature.
    var hmac: String?
    var shopDomain: String?
    var topic: String?
    var webhookID: String?
    var triggeredAt: String?
    var eventID: String?

    init(_ fields: HTTPFields) {
        let values = fields.values(of: Self.names)
        hmac = values[0]
        shopDomain = values[1]
        topic = values[2]
        webhookID = values[3]
        triggeredAt = values[4]
        eventID = values[5]
    }

    /// The signature, then the headers kept with a delivery (the shop domain first).
    private static let names: [HTTPField.Name] = [
        .shopifyHmac, .shopifyShopDomain, .shopifyTopic, .shopifyWebhookID, .shopifyTriggeredAt, .shopifyEventID,
    ]

    /// The headers kept with a dead letter, to read it again: all but the signature.
    var kept: [String: String] {
        var headers: [String: String] = [:]
        for (name, value) in zip(Self.names.dropFirst(), [shopDomain, topic, webhookID, triggeredAt, eventID]) {
            if let value { headers[name.canonicalName] = value }
        }
        return headers
    }
}
