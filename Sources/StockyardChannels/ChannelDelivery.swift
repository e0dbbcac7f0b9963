import StockyardCore

/// What one webhook delivery asks of the ledger, once read and checked.
public struct ChannelDelivery: Sendable {
    /// What kind of notification it was.
    public enum Kind: Sendable, Hashable {
        /// Order lines to upsert (and adjustments to apply).
        case orders
        /// A notification that moves no stock but is worth counting (e.g. Amazon's MFN quantity change).
        case informational
        /// A topic or notification type Stockyard does not act on.
        case ignored
    }

    public var channel: Channel
    public var kind: Kind
    /// The topic or notification type, as the channel names it.
    public var topic: String
    /// The channel's id for this delivery (retries repeat it), for fast duplicate detection.
    public var deliveryID: String?
    /// Sale events to upsert, each already validated.
    public var lines: [ChannelLine]
    /// Relative line changes (order edits).
    public var adjustments: [LineAdjustment]
    /// Lines of the order that move no stock, with the reason (gift cards, refunds without restock).
    public var skipped: [SkippedLine]

    public init(
        channel: Channel, kind: Kind, topic: String, deliveryID: String? = nil, lines: [ChannelLine] = [],
        adjustments: [LineAdjustment] = [], skipped: [SkippedLine] = []
    ) {
        self.channel = channel
        self.kind = kind
        self.topic = topic
        self.deliveryID = deliveryID
        self.lines = lines
        self.adjustments = adjustments
        self.skipped = skipped
    }
}

/// One sale event read from a channel's payload.
public struct ChannelLine: Sendable, Hashable {
    public var event: SaleEvent
    /// The line's SKU, if the channel gave one: a listing with no map whose SKU names an item of
    /// the catalogue maps itself to that item.
    public var sku: String?

    public init(event: SaleEvent, sku: String? = nil) {
        self.event = event
        self.sku = sku
    }
}

/// A line of a payload that moves no stock.
public struct SkippedLine: Sendable, Hashable {
    public var orderID: String
    public var lineID: String
    public var reason: String

    public init(orderID: String, lineID: String, reason: String) {
        self.orderID = orderID
        self.lineID = lineID
        self.reason = reason
    }
}
