import Foundation

/// An eBay Notification API delivery: `{"metadata":{"topic",…},"notification":{"notificationId",
/// "eventDate","data":{…}}}`. eBay does not publish the data fields of its order topics, so the
/// order id is looked for under the names eBay uses elsewhere (`orderId`, `order_id`, `orderID`,
/// `legacyOrderId`) in `data` and one level below it; a shape without one is refused (kept as a
/// dead letter). The order's lines come from a look-up of the order, never from the notification.
public struct EbayNotification: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// An order changed: look it up.
        case order(orderID: String)
        /// `MARKETPLACE_ACCOUNT_DELETION`: acknowledge; Stockyard holds no buyer data to erase.
        case accountDeletion
        /// A topic Stockyard does not act on.
        case ignored
    }

    public var topic: String
    public var notificationID: String
    public var eventDate: String?
    public var kind: Kind

    public static let accountDeletion = "MARKETPLACE_ACCOUNT_DELETION"

    /// Whether a topic is about orders (`ORDER_CONFIRMATION`, `ORDER_CANCELLATION`, `ITEM_SOLD`…).
    public static func isOrderTopic(_ topic: String) -> Bool {
        let upper = topic.uppercased()
        return upper.hasPrefix("ORDER") || upper.contains("_ORDER") || upper == "ITEM_SOLD" || upper == "FIXED_PRICE_TRANSACTION"
    }

    public static func read(body: UnsafeRawBufferPointer) throws(PayloadError) -> EbayNotification {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw PayloadError(field: nil, code: .invalidJSON, message: "the body is not a JSON object")
        }
        guard let metadata = object["metadata"] as? [String: Any] else {
            throw PayloadError(field: "metadata", message: "metadata must be an object")
        }
        guard let topic = metadata["topic"] as? String, !topic.isEmpty else {
            throw PayloadError(field: "metadata.topic", message: "metadata.topic must be a non-empty string")
        }
        guard let notification = object["notification"] as? [String: Any] else {
            throw PayloadError(field: "notification", message: "notification must be an object")
        }
        guard let id = notification["notificationId"] as? String, !id.isEmpty, id.utf8.count <= 200 else {
            throw PayloadError(field: "notification.notificationId", message: "notification.notificationId must be a string of 1 to 200 bytes")
        }
        let eventDate = notification["eventDate"] as? String
        if topic == accountDeletion {
            return EbayNotification(topic: topic, notificationID: id, eventDate: eventDate, kind: .accountDeletion)
        }
        guard isOrderTopic(topic) else {
            return EbayNotification(topic: topic, notificationID: id, eventDate: eventDate, kind: .ignored)
        }
        guard let data = notification["data"] as? [String: Any] else {
            throw PayloadError(field: "notification.data", message: "an order notification needs a data object")
        }
        guard let orderID = Self.orderID(in: data) else {
            throw PayloadError(
                field: "notification.data.orderId", message: "no order id found in notification.data (orderId, order_id, orderID, legacyOrderId)")
        }
        return EbayNotification(topic: topic, notificationID: id, eventDate: eventDate, kind: .order(orderID: orderID))
    }

    static let orderKeys = ["orderId", "order_id", "orderID", "legacyOrderId"]

    static func orderID(in data: [String: Any]) -> String? {
        for key in orderKeys {
            if let text = data[key] as? String, !text.isEmpty, text.utf8.count <= 200, !text.contains("/") { return text }
        }
        for value in data.values {
            if let nested = value as? [String: Any], let found = orderID(in: nested) { return found }
        }
        return nil
    }
}
