extension Ledger {
    /// Applies one sale event as an upsert of its order line.
    ///
    /// - Parameter now: seconds since 1970, recorded as the line's last change.
    public func apply(_ event: SaleEvent, now: UInt32) -> EventOutcome {
        if let problem = event.validate() {
            return EventOutcome(.invalid, problem: problem)
        }
        return apply(validated: event, now: now)
    }

    /// Applies an event that already passed `SaleEvent.validate()` (at the edge, off the writer's
    /// thread), skipping the byte-by-byte id checks; only the cheap bounds are checked again.
    /// A negative quantity is a release: the line gives units back (see
    /// `SaleEvent.validate(allowingReleases:)`).
    public func apply(validated event: SaleEvent, now: UInt32) -> EventOutcome {
        apply(validated: event, now: now, prepared: nil)
    }

    /// `apply(validated:now:)` with the listing's and the line's keys built and hashed already
    /// (the batch apply does, to fetch their slots ahead).
    @inline(never)
    func apply(validated event: SaleEvent, now: UInt32, prepared: PreparedKeys?) -> EventOutcome {
        precondition(inBatch, "apply needs a batch")
        guard event.quantity >= -Limits.maxLineQuantity, event.quantity <= Limits.maxLineQuantity, event.version >= 0,
            event.listingID.utf8.count <= Limits.maxIDLength, event.orderID.utf8.count <= Limits.maxIDLength,
            event.lineID.utf8.count <= Limits.maxIDLength
        else {
            return EventOutcome(.invalid, problem: event.validate(allowingReleases: true) ?? ValidationProblem(field: "event", message: "the event is invalid"))
        }
        let keys: PreparedKeys
        if let prepared {
            keys = prepared
        } else {
            listingScratch.writeListingKey(event.channel, event.listingID)
            keyScratch.writeLineKey(event.channel, event.orderID, event.lineID)
            keys = PreparedKeys(listingKey: listingScratch.bytes, lineKey: keyScratch.bytes)
        }
        let listing = listingIndex.find(keys.listingKey, hash: keys.listingHash)
            ?? internListing(ListingKey(channel: event.channel, listingID: event.listingID))
        let hash = keys.lineHash
        let quantity = Int32(event.quantity)
        let version = event.version
        // Sales hold units (quantity ≥ 0); only a release can be a restock line, and only a
        // mapped one is placed now (an unmapped one is parked and comes back here later).
        if quantity < 0, mappings[safe: listing] != nil, let refusal = checkRestock(event, lineKey: keys.lineKey) {
            return refusal
        }
        let found = lines.find(keys.lineKey, hash: hash)
        if let index = found, lines[index].live {
            return update(index, event: event, listing: listing, quantity: quantity, now: now)
        }
        let consumption: UInt32
        if let (routed, row) = route(listing, channel: event.channel, quantity: quantity, requested: event.locationID) {
            consumption = routed
            if row != .max {
                moveRow(row, delta: -Int64(quantity))
            } else {
                move(consumption, lineUnits: -Int64(quantity))
            }
        } else {
            guard let mapping = mappings[safe: listing] else {
                park(event, listing: listing)
                return EventOutcome(.unmapped)
            }
            switch chooseConsumption(mapping, channel: event.channel, listing: listing, quantity: quantity, requested: event.locationID) {
            case .success(let chosen): consumption = chosen
            case .failure(let problem): return EventOutcome(.invalid, problem: problem)
            }
            move(consumption, lineUnits: -Int64(quantity))
        }
        if let index = found {
            undo.append(.lineChanged(index, lines[index]))
            lines.revive(index, listing: listing, consumption: consumption, quantity: quantity, version: version, touched: now)
        } else {
            let index = lines.insert(
                keys.lineKey, hash: hash, listing: listing, consumption: consumption, quantity: quantity,
                version: version, touched: now)
            undo.append(.lineInserted(index))
        }
        if quantity < 0 { noteRestockLine(keys.lineKey) }
        return EventOutcome(.applied)
    }

