import Foundation

/// The fields of a looked-up order that Stockyard reads, and nothing else: what is kept when
/// such an order has to wait for a person, so that no buyer data (names, addresses, messages)
/// is ever stored.
enum OrderEssentials {
    static func keep(_ body: [UInt8], top: [String], nested: [String: [String]], lists: [String: [String]]) -> [UInt8] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            return Array("{\"unreadable_bytes\":\(body.count)}".utf8)
        }
        var kept: [String: Any] = [:]
        for key in top where object[key] != nil { kept[key] = object[key] }
        for (key, fields) in nested {
            guard let inner = object[key] as? [String: Any] else { continue }
            kept[key] = inner.filter { fields.contains($0.key) }
        }
        for (key, fields) in lists {
            guard let entries = object[key] as? [Any] else {
                if object[key] != nil { kept[key] = "not a list" }
                continue
            }
            kept[key] = entries.map { entry -> Any in
                guard let entry = entry as? [String: Any] else { return "not an object" }
                return entry.filter { fields.contains($0.key) }
            }
        }
        let data = (try? JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(data)
    }
}

extension EbayOrder {
    /// The order's id, version, cancel state and lines (ids, listing, SKU, quantity) only.
    public static func essentials(of body: [UInt8]) -> [UInt8] {
        OrderEssentials.keep(
            body, top: ["orderId", "lastModifiedDate"], nested: ["cancelStatus": ["cancelState"]],
            lists: ["lineItems": ["lineItemId", "legacyItemId", "legacyVariationId", "sku", "quantity"]])
    }
}

extension EtsyReceipt {
    /// The receipt's id, version, status and transactions (ids, listing, product, SKU, quantity) only.
    public static func essentials(of body: [UInt8]) -> [UInt8] {
        OrderEssentials.keep(
            body, top: ["receipt_id", "updated_timestamp", "update_timestamp", "status"], nested: [:],
            lists: ["transactions": ["transaction_id", "listing_id", "product_id", "sku", "quantity"]])
    }
}
