import CStockyardPrefetch

/// An event's listing key and line key, built and hashed.
struct PreparedKeys {
    var listingKey: UnsafeRawBufferPointer
    var lineKey: UnsafeRawBufferPointer
    var listingHash: UInt64
    var lineHash: UInt64

    @inline(__always)
    init(listingKey: UnsafeRawBufferPointer, lineKey: UnsafeRawBufferPointer) {
        self.listingKey = listingKey
        self.lineKey = lineKey
        listingHash = LineTable.hash(listingKey)
        lineHash = LineTable.hash(lineKey)
    }
}

extension Ledger {
    /// How many events ahead the batch apply starts fetching an event's memory. At the full
    /// distance it fetches the listing's and the line's table slots; halfway, the listing's
    /// entry and route and the line's record that those slots point to; a quarter of the way,
    /// the line's key bytes and the stock rows the route names.
    static let lookahead = 8

    /// Applies events in order, each exactly as `apply(validated:now:)` does, stopping after the
    /// first invalid one. Meanwhile it fetches the memory that the events a few places ahead
    /// will read, so that their cache misses overlap instead of queueing one after another: a
    /// ledger with millions of lines misses the cache on nearly every table it reads.
    ///
    /// - Parameter outcomes: receives one outcome per event applied, the invalid one included,
    ///   appended in order.
    /// - Returns: the index (in `events`, which may be a slice) of the first invalid event, or nil.
    public func apply(validated events: ArraySlice<SaleEvent>, now: UInt32, outcomes: inout [EventOutcome]) -> Int? {
        events.withUnsafeBufferPointer { events in applyAhead(events, now: now, outcomes: &outcomes) }
            .map { events.startIndex + $0 }
    }

    /// The batch apply over a buffer, where events are read in place rather than copied.
    private func applyAhead(_ events: UnsafeBufferPointer<SaleEvent>, now: UInt32, outcomes: inout [EventOutcome]) -> Int? {
        let count = events.count
        guard count > 0 else { return nil }
        let distance = Self.lookahead
        if ahead.count < 2 * distance {
            ahead = ContiguousArray(repeating: Ahead(), count: 2 * distance)
            while aheadKeys.count < 4 * distance {
                aheadKeys.append(ScratchBytes(capacity: 2 * Limits.maxIDLength + 2))
            }
        }
        let ringMask = 2 * distance - 1
        for position in 0..<min(distance, count) {
            fetchSlots(events[position], into: position & ringMask)
        }
        for position in 0..<count {
            let far = position + distance
            if far < count { fetchSlots(events[far], into: far & ringMask) }
            let half = position + distance / 2
            if half < count { fetchEntries(half & ringMask) }
            let near = position + distance / 4
            if near < count { fetchRows(near & ringMask) }
            let outcome = apply(validated: events[position], now: now, prepared: ahead[position & ringMask].keys)
            outcomes.append(outcome)
            if outcome.result == .invalid { return position }
        }
        return nil
    }

    /// What the batch apply learned of an event ahead.
    struct Ahead {
        /// Nil when an id is too long (the event is invalid).
        var keys: PreparedKeys?
        /// The listing id and the line record its slots suggest (`UInt32.max`: none); guesses,
        /// only used to fetch.
        var listing: UInt32 = .max
        var record: UInt32 = .max
    }

    /// Builds and hashes an event's keys (in the ring's own buffers, which stay put until the
    /// event is applied) and fetches their table slots.
    @inline(never)
    private func fetchSlots(_ event: SaleEvent, into slot: Int) {
        guard event.listingID.utf8.count <= Limits.maxIDLength, event.orderID.utf8.count <= Limits.maxIDLength,
            event.lineID.utf8.count <= Limits.maxIDLength
        else {
            ahead[slot] = Ahead()
            return
        }
        aheadKeys[2 * slot].writeListingKey(event.channel, event.listingID)
        aheadKeys[2 * slot + 1].writeLineKey(event.channel, event.orderID, event.lineID)
        let keys = PreparedKeys(listingKey: aheadKeys[2 * slot].bytes, lineKey: aheadKeys[2 * slot + 1].bytes)
        listingIndex.prefetchSlot(hash: keys.listingHash)
        lines.prefetchSlot(hash: keys.lineHash)
        ahead[slot] = Ahead(keys: keys)
    }

    /// Fetches what an event's slots point to: the listing's entry and route, the line's record.
    @inline(__always)
    private func fetchEntries(_ slot: Int) {
        guard let keys = ahead[slot].keys else { return }
        if let listing = listingIndex.prefetchEntry(hash: keys.listingHash) {
            ahead[slot].listing = listing
            if Int(listing) < routes.count {
                routes.withUnsafeBufferPointer { stockyard_prefetch($0.baseAddress! + Int(listing)) }
            }
        }
        ahead[slot].record = lines.prefetchRecord(hash: keys.lineHash) ?? .max
    }

    /// Fetches the line's key bytes and the stock rows of the listing's route.
    @inline(__always)
    private func fetchRows(_ slot: Int) {
        if ahead[slot].record != .max { lines.prefetchKey(ahead[slot].record) }
        let listing = ahead[slot].listing
        guard Int(listing) < routes.count else { return }
        let route = routes[Int(listing)]
        rowStates.withUnsafeBufferPointer { rows in
            if Int(route.row0) < rows.count { stockyard_prefetch(rows.baseAddress! + Int(route.row0)) }
            if Int(route.row1) < rows.count { stockyard_prefetch(rows.baseAddress! + Int(route.row1)) }
        }
    }
}