    // MARK: Restock lines

    /// The order line a restock line gives units back to: `<line id>` of a line id
    /// `<line id>:restock:<refund line id>` (as the channel readers name them); nil for others.
    static func restockedLineID(_ lineID: UnsafeRawBufferPointer) -> Int? {
        let marker: StaticString = ":restock:"
        let count = marker.utf8CodeUnitCount
        guard lineID.count > count else { return nil }
        for start in 1...(lineID.count - count) where lineID[start] == 0x3A {
            var matches = true
            for offset in 1..<count where lineID[start + offset] != marker.utf8Start[offset] {
                matches = false
                break
            }
            if matches { return start }
        }
        return nil
    }

    /// The key of the order line a restock line's key gives units back to, or nil when the key is
    /// not a restock line's (`channel, order id, 0x1F, line id`).
    static func restockedLineKey(_ lineKey: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let separator = lineKey.firstIndex(of: 0x1F) else { return nil }
        let lineID = UnsafeRawBufferPointer(rebasing: lineKey[(separator + 1)...])
        guard let end = restockedLineID(lineID) else { return nil }
        return Array(lineKey[..<(separator + 1 + end)])
    }

    /// Refuses a restock line that would give back more units than its order line holds, less
    /// what that line's other restock lines give back: a refund never returns more than was
    /// sold. Such an event is a conflict: not applied, kept for a person (the conflicts list),
    /// and counted as one. Nil when the event may go on.
    func checkRestock(_ event: SaleEvent, lineKey: UnsafeRawBufferPointer) -> EventOutcome? {
        guard let parentKey = Self.restockedLineKey(lineKey) else { return nil }
        var allowance: Int64 = 0
        parentKey.withUnsafeBytes { key in
            if let parent = lines.find(key, hash: LineTable.hash(key)), lines[parent].live {
                allowance = Int64(lines[parent].quantity)
            }
        }
        for other in restockLines[parentKey] ?? [] where !other.elementsEqual(lineKey) {
            other.withUnsafeBytes { key in
                if let index = lines.find(key, hash: LineTable.hash(key)), lines[index].live {
                    allowance += Int64(lines[index].quantity)
                }
            }
        }
        guard -event.quantity > allowance else { return nil }
        stagedConflicts.append(event)
        return EventOutcome(
            .conflict,
            problem: ValidationProblem(
                field: "quantity",
                message: "the restock gives back \(-event.quantity) units; its order line holds \(max(0, allowance)) not given back yet"))
    }

    /// Remembers a restock line under the order line it gives units back to.
    func noteRestockLine(_ lineKey: UnsafeRawBufferPointer) {
        guard let parentKey = Self.restockedLineKey(lineKey) else { return }
        if restockLines[parentKey]?.contains(where: { $0.elementsEqual(lineKey) }) == true { return }
        restockLines[parentKey, default: []].append(Array(lineKey))
    }

    /// The consumption for a new line from the listing's route, with the row to move when it is
    /// a single item (`UInt32.max` otherwise); nil when the general path must decide.
    @inline(__always)
    private func route(_ listing: UInt32, channel: Channel, quantity: Int32, requested: String?) -> (UInt32, UInt32)? {
        guard routesEnabled, requested == nil, Int(listing) < routes.count else { return nil }
        let route = routes[Int(listing)]
        if route.locationCount == 1 {
            guard route.consumption0 != .max else { return nil }
            return (route.consumption0, route.row0)
        }
        guard route.locationCount == 2, route.singleItem, !hasListingRules,
            !channelRuleOrdersLocations[Int(channel.rawValue)]
        else { return nil }
        // The first location that can serve the whole line, else the first.
        let second = rowStates[Int(route.row0)].working.available < Int64(quantity)
            && rowStates[Int(route.row1)].working.available >= Int64(quantity)
        let consumption = second ? route.consumption1 : route.consumption0
        guard consumption != .max else { return nil }
        return (consumption, second ? route.row1 : route.row0)
    }

