extension Ledger {
    /// Sets a listing's map, then replays the events parked for it, in the order they arrived.
    /// A replayed event that no longer fits (its location is not on the new map) is `invalid`
    /// and kept with the conflicts for a person.
    ///
    /// - Returns: the outcome of each replayed event.
    public func upsertListing(_ map: ListingMap, now: UInt32) throws(ValidationProblem) -> [(SaleEvent, EventOutcome)] {
        precondition(inBatch, "upsertListing needs a batch")
        if let problem = map.validate() { throw problem }
        let (listing, mapping) = makeMapping(map)
        if mappings[Int(listing)] != mapping {
            undo.append(.mapping(listing, mappings[Int(listing)]))
            adminChanges = true
            mappings[Int(listing)] = mapping
            forgetConsumptions(listing)
        }
        guard let waiting = parked[listing] else { return [] }
        parked[listing] = nil
        parkedTotal -= waiting.count
        undo.append(.parkedCleared(listing, waiting))
        return waiting.map { event in
            // Parked events passed validation when they arrived (releases included).
            let outcome = event.validate(allowingReleases: true).map { EventOutcome(.invalid, problem: $0) }
                ?? apply(validated: event, now: now)
            if outcome.result == .invalid { stagedConflicts.append(event) }
            return (event, outcome)
        }
    }

    /// Interns a listing map's names and rows, making room for the listing in the map arrays.
    func makeMapping(_ map: ListingMap) -> (UInt32, Mapping) {
        let listing = internListing(map.key)
        let parts: [Part]
        switch map.target {
        case .item(let itemID):
            parts = [Part(item: items.intern(itemID), units: 1)]
        case .bundle(let components):
            parts = components.map { Part(item: items.intern($0.itemID), units: Int32($0.quantity)) }
        }
        let locationIDs = map.locations.map { locations.intern($0) }
        var mappingRows: [UInt32] = []
        mappingRows.reserveCapacity(locationIDs.count * parts.count)
        for location in locationIDs {
            for part in parts { mappingRows.append(row(item: part.item, location: location)) }
        }
        while mappings.count <= Int(listing) {
            mappings.append(nil)
            publishedMappings.append(nil)
        }
        return (listing, Mapping(parts: parts, locations: locationIDs, isBundle: map.isBundle, rows: mappingRows))
    }

    /// Sets the stock Zoho confirms for an item at a location.
    public func setOnHand(itemID: String, locationID: String, quantity: Int64) throws(ValidationProblem) {
        precondition(inBatch, "setOnHand needs a batch")
        try checkRowIDs(itemID: itemID, locationID: locationID)
        guard (-Limits.maxStock...Limits.maxStock).contains(quantity) else {
            throw ValidationProblem(field: "zoho_on_hand", message: "zoho_on_hand must be within ±\(Limits.maxStock)")
        }
        let row = row(item: items.intern(itemID), location: locations.intern(locationID))
        updateRow(row) { $0.zohoOnHand = quantity }
    }

    private func checkRowIDs(itemID: String, locationID: String) throws(ValidationProblem) {
        if let problem = Limits.validateID(itemID, field: "item_id") { throw problem }
        if let problem = Limits.validateID(locationID, field: "location_id") { throw problem }
    }

    /// Moves `zoho_on_hand` by `delta`: a change Zoho made itself (an adjustment entered there).
    public func adjustOnHand(itemID: String, locationID: String, delta: Int64) throws(ValidationProblem) {
        precondition(inBatch, "adjustOnHand needs a batch")
        try checkRowIDs(itemID: itemID, locationID: locationID)
        guard (-Limits.maxStock...Limits.maxStock).contains(delta) else {
            throw ValidationProblem(field: "quantity_adjusted", message: "quantity_adjusted must be within ±\(Limits.maxStock)")
        }
        let row = row(item: items.intern(itemID), location: locations.intern(locationID))
        let current = rowStates[Int(row)].working.zohoOnHand
        guard (-Limits.maxStock...Limits.maxStock).contains(current + delta) else {
            throw ValidationProblem(field: "quantity_adjusted", message: "zoho_on_hand would leave ±\(Limits.maxStock)")
        }
        updateRow(row) { $0.zohoOnHand = current + delta }
    }

    /// Units of an item at a location in flight to Zoho (sealed, outcome not recorded yet).
    public func inFlight(itemID: String, locationID: String) -> Int64 {
        guard let item = items[itemID], let location = locations[locationID],
            let row = rowIndex[UInt64(item) << 32 | UInt64(location)]
        else { return 0 }
        return rowStates[Int(row)].working.inFlight
    }

    /// Sets a channel's (or one listing's) allocation rule.
    public func setRule(_ rule: AllocationRule) throws(ValidationProblem) {
        precondition(inBatch, "setRule needs a batch")
        if let problem = rule.validate() { throw problem }
        let key = RuleKey(
            channel: rule.channel,
            listing: rule.listingID.map { internListing(ListingKey(channel: rule.channel, listingID: $0)) } ?? .max)
        let value = Rule(rule: rule, locations: rule.locations.map { locations.intern($0) })
        undo.append(.rule(key, rules[key]))
        adminChanges = true
        rules[key] = value
        refreshRuleShortcuts()
    }

    /// Forgets order lines whose last change is older than the retention. Stock is not touched:
    /// the sale happened; only the memory of its line goes.
    ///
    /// - Parameter limit: the most lines to look at in this call, so that batches stay small.
    /// - Returns: the number of lines expired.
    @discardableResult
    public func expireLines(now: UInt32, limit: Int = 100_000) -> Int {
        precondition(inBatch, "expireLines needs a batch")
        guard now > configuration.lineRetention else { return 0 }
        let cutoff = now - configuration.lineRetention
        let total = lines.records.count
        guard total > 0 else { return 0 }
        var expired = 0
        for _ in 0..<min(limit, total) {
            if expiryCursor >= total { expiryCursor = 0 }
            let index = UInt32(expiryCursor)
            expiryCursor += 1
            let record = lines[index]
            if record.live && record.touched < cutoff {
                undo.append(.lineExpired(index, record))
                var dead = record
                dead.live = false
                lines[index] = dead
                expired += 1
            }
        }
        return expired
    }
}
