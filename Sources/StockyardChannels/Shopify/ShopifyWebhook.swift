import StockyardCore

/// Reads Shopify's `orders/*` and `refunds/create` webhooks into sale events.
///
/// What moves stock (the README's "Shopify" section says the same):
/// - Each line item of an order payload (`orders/create`, `orders/updated`, `orders/cancelled`) is
///   the order line `(order id, line item id)` holding `current_quantity` plus every unit refunded
///   from it (refunds are counted on their own lines below), or `quantity` when the payload has no
///   `current_quantity`; version: the order's `updated_at` (else `X-Shopify-Triggered-At`).
///   Gift cards hold nothing.
/// - Each refund line with `restock_type` `cancel`, `return` (or the older `legacy_restock`) is a
///   line of its own, `(order id, "<line item id>:restock:<refund line id>")`, holding minus its
///   quantity: it gives the units back, once, however often it is delivered. Version: the refund's
///   `created_at`. `no_restock` moves nothing. Refund lines come from `refunds/create` and from the
///   `refunds` of any order payload alike.
/// - `orders/edited` adds or removes units of known lines (`line_items.additions` / `removals`),
///   at the edit's `committed_at` (else `created_at`); the next `orders/updated` restates them.
/// - A cancellation by itself moves nothing: Shopify restocks a cancelled order through refunds.
public enum ShopifyWebhook {
    /// The topics read; any other topic is acknowledged and ignored.
    public enum Topic: String, Sendable, CaseIterable {
        case ordersCreate = "orders/create"
        case ordersUpdated = "orders/updated"
        case ordersCancelled = "orders/cancelled"
        case ordersEdited = "orders/edited"
        case refundsCreate = "refunds/create"
    }

    /// Restock types that put units back in stock.
    static let restocking: Set<String> = ["cancel", "return", "legacy_restock"]

    /// Reads one delivery.
    ///
    /// - Parameters:
    ///   - namespace: prefix for this shop's listing and order ids (`"<namespace>:<id>"`), for
    ///     merchants whose shops keep separate listings.
    public static func read(
        topic: String, body: UnsafeRawBufferPointer, triggeredAt: String?, webhookID: String?, namespace: String? = nil
    ) throws(PayloadError) -> ChannelDelivery {
        guard let known = Topic(rawValue: topic) else {
            return ChannelDelivery(channel: .shopify, kind: .ignored, topic: topic, deliveryID: webhookID)
        }
        let fallbackVersion = triggeredAt.flatMap(SourceVersion.parseTimestamp)
        var scanner = JSONScanner(body)
        let names = Names(namespace: namespace)
        var delivery = ChannelDelivery(channel: .shopify, kind: .orders, topic: topic, deliveryID: webhookID)
        switch known {
        case .ordersCreate, .ordersUpdated, .ordersCancelled:
            let order = try OrderPayload.read(&scanner)
            try scanner.finish()
            try order.events(names: names, fallbackVersion: fallbackVersion, into: &delivery)
        case .refundsCreate:
            let refund = try RefundPayload.read(&scanner, standalone: true)
            try scanner.finish()
            guard let orderID = refund.orderID else {
                throw PayloadError(field: "order_id", message: "order_id is required")
            }
            try refund.events(
                orderID: names.order(orderID), lineItems: [:], names: names, fallbackVersion: fallbackVersion,
                field: "", into: &delivery)
        case .ordersEdited:
            let edit = try EditPayload.read(&scanner)
            try scanner.finish()
            try edit.adjustments(names: names, fallbackVersion: fallbackVersion, into: &delivery)
        }
        return delivery
    }

    /// How a shop's ids become Stockyard's.
    struct Names {
        var namespace: String?

        func order(_ id: String) -> String { prefixed(id) }

        /// The listing a line draws on: variant id, else `product:<id>`, else `sku:<sku>`.
        func listing(_ line: LineItem) -> String? {
            if let variant = line.variantID { return prefixed(variant) }
            if let product = line.productID { return prefixed("product:" + product) }
            if let sku = line.sku, !sku.isEmpty { return prefixed("sku:" + sku) }
            return nil
        }

