import Foundation
import StockyardCore

/// An order as eBay's Fulfillment API returns it (`GET /sell/fulfillment/v1/order/{orderId}`),
/// turned into sale events: each of `lineItems[]` is the order line `(orderId, lineItemId)` on
/// the listing `legacyItemId` (`legacyItemId/legacyVariationId` for a variation, else
/// `legacyItemId/sku:<sku>` when the line has a SKU), holding `quantity` units, or none once
/// `cancelStatus.cancelState` is `CANCELED`. Version: `lastModifiedDate`.
public enum EbayOrder {
    public static func read(body: UnsafeRawBufferPointer, deliveryID: String?) throws(PayloadError) -> ChannelDelivery {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw PayloadError(field: nil, code: .invalidJSON, message: "the order is not a JSON object")
        }
        guard let orderID = object["orderId"] as? String, Limits.validateID(orderID, field: "orderId") == nil else {
            throw PayloadError(field: "orderId", message: "orderId is required")
        }
        guard let modified = object["lastModifiedDate"] as? String, let version = SourceVersion.parseTimestamp(modified) else {
            throw PayloadError(field: "lastModifiedDate", message: "lastModifiedDate must be an ISO 8601 timestamp")
        }
        let cancelState = ((object["cancelStatus"] as? [String: Any])?["cancelState"] as? String)?.uppercased()
        let canceled = cancelState == "CANCELED" || cancelState == "CANCELLED"
        guard let items = object["lineItems"] as? [[String: Any]] else {
            throw PayloadError(field: "lineItems", message: "lineItems must be an array of line items")
        }
        var delivery = ChannelDelivery(channel: .ebay, kind: .orders, topic: "order", deliveryID: deliveryID)
        for (index, item) in items.enumerated() {
            let path = "lineItems[\(index)]"
            guard let lineID = item["lineItemId"] as? String, !lineID.isEmpty else {
                throw PayloadError(field: path + ".lineItemId", message: "\(path).lineItemId is required")
            }
            guard let itemID = item["legacyItemId"] as? String, !itemID.isEmpty else {
                throw PayloadError(field: path + ".legacyItemId", message: "\(path).legacyItemId is required")
            }
            guard let quantity = (item["quantity"] as? NSNumber).flatMap({ Int64(exactly: $0.doubleValue) }), quantity >= 0 else {
                throw PayloadError(field: path + ".quantity", message: "\(path).quantity must be a whole number, not negative")
            }
            let sku = (item["sku"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            var listing = itemID
            if let variation = item["legacyVariationId"] as? String, !variation.isEmpty {
                listing += "/" + variation
            } else if let sku {
                listing += "/sku:" + sku
            }
            let event = SaleEvent(
                channel: .ebay, listingID: listing, orderID: orderID, lineID: lineID, quantity: canceled ? 0 : quantity, version: version)
            if let problem = event.validate() {
                throw PayloadError(field: "\(path).\(problem.field)", message: problem.message)
            }
            delivery.lines.append(ChannelLine(event: event, sku: sku))
        }
        return delivery
    }
}
