import Foundation

/// A notification whose order lines must be fetched from the channel's API (eBay orders, Etsy
/// receipts). It is stored in Redis with the delivery id before the notification is
/// acknowledged, so an unreachable channel API never loses or delays an acknowledgement.
public struct LookupJob: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// eBay: `GET /sell/fulfillment/v1/order/{orderId}`.
        case ebayOrder = "ebay_order"
        /// Etsy: `GET /v3/application/shops/{shop_id}/receipts/{receipt_id}`.
        case etsyReceipt = "etsy_receipt"
    }

    /// `<channel>:<delivery id>`.
    public var id: String
    public var kind: Kind
    /// The order id (eBay) or receipt id (Etsy).
    public var resource: String
    /// Etsy's shop id; nil for eBay.
    public var shopID: String?
    /// Milliseconds since 1970 when the notification was stored.
    public var receivedAt: Int64
    public var attempts: Int
    /// Milliseconds since 1970 before which it is not tried again.
    public var notBefore: Int64
    public var lastError: String?

    public init(id: String, kind: Kind, resource: String, shopID: String? = nil, receivedAt: Int64) {
        self.id = id
        self.kind = kind
        self.resource = resource
        self.shopID = shopID
        self.receivedAt = receivedAt
        self.attempts = 0
        self.notBefore = 0
        self.lastError = nil
    }

    package enum CodingKeys: String, CodingKey {
        case id, kind, resource, attempts
        case shopID = "shop_id"
        case receivedAt = "received_at"
        case notBefore = "not_before"
        case lastError = "last_error"
    }

    package var record: [UInt8] { Array((try? JSONEncoder().encode(self)) ?? Data()) }

    package init(record: [UInt8]) throws {
        self = try JSONDecoder().decode(LookupJob.self, from: Data(record))
    }
}