    private func update(
        _ index: UInt32, event: SaleEvent, listing: UInt32, quantity: Int32, now: UInt32
    ) -> EventOutcome {
        let old = lines[index]
        if event.version < old.version {
            return EventOutcome(.stale)
        }
        let oldListing = old.listing != .max ? old.listing : consumptionInfo[Int(old.consumption)].listing
        let sameListing = oldListing == listing
        if event.version == old.version {
            if sameListing && quantity == old.quantity {
                return EventOutcome(.duplicate)
            }
            stagedConflicts.append(event)
            return EventOutcome(.conflict)
        }
        var record = old
        record.listing = listing
        if sameListing {
            move(old.consumption, lineUnits: Int64(old.quantity) - Int64(quantity))
        } else {
            guard let mapping = mappings[safe: listing] else {
                park(event, listing: listing)
                return EventOutcome(.unmapped)
            }
            switch chooseConsumption(mapping, channel: event.channel, listing: listing, quantity: quantity, requested: event.locationID) {
            case .success(let chosen): record.consumption = chosen
            case .failure(let problem): return EventOutcome(.invalid, problem: problem)
            }
            move(old.consumption, lineUnits: Int64(old.quantity))
            move(record.consumption, lineUnits: -Int64(quantity))
        }
        undo.append(.lineChanged(index, old))
        record.quantity = quantity
        record.version = event.version
        record.touched = now
        lines[index] = record
        return EventOutcome(.applied)
    }

    /// Moves `lineUnits` listing units back into stock (negative: out of stock) at every row the
    /// consumption draws on.
    @inline(__always)
    func move(_ consumption: UInt32, lineUnits: Int64) {
        guard lineUnits != 0 else { return }
        let info = consumptionInfo[Int(consumption)]
        guard info.partsCount > 0 else { return }
        moveRow(info.firstRow, delta: lineUnits * Int64(info.firstUnits))
        for position in Int(info.partsStart + 1)..<Int(info.partsStart + info.partsCount) {
            let part = consumptionParts[position]
            moveRow(part.row, delta: lineUnits * Int64(part.units))
        }
    }

    /// Moves `delta` units into a row's open figure (negative: out of stock), counting an oversell
    /// when a sale takes the row's available below zero.
    @inline(__always)
    func moveRow(_ row: UInt32, delta: Int64) {
        guard delta != 0 else { return }
        let before = rowStates[Int(row)].working.available
        updateRow(row) { $0.open += delta }
        if delta < 0 && before + delta < 0 {
            batchOversells += 1
        }
    }

    /// The consumption for a new line: at the first eligible location that can serve the whole
    /// line, else at the first eligible one; or at the location the event names.
    func chooseConsumption(
        _ mapping: Mapping, channel: Channel, listing: UInt32, quantity: Int32, requested: String?
    ) -> Result<UInt32, ValidationProblem> {
        if let requested {
            guard let location = locations[requested], let slot = mapping.locations.firstIndex(of: location) else {
                return .failure(
                    ValidationProblem(
                        field: "location_id",
                        message: "location_id \(requested) is not one of the listing's locations"))
            }
            return .success(consumption(listing: listing, mapping: mapping, slot: slot))
        }
        if mapping.locations.count == 1 {
            return .success(consumption(listing: listing, mapping: mapping, slot: 0))
        }
        let rule = writerRule(channel: channel, listing: listing)
        if let rule, !rule.locations.isEmpty {
            // The rule names the eligible locations, in its priority order.
            var first: Int?
            for location in rule.locations {
                guard let slot = mapping.locations.firstIndex(of: location) else { continue }
                if first == nil { first = slot }
                if fits(mapping, slot: slot, quantity: quantity) {
                    return .success(consumption(listing: listing, mapping: mapping, slot: slot))
                }
            }
            if let first {
                return .success(consumption(listing: listing, mapping: mapping, slot: first))
            }
        }
        for slot in mapping.locations.indices where fits(mapping, slot: slot, quantity: quantity) {
            return .success(consumption(listing: listing, mapping: mapping, slot: slot))
        }
        return .success(consumption(listing: listing, mapping: mapping, slot: 0))
    }