        private func prefixed(_ id: String) -> String {
            guard let namespace, !namespace.isEmpty else { return id }
            return namespace + ":" + id
        }
    }

    // MARK: Payloads

    struct LineItem {
        var id: String?
        var variantID: String?
        var productID: String?
        var sku: String?
        var quantity: Int64?
        var currentQuantity: Int64?
        var giftCard = false

        static func read(_ scanner: inout JSONScanner) throws(PayloadError) -> LineItem {
            var line = LineItem()
            try scanner.fields { (scanner, key) throws(PayloadError) in
                if key.is("id") {
                    line.id = try scanner.identifier()
                } else if key.is("variant_id") {
                    line.variantID = try scanner.identifier()
                } else if key.is("product_id") {
                    line.productID = try scanner.identifier()
                } else if key.is("sku") {
                    line.sku = try scanner.string()
                } else if key.is("quantity") {
                    line.quantity = try scanner.integer()
                } else if key.is("current_quantity") {
                    line.currentQuantity = try scanner.integer()
                } else if key.is("gift_card") {
                    line.giftCard = try scanner.bool() ?? false
                }
            }
            return line
        }
    }

    struct RefundLine {
        var id: String?
        var lineItemID: String?
        var quantity: Int64?
        var restockType: String?
        var lineItem: LineItem?
    }

    struct RefundPayload {
        var id: String?
        var orderID: String?
        var createdAt: String?
        var processedAt: String?
        var lines: [RefundLine] = []

        static func read(_ scanner: inout JSONScanner, standalone: Bool) throws(PayloadError) -> RefundPayload {
            var refund = RefundPayload()
            try scanner.fields { (scanner, key) throws(PayloadError) in
                if key.is("id") {
                    refund.id = try scanner.identifier()
                } else if key.is("order_id") {
                    refund.orderID = try scanner.identifier()
                } else if key.is("created_at") {
                    refund.createdAt = try scanner.string()
                } else if key.is("processed_at") {
                    refund.processedAt = try scanner.string()
                } else if key.is("refund_line_items") {
                    try scanner.elements { (scanner, _) throws(PayloadError) in
                        var line = RefundLine()
                        try scanner.fields { (scanner, key) throws(PayloadError) in
                            if key.is("id") {
                                line.id = try scanner.identifier()
                            } else if key.is("line_item_id") {
                                line.lineItemID = try scanner.identifier()
                            } else if key.is("quantity") {
                                line.quantity = try scanner.integer()
                            } else if key.is("restock_type") {
                                line.restockType = try scanner.string()
                            } else if key.is("line_item") {
                                if !scanner.readNull() { line.lineItem = try LineItem.read(&scanner) }
                            }
                        }
                        refund.lines.append(line)
                    }
                }
            }
            return refund
        }

        /// Appends the refund's restocking lines. `lineItems` are the order's lines by id, for
        /// refund lines that do not embed their line item.
        func events(
            orderID: String, lineItems: [String: LineItem], names: Names, fallbackVersion: Int64?, field: String,
            into delivery: inout ChannelDelivery
        ) throws(PayloadError) {
            let prefix = field.isEmpty ? "" : field + "."
            let stamp = createdAt ?? processedAt
            let version = stamp.flatMap(SourceVersion.parseTimestamp) ?? fallbackVersion
            for (index, line) in lines.enumerated() {
                var path: String { "\(prefix)refund_line_items[\(index)]" }
                guard let id = line.id else { throw PayloadError(field: path + ".id", message: "\(path).id is required") }
                guard let lineItemID = line.lineItemID ?? line.lineItem?.id else {
                    throw PayloadError(field: path + ".line_item_id", message: "\(path).line_item_id is required")
                }
                guard let quantity = line.quantity, quantity >= 0, quantity <= Limits.maxLineQuantity else {
                    throw PayloadError(
                        field: path + ".quantity", message: "\(path).quantity must be a whole number from 0 to \(Limits.maxLineQuantity)")
                }
                let restockID = "\(lineItemID):restock:\(id)"
                guard let type = line.restockType, ShopifyWebhook.restocking.contains(type) else {
                    delivery.skipped.append(
                        SkippedLine(orderID: orderID, lineID: restockID, reason: "refund without restock (\(line.restockType ?? "none"))"))
                    continue
                }
                guard let item = line.lineItem ?? lineItems[lineItemID] else {
                    throw PayloadError(field: path + ".line_item", message: "\(path).line_item is required to name the listing")
                }
                if item.giftCard {
                    delivery.skipped.append(SkippedLine(orderID: orderID, lineID: restockID, reason: "gift card"))
                    continue
                }
                guard let listing = names.listing(item) else {
                    delivery.skipped.append(
                        SkippedLine(orderID: orderID, lineID: restockID, reason: "no variant_id, product_id or sku"))
                    continue
                }
                guard let version else {
                    throw PayloadError(
                        field: prefix + "created_at", message: "\(prefix)created_at must be an RFC 3339 timestamp")
                }
                let event = SaleEvent(
                    channel: .shopify, listingID: listing, orderID: orderID, lineID: restockID, quantity: -quantity,
                    version: version)
                try check(event, path: path)
                delivery.lines.append(ChannelLine(event: event))
            }
        }
    }

