import Foundation

/// An Etsy webhook body: only `event_type`, `resource_url` and `shop_id`
/// (e.g. `{"event_type":"order.paid","resource_url":"https://openapi.etsy.com/v3/application/shops/12345/receipts/54321","shop_id":42}`).
/// The receipt named by `resource_url` is looked up for its transactions.
public struct EtsyNotification: Sendable, Hashable {
    public var eventType: String
    public var shopID: String
    /// Set for receipt events: the receipt to look up, and the shop its URL names (Etsy's own
    /// sample names a different `shop_id` in the body than in the URL; the URL is what is fetched).
    public var receiptID: String?
    public var receiptShopID: String?
    public var resourceURL: String?

    /// Event types whose resource is a receipt.
    public static func isReceiptEvent(_ type: String) -> Bool { type.hasPrefix("order.") }

    public static func read(body: UnsafeRawBufferPointer) throws(PayloadError) -> EtsyNotification {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw PayloadError(field: nil, code: .invalidJSON, message: "the body is not a JSON object")
        }
        guard let type = object["event_type"] as? String, !type.isEmpty else {
            throw PayloadError(field: "event_type", message: "event_type must be a non-empty string")
        }
        let shop: String
        switch object["shop_id"] {
        case let number as NSNumber where String(cString: number.objCType) != "c" && number.stringValue.allSatisfy(\.isNumber):
            shop = number.stringValue
        case let text as String where !text.isEmpty && text.allSatisfy(\.isNumber):
            shop = text
        default:
            throw PayloadError(field: "shop_id", message: "shop_id must be a whole number")
        }
        guard isReceiptEvent(type) else {
            return EtsyNotification(eventType: type, shopID: shop, receiptID: nil, receiptShopID: nil, resourceURL: object["resource_url"] as? String)
        }
        guard let url = object["resource_url"] as? String else {
            throw PayloadError(field: "resource_url", message: "resource_url must name the receipt")
        }
        guard let (receiptShop, receipt) = receipt(in: url) else {
            throw PayloadError(
                field: "resource_url", message: "resource_url must be https://openapi.etsy.com/v3/application/shops/<shop_id>/receipts/<receipt_id>")
        }
        return EtsyNotification(eventType: type, shopID: shop, receiptID: receipt, receiptShopID: receiptShop, resourceURL: url)
    }

    /// The shop and receipt ids of `https://openapi.etsy.com/v3/application/shops/{shop}/receipts/{id}`;
    /// nil for any other URL (the look-up never follows a URL a body chose).
    static func receipt(in url: String) -> (shop: String, receipt: String)? {
        guard let components = URLComponents(string: url), components.scheme == "https", components.host == "openapi.etsy.com" else {
            return nil
        }
        let parts = components.path.split(separator: "/").map(String.init)
        guard parts.count == 6, parts[0] == "v3", parts[1] == "application", parts[2] == "shops", !parts[3].isEmpty,
            parts[3].allSatisfy(\.isNumber), parts[4] == "receipts", !parts[5].isEmpty, parts[5].allSatisfy(\.isNumber)
        else { return nil }
        return (parts[3], parts[5])
    }
}
