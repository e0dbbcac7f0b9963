/// The in-memory stock ledger: stock per item × location, the listing map, allocation rules,
/// order-line state and the nets not yet synced to Zoho.
///
/// A `Ledger` is single-threaded and does no I/O. Changes are staged in batches: a writer calls
/// `beginBatch()`, applies changes (with savepoints to undo part of a batch), reads the staged
/// changes through `changes` to persist them, then either `commitBatch()` (the changes become
/// visible to the read methods) or `rollbackBatch()` (as if nothing happened). Reads always see
/// committed state only.
public final class Ledger {
    /// Settings of the ledger.
    public struct Configuration: Sendable {
        /// How long an order line's state is kept after its last change, in seconds.
        public var lineRetention: UInt32
        /// Expected number of order lines, to size the line table up front (see also
        /// `commitLineStorage()`).
        public var expectedLines: Int

        public init(lineRetention: UInt32 = 120 * 86_400, expectedLines: Int = 1024) {
            self.lineRetention = lineRetention
            self.expectedLines = expectedLines
        }
    }

    public let configuration: Configuration

    // Names.
    var items = Interner<String>()
    var locations = Interner<String>()
    var listings = Interner<ListingKey>()
    /// Listing ids by the bytes `channel, listing id`, for the hot path.
    var listingIndex = ByteKeyIndex()

    // Stock rows: the writer's working figures and the committed figures readers see.
    var rowStates: ContiguousArray<RowState> = []
    var rowItem: ContiguousArray<UInt32> = []
    var rowLocation: ContiguousArray<UInt32> = []
    var rowIndex: [UInt64: UInt32] = [:]
    var itemRows: ContiguousArray<[UInt32]> = []
    var netRows: [UInt32] = []

    // Listing maps and rules: the writer's and the committed copies.
    var mappings: ContiguousArray<Mapping?> = []
    var publishedMappings: ContiguousArray<Mapping?> = []
    var rules: [RuleKey: Rule] = [:]
    var publishedRules: [RuleKey: Rule] = [:]
    /// Each channel's default rule (by raw value), and whether any listing has its own rule.
    var channelRules: [Rule?] = Array(repeating: nil, count: 8)
    var hasListingRules = false

    // Order lines and what they consume.
    var lines: LineTable
    var consumptions: ContiguousArray<Consumption> = []
    var consumptionIndex: [Consumption: UInt32] = [:]
    /// The consumptions' parts in one flat array, for the hot path.
    var consumptionInfo: ContiguousArray<ConsumptionInfo> = []
    var consumptionParts: ContiguousArray<RowPart> = []
    /// Per listing, the consumption used at each of its locations (`UInt32.max`: none yet);
    /// reset when the listing's map changes.
    var mappingConsumptions: ContiguousArray<[UInt32]> = []
    /// Per listing, the short route the hot path places new lines by; reset with the map.
    var routes: ContiguousArray<ListingRoute> = []
    /// False to place every new line through the general path (tests compare the two).
    var routesEnabled = true
    /// Per channel (by raw value), whether its default rule names locations.
    var channelRuleOrdersLocations: [Bool] = Array(repeating: false, count: 8)

    /// Restock lines by the order line whose units they give back (both as line keys), so that
    /// what they give back together can be held to what that line holds. Made as restock lines
    /// are applied or restored; an entry whose line is rolled back or expired counts for nothing.
    var restockLines: [[UInt8]: [[UInt8]]] = [:]

    // Events waiting for a listing map, by listing.
    var parked: [UInt32: [SaleEvent]] = [:]
    var parkedTotal = 0

