extension Ledger {
    /// Applies one sale event as an upsert of its order line.
    ///
    /// - Parameter now: seconds since 1970, recorded as the line's last change.
    public func apply(_ event: SaleEvent, now: UInt32) -> EventOutcome {
        precondition(inBatch, "apply needs a batch")
        if let problem = event.validate() {
            return EventOutcome(.invalid, problem: problem)
        }
        let listing = listings.intern(ListingKey(channel: event.channel, listingID: event.listingID))
        let quantity = Int32(event.quantity)

        buildLineKey(event)
        return keyScratch.withUnsafeBytes { key -> EventOutcome in
            let hash = LineTable.hash(key)
            let found = lines.find(key, hash: hash)
            if let index = found, lines[index].live {
                return update(index, event: event, listing: listing, quantity: quantity, now: now)
            }
            guard let mapping = mappings[safe: listing] else {
                park(event, listing: listing)
                return EventOutcome(.unmapped)
            }
            let location: UInt32
            switch chooseLocation(mapping, channel: event.channel, listing: listing, quantity: quantity, requested: event.locationID) {
            case .success(let chosen): location = chosen
            case .failure(let problem): return EventOutcome(.invalid, problem: problem)
            }
            let consumption = consumption(listing: listing, mapping: mapping, location: location)
            move(consumptions[Int(consumption)], lineUnits: -Int64(quantity))
            if let index = found {
                let old = lines[index]
                undo.append(.lineChanged(index, old))
                var record = old
                record.live = true
                record.consumption = consumption
                record.quantity = quantity
                record.version = event.version
                record.touched = now
                lines[index] = record
            } else {
                let index = lines.insert(
                    key, hash: hash, consumption: consumption, quantity: quantity,
                    version: event.version, touched: now)
                undo.append(.lineInserted(index))
            }
            return EventOutcome(.applied)
        }
    }

    private func update(
        _ index: UInt32, event: SaleEvent, listing: UInt32, quantity: Int32, now: UInt32
    ) -> EventOutcome {
        let old = lines[index]
        if event.version < old.version {
            return EventOutcome(.stale)
        }
        let current = consumptions[Int(old.consumption)]
        let sameListing = current.listing == listing
        if event.version == old.version {
            if sameListing && quantity == old.quantity {
                return EventOutcome(.duplicate)
            }
            stagedConflicts.append(event)
            return EventOutcome(.conflict)
        }
        var record = old
        if sameListing {
            move(current, lineUnits: Int64(old.quantity) - Int64(quantity))
        } else {
            guard let mapping = mappings[safe: listing] else {
                park(event, listing: listing)
                return EventOutcome(.unmapped)
            }
            let location: UInt32
            switch chooseLocation(mapping, channel: event.channel, listing: listing, quantity: quantity, requested: event.locationID) {
            case .success(let chosen): location = chosen
            case .failure(let problem): return EventOutcome(.invalid, problem: problem)
            }
            move(current, lineUnits: Int64(old.quantity))
            record.consumption = consumption(listing: listing, mapping: mapping, location: location)
            move(consumptions[Int(record.consumption)], lineUnits: -Int64(quantity))
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
    func move(_ consumption: Consumption, lineUnits: Int64) {
        guard lineUnits != 0 else { return }
        for part in consumption.parts {
            let delta = lineUnits * Int64(part.units)
            let before = rows[Int(part.row)].available
            updateRow(part.row) { $0.open += delta }
            if delta < 0 && before + delta < 0 {
                batchOversells += 1
            }
        }
    }

    private func buildLineKey(_ event: SaleEvent) {
        keyScratch.removeAll(keepingCapacity: true)
        keyScratch.append(event.channel.rawValue)
        keyScratch.append(contentsOf: event.orderID.utf8)
        keyScratch.append(0x1F)
        keyScratch.append(contentsOf: event.lineID.utf8)
    }

    /// The first eligible location that can serve the whole line, else the first eligible one.
    func chooseLocation(
        _ mapping: Mapping, channel: Channel, listing: UInt32, quantity: Int32, requested: String?
    ) -> Result<UInt32, ValidationProblem> {
        if requested == nil && mapping.locations.count == 1 {
            return .success(mapping.locations[0])
        }
        if let requested {
            guard let location = locations[requested], mapping.locations.contains(location) else {
                return .failure(
                    ValidationProblem(
                        field: "location_id",
                        message: "location_id \(requested) is not one of the listing's locations"))
            }
            return .success(location)
        }
        let candidates = eligibleLocations(mapping, rule: rules[RuleKey(channel: channel, listing: listing)] ?? rules[.channelDefault(channel)])
        for location in candidates {
            var fits = true
            for part in mapping.parts {
                let needed = Int64(quantity) * Int64(part.units)
                let key = UInt64(part.item) << 32 | UInt64(location)
                let available = rowIndex[key].map { rows[Int($0)].available } ?? 0
                if available < needed {
                    fits = false
                    break
                }
            }
            if fits { return .success(location) }
        }
        return .success(candidates[0])
    }

    /// The listing's locations allowed by the rule, in the rule's priority order when it names
    /// locations; the listing's own order (all of them) when it names none or none match.
    func eligibleLocations(_ mapping: Mapping, rule: Rule?) -> [UInt32] {
        guard let rule, !rule.locations.isEmpty else { return mapping.locations }
        let allowed = rule.locations.filter { mapping.locations.contains($0) }
        return allowed.isEmpty ? mapping.locations : allowed
    }

    func consumption(listing: UInt32, mapping: Mapping, location: UInt32) -> UInt32 {
        let cacheKey = UInt64(listing) << 32 | UInt64(location)
        if let cached = consumptionCache[cacheKey], Int(cached) < consumptions.count,
            consumptions[Int(cached)].listing == listing, consumptions[Int(cached)].location == location
        {
            return cached
        }
        var parts: [RowPart] = []
        parts.reserveCapacity(mapping.parts.count)
        for part in mapping.parts {
            parts.append(RowPart(row: row(item: part.item, location: location), units: part.units))
        }
        let consumption = Consumption(listing: listing, location: location, parts: parts)
        if let index = consumptionIndex[consumption] {
            consumptionCache[cacheKey] = index
            return index
        }
        let index = UInt32(consumptions.count)
        consumptionCache[cacheKey] = index
        consumptions.append(consumption)
        consumptionIndex[consumption] = index
        undo.append(.consumptionAdded(index))
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
