import StockyardCore

/// Reads SP-API notifications as a bridge forwards them from SQS or EventBridge.
///
/// Both key styles are read (`AmazonOrderId` and `amazonOrderId`), and an EventBridge envelope
/// is unwrapped (`detail`). For `ORDER_CHANGE`, each of `Summary.OrderItems` is the order line
/// `(AmazonOrderId, OrderItemId)` on the listing `SellerSKU`, holding `Quantity` units, or none
/// when the order (or the item) is `Canceled`; `Pending` orders hold stock like any other.
/// Version: `EventTime`, else `OrderChangeTrigger.TimeOfOrderChange`. Delivery id:
/// `NotificationMetadata.NotificationId` (else the EventBridge event id).
public enum AmazonNotification {
    public static let orderChange = "ORDER_CHANGE"
    /// Read and counted; moves no stock (Zoho is the stock of record).
    public static let mfnQuantityChange = "LISTINGS_ITEM_MFN_QUANTITY_CHANGE"

    struct Item {
        var id: String?
        var sku: String?
        var quantity: Int64?
        var status: String?
    }

    struct Parsed {
        var type: String?
        var eventTime: String?
        var changeTime: String?
        var orderID: String?
        var orderStatus: String?
        var items: [Item]?
        var notificationID: String?
        var envelopeID: String?
    }

    public static func read(body: UnsafeRawBufferPointer) throws(PayloadError) -> ChannelDelivery {
        var scanner = JSONScanner(body)
        var parsed = Parsed()
        try scanner.fields { (scanner, key) throws(PayloadError) in
            if key.is("detail") {
                try readNotification(&scanner, into: &parsed)
            } else if key.is("id") {
                parsed.envelopeID = try scanner.identifier()
            } else {
                try readNotificationField(&scanner, key, into: &parsed)
            }
        }
        try scanner.finish()
        guard let type = parsed.type else {
            throw PayloadError(field: "NotificationType", message: "NotificationType is required")
        }
        let deliveryID = parsed.notificationID ?? parsed.envelopeID
        switch type {
        case orderChange:
            return try orderEvents(parsed, deliveryID: deliveryID)
        case mfnQuantityChange:
            return ChannelDelivery(channel: .amazon, kind: .informational, topic: type, deliveryID: deliveryID)
        default:
            return ChannelDelivery(channel: .amazon, kind: .ignored, topic: type, deliveryID: deliveryID)
        }
    }

    private static func readNotification(_ scanner: inout JSONScanner, into parsed: inout Parsed) throws(PayloadError) {
        try scanner.fields { (scanner, key) throws(PayloadError) in
            try readNotificationField(&scanner, key, into: &parsed)
        }
    }

    private static func readNotificationField(
        _ scanner: inout JSONScanner, _ key: JSONKey, into parsed: inout Parsed
    ) throws(PayloadError) {
        if key.isAnyCase("NotificationType") {
            parsed.type = try scanner.string()
        } else if key.isAnyCase("EventTime") {
            parsed.eventTime = try scanner.string()
        } else if key.isAnyCase("NotificationMetadata") {
            try scanner.fields { (scanner, key) throws(PayloadError) in
                if key.isAnyCase("NotificationId") { parsed.notificationID = try scanner.string() }
            }
        } else if key.isAnyCase("Payload") {
            try scanner.fields { (scanner, key) throws(PayloadError) in
                guard key.isAnyCase("OrderChangeNotification") else { return }
                try readOrderChange(&scanner, into: &parsed)
            }
        }
    }

    private static func readOrderChange(_ scanner: inout JSONScanner, into parsed: inout Parsed) throws(PayloadError) {
        try scanner.fields { (scanner, key) throws(PayloadError) in
            if key.isAnyCase("AmazonOrderId") {
                parsed.orderID = try scanner.identifier()
            } else if key.isAnyCase("OrderChangeTrigger") {
                try scanner.fields { (scanner, key) throws(PayloadError) in
                    if key.isAnyCase("TimeOfOrderChange") { parsed.changeTime = try scanner.string() }
                }
            } else if key.isAnyCase("Summary") {
                try scanner.fields { (scanner, key) throws(PayloadError) in
                    if key.isAnyCase("OrderStatus") {
                        parsed.orderStatus = try scanner.string()
                    } else if key.isAnyCase("OrderItems") {
                        var items: [Item] = []
                        try scanner.elements { (scanner, _) throws(PayloadError) in
                            var item = Item()
                            try scanner.fields { (scanner, key) throws(PayloadError) in
                                if key.isAnyCase("OrderItemId") {
                                    item.id = try scanner.identifier()
                                } else if key.isAnyCase("SellerSKU") {
                                    item.sku = try scanner.string()
                                } else if key.isAnyCase("Quantity") {
                                    item.quantity = try scanner.integer()
                                } else if key.isAnyCase("OrderItemStatus") {
                                    item.status = try scanner.string()
                                }
                            }
                            items.append(item)
                        }
                        parsed.items = items
                    }
                }
            }
        }
    }

    private static func orderEvents(_ parsed: Parsed, deliveryID: String?) throws(PayloadError) -> ChannelDelivery {
        let base = "Payload.OrderChangeNotification"
        guard let orderID = parsed.orderID, Limits.validateID(orderID, field: "AmazonOrderId") == nil else {
            throw PayloadError(field: base + ".AmazonOrderId", message: "\(base).AmazonOrderId is required")
        }
        guard let version = (parsed.eventTime ?? parsed.changeTime).flatMap(SourceVersion.parseTimestamp) else {
            throw PayloadError(field: "EventTime", message: "EventTime must be an ISO 8601 timestamp")
        }
        var delivery = ChannelDelivery(channel: .amazon, kind: .orders, topic: orderChange, deliveryID: deliveryID)
        guard let items = parsed.items else {
            // Summaries are optional in the notification; without them there are no lines to read.
            delivery.skipped.append(SkippedLine(orderID: orderID, lineID: "*", reason: "the notification has no Summary.OrderItems"))
            return delivery
        }
        let orderCanceled = parsed.orderStatus?.lowercased() == "canceled" || parsed.orderStatus?.lowercased() == "cancelled"
        for (index, item) in items.enumerated() {
            let path = "\(base).Summary.OrderItems[\(index)]"
            guard let lineID = item.id else { throw PayloadError(field: path + ".OrderItemId", message: "\(path).OrderItemId is required") }
            guard let sku = item.sku, !sku.isEmpty else {
                throw PayloadError(field: path + ".SellerSKU", message: "\(path).SellerSKU is required")
            }
            guard let quantity = item.quantity, quantity >= 0 else {
                throw PayloadError(field: path + ".Quantity", message: "\(path).Quantity must be a whole number, not negative")
            }
            let itemCanceled = item.status?.lowercased() == "canceled" || item.status?.lowercased() == "cancelled"
            let event = SaleEvent(
                channel: .amazon, listingID: sku, orderID: orderID, lineID: lineID,
                quantity: orderCanceled || itemCanceled ? 0 : quantity, version: version)
            if let problem = event.validate() {
                let field = path + "." + (problem.field == "listing_id" ? "SellerSKU" : problem.field == "line_id" ? "OrderItemId" : "Quantity")
                throw PayloadError(field: field, message: "\(field): \(problem.message)")
            }
            delivery.lines.append(ChannelLine(event: event, sku: sku))
        }
        return delivery
    }
}