    // The batch being staged.
    var undo: [UndoEntry] = []
    var touchedRows: [UInt32] = []
    var adminChanges = false
    var stagedConflicts: [SaleEvent] = []
    var batchOversells = 0
    var inBatch = false
    var expiryCursor = 0
    /// The batch apply's view of the events ahead, a ring.
    var ahead: ContiguousArray<Ahead> = []
    /// Key buffers of the events in the ring: listing key at `2 × slot`, line key after it.
    var aheadKeys: [ScratchBytes] = []
    var keyScratch = ScratchBytes(capacity: 2 * Limits.maxIDLength + 2)
    var listingScratch = ScratchBytes(capacity: Limits.maxIDLength + 1)

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.lines = LineTable(capacity: configuration.expectedLines)
    }

    deinit {
        keyScratch.free()
        listingScratch.free()
        for keys in aheadKeys { keys.free() }
    }

    // MARK: Batches

    /// A point in the current batch to roll back to.
    public struct Savepoint: Sendable {
        let undoCount: Int
        let conflictCount: Int
        let oversells: Int
        let touchedRowCount: Int
    }

    /// Makes the staged changes up to a savepoint visible to readers and forgets how to undo
    /// them, while what was staged after it stays staged. Savepoints taken later must be rebased
    /// with `rebase(_:after:)`.
    public func commitPrefix(through savepoint: Savepoint) {
        precondition(inBatch, "no batch is being staged")
        for row in touchedRows[..<savepoint.touchedRowCount] {
            rowStates[Int(row)].published = rowStates[Int(row)].working
            rowStates[Int(row)].exists = true
        }
        if adminChanges {
            for entry in undo[..<savepoint.undoCount] {
                switch entry {
                case .mapping(let listing, _):
                    publishedMappings[Int(listing)] = mappings[Int(listing)]
                case .rule(let key, _):
                    publishedRules[key] = rules[key]
                default:
                    break
                }
            }
        }
        undo.removeFirst(savepoint.undoCount)
        touchedRows.removeFirst(savepoint.touchedRowCount)
        stagedConflicts.removeFirst(savepoint.conflictCount)
        batchOversells -= savepoint.oversells
    }

    /// A savepoint taken after `prefix`, as it stands once `prefix` is committed.
    public func rebase(_ savepoint: Savepoint, after prefix: Savepoint) -> Savepoint {
        Savepoint(
            undoCount: savepoint.undoCount - prefix.undoCount,
            conflictCount: savepoint.conflictCount - prefix.conflictCount,
            oversells: savepoint.oversells - prefix.oversells,
            touchedRowCount: savepoint.touchedRowCount - prefix.touchedRowCount)
    }

    /// Oversells staged between two savepoints.
    public func oversells(from start: Savepoint, to end: Savepoint) -> Int { end.oversells - start.oversells }

    /// True while a batch is being staged.
    public var isStaging: Bool { inBatch }

    /// Starts staging a batch.
    public func beginBatch() {
        precondition(!inBatch, "a batch is already being staged")
        inBatch = true
        undo.removeAll(keepingCapacity: true)
        touchedRows.removeAll(keepingCapacity: true)
        stagedConflicts.removeAll(keepingCapacity: true)
        batchOversells = 0
        adminChanges = false
    }

    public func savepoint() -> Savepoint {
        Savepoint(
            undoCount: undo.count, conflictCount: stagedConflicts.count, oversells: batchOversells,
            touchedRowCount: touchedRows.count)
    }

    /// Undoes everything staged since the savepoint.
    public func rollback(to savepoint: Savepoint) {
        while undo.count > savepoint.undoCount {
            revert(undo.removeLast())
        }
        stagedConflicts.removeSubrange(savepoint.conflictCount...)
        touchedRows.removeSubrange(savepoint.touchedRowCount...)
        batchOversells = savepoint.oversells
    }

    /// Undoes the whole batch.
    public func rollbackBatch() {
        precondition(inBatch, "no batch is being staged")
        rollback(to: Savepoint(undoCount: 0, conflictCount: 0, oversells: 0, touchedRowCount: 0))
        inBatch = false
    }

    /// Makes the staged changes visible to readers.
    public func commitBatch() {
        commitPrefix(through: savepoint())
        inBatch = false
        if lines.deadCount > 1024 && lines.deadCount * 4 > lines.records.count {
            lines.compact()
            expiryCursor = 0
        }
    }

    /// Oversells caused by the staged batch: sales that took a row's available below zero.
    public var stagedOversells: Int { batchOversells }

    /// True when the staged batch changes nothing.
    public var batchIsEmpty: Bool { undo.isEmpty && stagedConflicts.isEmpty }

    func revert(_ entry: UndoEntry) {
        switch entry {
        case .lineInserted(let index):
            var record = lines[index]
            record.live = false
            lines[index] = record
        case .lineChanged(let index, let old), .lineExpired(let index, let old):
            lines[index] = old
        case .row(let row, let old):
            rowStates[Int(row)].working = old
            noteNet(row)
        case .mapping(let listing, let old):
            mappings[Int(listing)] = old
            forgetConsumptions(listing)
        case .rule(let key, let old):
            rules[key] = old
            refreshRuleShortcuts()
        case .parked(let listing):
            parked[listing]?.removeLast()
            if parked[listing]?.isEmpty == true { parked[listing] = nil }
            parkedTotal -= 1
        case .parkedCleared(let listing, let events):
            parked[listing] = events
            parkedTotal += events.count
        case .consumptionAdded(let index):
            let consumption = consumptions.removeLast()
            precondition(Int(index) == consumptions.count)
            if consumptionIndex[consumption] == index { consumptionIndex[consumption] = nil }
            let info = consumptionInfo.removeLast()
            consumptionParts.removeSubrange(Int(info.partsStart)...)
            if Int(info.listing) < routes.count { routes[Int(info.listing)].forget(index) }
        }
    }

    /// Resets the consumptions cached for a listing whose map changes.
    func forgetConsumptions(_ listing: UInt32) {
        while mappingConsumptions.count <= Int(listing) { mappingConsumptions.append([]) }
        let count = mappings[safe: listing]?.locations.count ?? 0
        mappingConsumptions[Int(listing)] = Array(repeating: .max, count: count)
        while routes.count <= Int(listing) { routes.append(ListingRoute()) }
        routes[Int(listing)] = ListingRoute(mappings[safe: listing])
    }

    /// Interns a listing in both the name table and the byte index.
    func internListing(_ key: ListingKey) -> UInt32 {
        if let id = listings[key] { return id }
        let id = listings.intern(key)
        listingScratch.writeListingKey(key.channel, key.listingID)
        let indexed = listingIndex.insert(listingScratch.bytes, hash: LineTable.hash(listingScratch.bytes))
        precondition(indexed == id, "listing indexes out of step")
        return id
    }

    /// Keeps the per-channel rule shortcuts in step with `rules`.
    func refreshRuleShortcuts() {
        for channel in Channel.allCases {
            channelRules[Int(channel.rawValue)] = rules[.channelDefault(channel)]
            channelRuleOrdersLocations[Int(channel.rawValue)] = rules[.channelDefault(channel)]?.locations.isEmpty == false
        }
        hasListingRules = rules.keys.contains { $0.listing != .max }
    }

    /// The rule in force for a listing on a channel, as the writer sees it.
    @inline(__always)
    func writerRule(channel: Channel, listing: UInt32) -> Rule? {
        if hasListingRules, let rule = rules[RuleKey(channel: channel, listing: listing)] { return rule }
        return channelRules[Int(channel.rawValue)]
    }

    // MARK: Rows

    /// The row of an item at a location, created (empty) if missing.
    func row(item: UInt32, location: UInt32) -> UInt32 {
        let key = UInt64(item) << 32 | UInt64(location)
        if let row = rowIndex[key] { return row }
        let row = UInt32(rowStates.count)
        let capacity = rowStates.capacity
        rowStates.append(RowState())
        if rowStates.capacity != capacity { rowStates.adviseHugePages() }
        rowItem.append(item)
        rowLocation.append(location)
        rowIndex[key] = row
        while itemRows.count <= Int(item) { itemRows.append([]) }
        itemRows[Int(item)].append(row)
        return row
    }

    /// Changes a row's working figures, recording how to undo it.
    @inline(__always)
    func updateRow(_ row: UInt32, _ change: (inout StockFigures) -> Void) {
        let old = rowStates[Int(row)].working
        undo.append(.row(row, old))
        touchedRows.append(row)
        change(&rowStates[Int(row)].working)
        if rowStates[Int(row)].working.open != old.open { noteNet(row) }
    }

    @inline(__always)
    func noteNet(_ row: UInt32) {
        if !rowStates[Int(row)].netListed && rowStates[Int(row)].working.open != 0 {
            rowStates[Int(row)].netListed = true
            netRows.append(row)
        }
    }

    /// Number of item × location rows.
    public var rowCount: Int { rowStates.count }
    /// Number of live order lines.
    public var lineCount: Int { lines.liveCount }
    /// Number of events waiting for a listing map.
    public var parkedCount: Int { parkedTotal }
    /// Approximate bytes held by the order-line table.
    public var lineMemoryFootprint: Int { lines.memoryFootprint }
}

