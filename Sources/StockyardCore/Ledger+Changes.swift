/// What the staged batch changed, for a store to persist before the batch is committed.
///
/// Each list names a thing once, in the order it was first changed; read its current (staged)
/// state through the ledger's accessors.
public struct StagedChanges: Sendable {
    public var lines: [UInt32] = []
    public var expiredLines: [UInt32] = []
    public var rows: [UInt32] = []
    public var consumptions: [UInt32] = []
    public var listings: [UInt32] = []
    public var rules: [AllocationRuleKey] = []
    /// Listings whose parked events changed: the store rewrites their whole list.
    public var parkedListings: [UInt32] = []
    public var conflicts: [SaleEvent] = []

    public var isEmpty: Bool {
        lines.isEmpty && expiredLines.isEmpty && rows.isEmpty && consumptions.isEmpty && listings.isEmpty
            && rules.isEmpty && parkedListings.isEmpty && conflicts.isEmpty
    }
}

/// Names one allocation rule: a channel's default, or one listing's.
public struct AllocationRuleKey: Sendable, Hashable {
    public var channel: Channel
    public var listingID: String?

    public init(channel: Channel, listingID: String? = nil) {
        self.channel = channel
        self.listingID = listingID
    }
}

extension Ledger {
    /// The things the staged batch changed.
    public func stagedChanges() -> StagedChanges {
        stagedChanges(since: Savepoint(undoCount: 0, conflictCount: 0, oversells: 0, touchedRowCount: 0))
    }

    /// The things changed since a savepoint of the staged batch.
    public func stagedChanges(since savepoint: Savepoint) -> StagedChanges {
        var changes = StagedChanges()
        var seenLines = Set<UInt32>()
        var seenRows = Set<UInt32>()
        var seenListings = Set<UInt32>()
        var seenRules = Set<RuleKey>()
        var seenParked = Set<UInt32>()
        for entry in undo[savepoint.undoCount...] {
            switch entry {
            case .lineInserted(let index), .lineChanged(let index, _), .lineExpired(let index, _):
                if seenLines.insert(index).inserted {
                    if lines[index].live {
                        changes.lines.append(index)
                    } else {
                        changes.expiredLines.append(index)
                    }
                }
            case .row(let row, _):
                if seenRows.insert(row).inserted { changes.rows.append(row) }
            case .mapping(let listing, _):
                if seenListings.insert(listing).inserted { changes.listings.append(listing) }
            case .rule(let key, _):
                if seenRules.insert(key).inserted {
                    changes.rules.append(
                        AllocationRuleKey(channel: key.channel, listingID: key.listing == .max ? nil : listings[key.listing].listingID))
                }
            case .parked(let listing), .parkedCleared(let listing, _):
                if seenParked.insert(listing).inserted { changes.parkedListings.append(listing) }
            case .consumptionAdded(let index):
                changes.consumptions.append(index)
            }
        }
        changes.conflicts = Array(stagedConflicts[savepoint.conflictCount...])
        return changes
    }

    /// The working state of a line.
    public func lineRecord(_ index: UInt32) -> LineRecord { lines[index] }

    /// The key bytes of a line: channel byte, order id, 0x1F, line id.
    public func withLineKey<R>(_ index: UInt32, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try lines.withKey(index, body)
    }

    /// The working figures of a row, with its item and location.
    public func row(_ row: UInt32) -> (itemID: String, locationID: String, figures: StockFigures) {
        (items[rowItem[Int(row)]], locations[rowLocation[Int(row)]], rowStates[Int(row)].working)
    }

    /// What a consumption draws on: its listing, location, and units per item.
    public func consumption(_ index: UInt32) -> (listing: ListingKey, locationID: String, parts: [(itemID: String, units: Int64)]) {
        let consumption = consumptions[Int(index)]
        return (
            listings[consumption.listing],
            locations[consumption.location],
            consumption.parts.map { (items[rowItem[Int($0.row)]], Int64($0.units)) }
        )
    }

    /// The working map of a listing (nil when it has none).
    public func listing(_ listing: UInt32) -> (key: ListingKey, map: ListingMap?) {
        let key = listings[listing]
        return (key, mappings[safe: listing].map { listingMap(key, $0) })
    }

    /// The working rule under a key (nil when none is set).
    public func rule(_ key: AllocationRuleKey) -> AllocationRule? {
        let listing: UInt32
        if let listingID = key.listingID {
            guard let id = listings[ListingKey(channel: key.channel, listingID: listingID)] else { return nil }
            listing = id
        } else {
            listing = .max
        }
        return rules[RuleKey(channel: key.channel, listing: listing)]?.rule
    }

    /// The events parked for a listing, in arrival order.
    public func parkedEvents(_ listing: UInt32) -> (key: ListingKey, events: [SaleEvent]) {
        (listings[listing], parked[listing] ?? [])
    }
}