    struct OrderPayload {
        var id: String?
        var updatedAt: String?
        var lineItems: [LineItem] = []
        var refunds: [RefundPayload] = []

        static func read(_ scanner: inout JSONScanner) throws(PayloadError) -> OrderPayload {
            var order = OrderPayload()
            try scanner.fields { (scanner, key) throws(PayloadError) in
                if key.is("id") {
                    order.id = try scanner.identifier()
                } else if key.is("updated_at") {
                    order.updatedAt = try scanner.string()
                } else if key.is("line_items") {
                    try scanner.elements { (scanner, _) throws(PayloadError) in
                        order.lineItems.append(try LineItem.read(&scanner))
                    }
                } else if key.is("refunds") {
                    try scanner.elements { (scanner, _) throws(PayloadError) in
                        order.refunds.append(try RefundPayload.read(&scanner, standalone: false))
                    }
                }
            }
            return order
        }

        func events(names: Names, fallbackVersion: Int64?, into delivery: inout ChannelDelivery) throws(PayloadError) {
            guard let rawID = id else { throw PayloadError(field: "id", message: "id (the order id) is required") }
            let orderID = names.order(rawID)
            guard let version = updatedAt.flatMap(SourceVersion.parseTimestamp) ?? fallbackVersion else {
                throw PayloadError(
                    field: "updated_at",
                    message: "updated_at must be an RFC 3339 timestamp (or send X-Shopify-Triggered-At)")
            }
            var refunded: [String: Int64] = [:]
            for refund in refunds {
                for line in refund.lines {
                    if let lineItemID = line.lineItemID ?? line.lineItem?.id, let quantity = line.quantity {
                        refunded[lineItemID, default: 0] += quantity
                    }
                }
            }
            // Refund lines that do not embed their line item find it here.
            var byID: [String: LineItem] = [:]
            for (index, line) in lineItems.enumerated() {
                // Made only for an error: most lines have none.
                var path: String { "line_items[\(index)]" }
                guard let lineID = line.id else { throw PayloadError(field: path + ".id", message: "\(path).id is required") }
                if !refunds.isEmpty { byID[lineID] = line }
                guard let ordered = line.quantity else {
                    throw PayloadError(field: path + ".quantity", message: "\(path).quantity is required")
                }
                guard ordered >= 0, (line.currentQuantity ?? 0) >= 0 else {
                    let field = path + (ordered < 0 ? ".quantity" : ".current_quantity")
                    throw PayloadError(field: field, message: "\(field) must not be negative")
                }
                if line.giftCard {
                    delivery.skipped.append(SkippedLine(orderID: orderID, lineID: lineID, reason: "gift card"))
                    continue
                }
                guard let listing = names.listing(line) else {
                    delivery.skipped.append(SkippedLine(orderID: orderID, lineID: lineID, reason: "no variant_id, product_id or sku"))
                    continue
                }
                let held: Int64
                if let current = line.currentQuantity {
                    let (sum, overflow) = current.addingReportingOverflow(refunded[lineID] ?? 0)
                    held = overflow ? Int64.max : sum
                } else {
                    held = ordered
                }
                let event = SaleEvent(
                    channel: .shopify, listingID: listing, orderID: orderID, lineID: lineID, quantity: max(held, 0),
                    version: version)
                try check(event, path: path)
                // A product id groups several variants, so only variant and SKU listings map themselves.
                let sku = line.variantID != nil || line.productID == nil ? line.sku : nil
                delivery.lines.append(ChannelLine(event: event, sku: sku.flatMap { $0.isEmpty ? nil : $0 }))
            }
            for (index, refund) in refunds.enumerated() {
                try refund.events(
                    orderID: orderID, lineItems: byID, names: names, fallbackVersion: version, field: "refunds[\(index)]",
                    into: &delivery)
            }
        }
    }