/// An item (or a bundle's components) with units per listing unit, and its locations.
struct Mapping: Hashable {
    var parts: [Part]
    var locations: [UInt32]
    var isBundle: Bool
    /// Row of each part at each location: `rows[location index * parts.count + part index]`.
    var rows: [UInt32]
}

/// Where a consumption's parts lie in the flat parts array.
struct ConsumptionInfo {
    var listing: UInt32
    var location: UInt32
    var partsStart: UInt32
    var partsCount: UInt32
    /// The first part, copied here so that a one-item consumption needs no other read.
    var firstRow: UInt32 = .max
    var firstUnits: Int32 = 0
}

struct Part: Hashable {
    var item: UInt32
    var units: Int32
}

/// What one unit of an order line consumes: rows and units per row, at the chosen location.
struct Consumption: Hashable {
    var listing: UInt32
    var location: UInt32
    var parts: [RowPart]
}

struct RowPart: Hashable {
    var row: UInt32
    var units: Int32
}

struct RuleKey: Hashable {
    var channel: Channel
    /// `UInt32.max` for the channel's default rule.
    var listing: UInt32

    static func channelDefault(_ channel: Channel) -> RuleKey { RuleKey(channel: channel, listing: .max) }
}

struct Rule {
    var rule: AllocationRule
    var locations: [UInt32]
}

enum UndoEntry {
    case lineInserted(UInt32)
    case lineChanged(UInt32, LineRecord)
    case lineExpired(UInt32, LineRecord)
    case row(UInt32, StockFigures)
    case mapping(UInt32, Mapping?)
    case rule(RuleKey, Rule?)
    case parked(UInt32)
    case parkedCleared(UInt32, [SaleEvent])
    case consumptionAdded(UInt32)
}

/// One item × location row: the writer's working figures beside the committed figures readers
/// see, so that a change, its net bookkeeping and its commit touch one place in memory.
struct RowState {
    var working = StockFigures()
    var published = StockFigures()
    /// True once the row has been committed.
    var exists = false
    /// True while the row is in `netRows`.
    var netListed = false
}