    /// Whether every part of a line of `quantity` units is available at the mapping's location slot.
    private func fits(_ mapping: Mapping, slot: Int, quantity: Int32) -> Bool {
        let base = slot * mapping.parts.count
        for (index, part) in mapping.parts.enumerated() where rowStates[Int(mapping.rows[base + index])].working.available < Int64(quantity) * Int64(part.units) {
            return false
        }
        return true
    }

    /// The listing's locations allowed by the rule, in the rule's priority order when it names
    /// locations; the listing's own order (all of them) when it names none or none match.
    func eligibleLocations(_ mapping: Mapping, rule: Rule?) -> [UInt32] {
        guard let rule, !rule.locations.isEmpty else { return mapping.locations }
        let allowed = rule.locations.filter { mapping.locations.contains($0) }
        return allowed.isEmpty ? mapping.locations : allowed
    }

    /// The consumption of a listing at one of its location slots, made on first use.
    func consumption(listing: UInt32, mapping: Mapping, slot: Int) -> UInt32 {
        let location = mapping.locations[slot]
        if Int(listing) < mappingConsumptions.count, slot < mappingConsumptions[Int(listing)].count {
            let cached = mappingConsumptions[Int(listing)][slot]
            if cached != .max, Int(cached) < consumptionInfo.count, consumptionInfo[Int(cached)].listing == listing,
                consumptionInfo[Int(cached)].location == location
            {
                routes[Int(listing)].note(cached, slot: slot)
                return cached
            }
        }
        var parts: [RowPart] = []
        parts.reserveCapacity(mapping.parts.count)
        let base = slot * mapping.parts.count
        for (index, part) in mapping.parts.enumerated() {
            parts.append(RowPart(row: mapping.rows[base + index], units: part.units))
        }
        let index = addConsumption(Consumption(listing: listing, location: location, parts: parts), undoable: true)
        if Int(listing) < mappingConsumptions.count, slot < mappingConsumptions[Int(listing)].count {
            mappingConsumptions[Int(listing)][slot] = index
            routes[Int(listing)].note(index, slot: slot)
        }
        return index
    }

    /// Adds a consumption, or finds the same one already there.
    func addConsumption(_ consumption: Consumption, undoable: Bool) -> UInt32 {
        if let index = consumptionIndex[consumption] { return index }
        let index = appendConsumption(consumption)
        consumptionIndex[consumption] = index
        if undoable { undo.append(.consumptionAdded(index)) }
        return index
    }

    /// Appends a consumption at the next index, without looking for an equal one.
    func appendConsumption(_ consumption: Consumption) -> UInt32 {
        let index = UInt32(consumptions.count)
        consumptions.append(consumption)
        consumptionInfo.append(
            ConsumptionInfo(
                listing: consumption.listing, location: consumption.location,
                partsStart: UInt32(consumptionParts.count), partsCount: UInt32(consumption.parts.count),
                firstRow: consumption.parts.first?.row ?? .max, firstUnits: consumption.parts.first?.units ?? 0))
        consumptionParts.append(contentsOf: consumption.parts)
        return index
    }

    func park(_ event: SaleEvent, listing: UInt32) {
        parked[listing, default: []].append(event)
        parkedTotal += 1
        undo.append(.parked(listing))
    }
}

extension ContiguousArray where Element == Mapping? {
    subscript(safe index: UInt32) -> Mapping? {
        Int(index) < count ? self[Int(index)] : nil
    }
}
