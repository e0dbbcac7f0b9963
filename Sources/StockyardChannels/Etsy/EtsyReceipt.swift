import Foundation
import StockyardCore

/// A receipt as Etsy's v3 API returns it (`GET /v3/application/shops/{shop_id}/receipts/{receipt_id}`),
/// turned into sale events: each of `transactions[]` is the order line `(receipt_id,
/// transaction_id)` on the listing `listing_id` (`listing_id/product_id` when the transaction
/// names a product), holding `quantity` units, or none once the receipt's `status` is
/// `Canceled`. Version: `updated_timestamp` (seconds; `update_timestamp` in older answers).
public enum EtsyReceipt {
    public static func read(body: UnsafeRawBufferPointer, deliveryID: String?) throws(PayloadError) -> ChannelDelivery {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw PayloadError(field: nil, code: .invalidJSON, message: "the receipt is not a JSON object")
        }
        guard let receipt = wholeNumber(object["receipt_id"]) else {
            throw PayloadError(field: "receipt_id", message: "receipt_id must be a whole number")
        }
        guard let seconds = wholeNumber(object["updated_timestamp"] ?? object["update_timestamp"]).flatMap({ Int64($0) }),
            seconds > 0, seconds < 1 << 40
        else {
            throw PayloadError(field: "updated_timestamp", message: "updated_timestamp must be a Unix time in seconds")
        }
        let status = (object["status"] as? String)?.lowercased()
        let canceled = status == "canceled" || status == "cancelled"
        guard let transactions = object["transactions"] as? [[String: Any]] else {
            throw PayloadError(field: "transactions", message: "transactions must be an array")
        }
        var delivery = ChannelDelivery(channel: .etsy, kind: .orders, topic: "receipt", deliveryID: deliveryID)
        for (index, transaction) in transactions.enumerated() {
            let path = "transactions[\(index)]"
            guard let lineID = wholeNumber(transaction["transaction_id"]) else {
                throw PayloadError(field: path + ".transaction_id", message: "\(path).transaction_id must be a whole number")
            }
            guard let listingID = wholeNumber(transaction["listing_id"]) else {
                throw PayloadError(field: path + ".listing_id", message: "\(path).listing_id must be a whole number")
            }
            guard let quantity = wholeNumber(transaction["quantity"]).flatMap(Int64.init), quantity >= 0 else {
                throw PayloadError(field: path + ".quantity", message: "\(path).quantity must be a whole number, not negative")
            }
            var listing = listingID
            if let product = wholeNumber(transaction["product_id"]) { listing += "/" + product }
            let sku = (transaction["sku"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            let event = SaleEvent(
                channel: .etsy, listingID: listing, orderID: receipt, lineID: lineID, quantity: canceled ? 0 : quantity,
                version: seconds * 1_000_000)
            if let problem = event.validate() {
                throw PayloadError(field: "\(path).\(problem.field)", message: problem.message)
            }
            delivery.lines.append(ChannelLine(event: event, sku: sku))
        }
        return delivery
    }

    /// A whole number as its decimal text (ids stay exact above 2^53).
    static func wholeNumber(_ value: Any?) -> String? {
        switch value {
        case let number as NSNumber where String(cString: number.objCType) != "c":
            let text = number.stringValue
            return text.allSatisfy(\.isNumber) ? text : nil
        case let text as String where !text.isEmpty && text.allSatisfy(\.isNumber):
            return text
        default:
            return nil
        }
    }
}