    struct EditPayload {
        var orderID: String?
        var createdAt: String?
        var committedAt: String?
        var changes: [(id: String?, delta: Int64?, sign: Int64, field: String)] = []

        static func read(_ scanner: inout JSONScanner) throws(PayloadError) -> EditPayload {
            var edit = EditPayload()
            var sawEdit = false
            try scanner.fields { (scanner, key) throws(PayloadError) in
                guard key.is("order_edit") else { return }
                sawEdit = true
                try scanner.fields { (scanner, key) throws(PayloadError) in
                    if key.is("order_id") {
                        edit.orderID = try scanner.identifier()
                    } else if key.is("created_at") {
                        edit.createdAt = try scanner.string()
                    } else if key.is("committed_at") {
                        edit.committedAt = try scanner.string()
                    } else if key.is("line_items") {
                        try scanner.fields { (scanner, key) throws(PayloadError) in
                            let sign: Int64
                            let name: String
                            if key.is("additions") {
                                (sign, name) = (1, "additions")
                            } else if key.is("removals") {
                                (sign, name) = (-1, "removals")
                            } else {
                                return
                            }
                            try scanner.elements { (scanner, index) throws(PayloadError) in
                                var id: String?
                                var delta: Int64?
                                try scanner.fields { (scanner, key) throws(PayloadError) in
                                    if key.is("id") {
                                        id = try scanner.identifier()
                                    } else if key.is("delta") {
                                        delta = try scanner.integer()
                                    }
                                }
                                edit.changes.append((id, delta, sign, "order_edit.line_items.\(name)[\(index)]"))
                            }
                        }
                    }
                }
            }
            guard sawEdit else { throw PayloadError(field: "order_edit", message: "order_edit is required") }
            return edit
        }

        func adjustments(names: Names, fallbackVersion: Int64?, into delivery: inout ChannelDelivery) throws(PayloadError) {
            guard let rawOrder = orderID else {
                throw PayloadError(field: "order_edit.order_id", message: "order_edit.order_id is required")
            }
            guard let version = (committedAt ?? createdAt).flatMap(SourceVersion.parseTimestamp) ?? fallbackVersion else {
                throw PayloadError(field: "order_edit.committed_at", message: "order_edit.committed_at must be an RFC 3339 timestamp")
            }
            let orderID = names.order(rawOrder)
            for change in changes {
                guard let id = change.id, Limits.validateID(id, field: "id") == nil else {
                    throw PayloadError(field: change.field + ".id", message: "\(change.field).id is required")
                }
                guard let delta = change.delta, delta >= 0, delta <= Limits.maxLineQuantity else {
                    throw PayloadError(
                        field: change.field + ".delta", message: "\(change.field).delta must be a whole number from 0 to \(Limits.maxLineQuantity)")
                }
                delivery.adjustments.append(
                    LineAdjustment(channel: .shopify, orderID: orderID, lineID: id, delta: change.sign * delta, version: version))
            }
        }
    }

    static func check(_ event: SaleEvent, path: @autoclosure () -> String) throws(PayloadError) {
        if let problem = event.validate(allowingReleases: true) {
            let path = path()
            let field: String
            switch problem.field {
            case "order_id": field = "id"
            case "line_id", "listing_id": field = path + ".id"
            default: field = path + "." + problem.field
            }
            throw PayloadError(field: field, message: "\(field): \(problem.message)")
        }
    }
}
