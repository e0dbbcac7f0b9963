/// A relative change to an order line the ledger already holds, as channels describe an order
/// edit ("two units of line 7 removed") without restating the line.
public struct LineAdjustment: Sendable, Hashable {
    public var channel: Channel
    public var orderID: String
    public var lineID: String
    /// Units added (positive) or removed (negative).
    public var delta: Int64
    /// Source version of the change; the line's own version must be older for it to apply.
    public var version: Int64

    public init(channel: Channel, orderID: String, lineID: String, delta: Int64, version: Int64) {
        self.channel = channel
        self.orderID = orderID
        self.lineID = lineID
        self.delta = delta
        self.version = version
    }
}

/// The state of one order line.
public struct LineState: Sendable, Hashable {
    public var listing: ListingKey
    public var quantity: Int64
    public var version: Int64
}

extension Ledger {
    /// The line as the writer sees it, staged changes included; nil if unknown or expired.
    public func line(channel: Channel, orderID: String, lineID: String) -> LineState? {
        keyScratch.writeLineKey(channel, orderID, lineID)
        guard let index = lines.find(keyScratch.bytes, hash: LineTable.hash(keyScratch.bytes)), lines[index].live else {
            return nil
        }
        let record = lines[index]
        return LineState(
            listing: listings[consumptionInfo[Int(record.consumption)].listing], quantity: Int64(record.quantity),
            version: record.version)
    }

    /// Applies a relative change as the upsert it implies: the line's quantity plus `delta`
    /// (never below zero) at the adjustment's version. An adjustment no newer than the line is
    /// already reflected in it: `duplicate` at the same version, `stale` at an older one, and
    /// nothing changes. Returns nil when the line is unknown (the channel's next full order
    /// update carries it).
    public func adjust(_ adjustment: LineAdjustment, now: UInt32) -> (event: SaleEvent, outcome: EventOutcome)? {
        guard let state = line(channel: adjustment.channel, orderID: adjustment.orderID, lineID: adjustment.lineID) else {
            return nil
        }
        var event = SaleEvent(
            channel: adjustment.channel, listingID: state.listing.listingID, orderID: adjustment.orderID,
            lineID: adjustment.lineID, quantity: state.quantity, version: adjustment.version)
        if adjustment.version <= state.version {
            return (event, EventOutcome(adjustment.version == state.version ? .duplicate : .stale))
        }
        let target = state.quantity.addingReportingOverflow(adjustment.delta)
        event.quantity = target.overflow ? Limits.maxLineQuantity : min(max(target.partialValue, 0), Limits.maxLineQuantity)
        return (event, apply(validated: event, now: now))
    }
}

extension Ledger {
    /// Whether the listing has a map, staged changes included.
    public func isMapped(_ key: ListingKey) -> Bool {
        guard let listing = listings[key] else { return false }
        return mappings[safe: listing] != nil
    }

    /// How many events wait for this listing's map, staged changes included.
    public func parkedCount(_ key: ListingKey) -> Int {
        guard let listing = listings[key] else { return 0 }
        return parked[listing]?.count ?? 0
    }

    /// The locations where an item has a stock row, staged changes included, in the order the
    /// rows were made.
    public func stockLocations(itemID: String) -> [String] {
        guard let item = items[itemID], Int(item) < itemRows.count else { return [] }
        return itemRows[Int(item)].map { locations[rowLocation[Int($0)]] }
    }

    /// Committed parked events per listing, most first.
    public func parkedSummary() -> [(listing: ListingKey, events: Int, oldestVersion: Int64)] {
        parked.map { listing, events in
            (listings[listing], events.count, events.map(\.version).min() ?? 0)
        }.sorted { $0.events != $1.events ? $0.events > $1.events : ($0.listing.channel, $0.listing.listingID) < ($1.listing.channel, $1.listing.listingID) }
    }
}
