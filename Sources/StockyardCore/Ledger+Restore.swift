/// Rebuilding a ledger from persisted state. Restored state is committed at once.
extension Ledger {
    public func restoreRow(itemID: String, locationID: String, figures: StockFigures) {
        let row = row(item: items.intern(itemID), location: locations.intern(locationID))
        rowStates[Int(row)].working = figures
        rowStates[Int(row)].published = figures
        rowStates[Int(row)].exists = true
        noteNet(row)
    }

    /// Restores a listing map as stored (it was validated when it was set).
    public func restoreListing(_ map: ListingMap) {
        precondition(!inBatch)
        let (listing, mapping) = makeMapping(map)
        mappings[Int(listing)] = mapping
        publishedMappings[Int(listing)] = mapping
        forgetConsumptions(listing)
    }

    public func restoreRule(_ rule: AllocationRule) {
        precondition(!inBatch)
        beginBatch()
        try? setRule(rule)
        commitBatch()
    }

    /// Restores a consumption at the index it was stored under.
    public func restoreConsumption(
        index: UInt32, listing: ListingKey, locationID: String, parts: [(itemID: String, units: Int64)]
    ) {
        let listingID = internListing(listing)
        let location = locations.intern(locationID)
        let consumption = Consumption(
            listing: listingID,
            location: location,
            parts: parts.map { RowPart(row: row(item: items.intern($0.itemID), location: location), units: Int32($0.units)) })
        while consumptions.count < Int(index) {
            // A gap (never referenced by a stored line): keep indices aligned.
            consumptions.append(Consumption(listing: .max, location: .max, parts: []))
            consumptionInfo.append(
                ConsumptionInfo(listing: .max, location: .max, partsStart: UInt32(consumptionParts.count), partsCount: 0))
        }
        if consumptions.count == Int(index) {
            if consumptionIndex[consumption] == nil { consumptionIndex[consumption] = index }
            _ = appendConsumption(consumption)
        }
    }

    public var consumptionCount: Int { consumptions.count }

    /// Starts fetching the table slot of a line about to be restored.
    public func prefetchLine(key: UnsafeRawBufferPointer) {
        lines.prefetchSlot(hash: LineTable.hash(key))
    }

    /// Restores a line from its stored key bytes. The consumption must be restored first.
    public func restoreLine(key: UnsafeRawBufferPointer, consumption: UInt32, quantity: Int32, version: Int64, touched: UInt32) {
        let hash = LineTable.hash(key)
        // The listing is left unknown (`UInt32.max`): looking it up in the consumptions would cost
        // a cache miss per line; the first change to the line reads it from there instead.
        let listing = UInt32.max
        if let index = lines.find(key, hash: hash) {
            lines.revive(index, listing: listing, consumption: consumption, quantity: quantity, version: version, touched: touched)
        } else {
            _ = lines.insert(
                key, hash: hash, listing: listing, consumption: consumption, quantity: quantity, version: version,
                touched: touched)
        }
        if quantity < 0 { noteRestockLine(key) }
    }

    public func restoreParked(_ listing: ListingKey, events: [SaleEvent]) {
        guard !events.isEmpty else { return }
        let id = internListing(listing)
        parked[id, default: []].append(contentsOf: events)
        parkedTotal += events.count
    }

    /// Has the kernel back the line table's reserved room with memory now, so that filling it
    /// takes no page faults on the writer. For the ledger that takes the writes, once it is
    /// loaded: it commits about 56 bytes for every line the table has room for.
    public func commitLineStorage() {
        lines.populate()
    }

    /// Reserves room for the expected number of lines.
    public func reserveLines(_ count: Int) {
        if lines.records.isEmpty && count > max(1024, configuration.expectedLines) {
            lines = LineTable(capacity: count)
        }
    }
}
