import PropertyBased
@testable import StockyardCore
import Testing

/// A webhook storm of any size, with any mix of duplicates, retries, reorderings and replays,
/// leaves exactly the stock that the set of distinct latest line states implies.
@Suite struct LedgerPropertyTests {
    // MARK: Model

    struct ListingSpec: Sendable {
        var channel: Channel
        var id: String
        var parts: [Part]
        var locations: [String]
        /// The map arrives during the storm: earlier events are parked.
        var late: Bool

        struct Part: Sendable {
            var item: String
            var units: Int64
        }

        var map: ListingMap {
            let target: ListingMap.Target =
                parts.count == 1
                ? .item(parts[0].item)
                : .bundle(parts.map { BundleComponent(itemID: $0.item, quantity: $0.units) })
            return ListingMap(channel: channel, listingID: id, target: target, locations: locations)
        }
    }

    static let items = ["I0", "I1", "I2", "I3"]
    static let locations = ["W1", "W2"]
    static let listings: [ListingSpec] = [
        ListingSpec(channel: .shopify, id: "S-1", parts: [.init(item: "I0", units: 1)], locations: ["W1"], late: false),
        ListingSpec(channel: .amazon, id: "A-1", parts: [.init(item: "I1", units: 1)], locations: ["W1", "W2"], late: false),
        ListingSpec(
            channel: .ebay, id: "E-B", parts: [.init(item: "I0", units: 2), .init(item: "I2", units: 1)],
            locations: ["W1", "W2"], late: false),
        ListingSpec(channel: .etsy, id: "T-1", parts: [.init(item: "I3", units: 1)], locations: ["W2", "W1"], late: true),
        ListingSpec(
            channel: .shopify, id: "S-B", parts: [.init(item: "I1", units: 1), .init(item: "I3", units: 3)],
            locations: ["W2", "W1"], late: false),
    ]

    struct State: Sendable, Hashable {
        var version: Int64
        var quantity: Int64
    }

    /// One order line and every state it passes through, by increasing version.
    struct LineSpec: Sendable {
        var listing: Int
        var order: String
        var line: String
        var states: [State]
    }

    enum Step: Sendable {
        case event(line: Int, state: Int)
        case mapLateListing
    }

    enum Fate: Sendable {
        case commit
        case rollback
        /// A savepoint after `keep` steps; the rest is rolled back, the batch committed.
        case partial(keep: Int)
    }

    struct Batch: Sendable {
        var steps: [Step]
        var fate: Fate
    }

    struct Scenario: Sendable {
        /// Zoho's figure per item × location, item-major.
        var onHand: [Int64]
        var lines: [LineSpec]
        var batches: [Batch]
    }

    static func scenario(onHand: [Int64], lineSeeds: [(Int, [Int], [Int64])], seed: UInt64) -> Scenario {
        // Lines: distinct keys; each version carries one quantity.
        let lines = lineSeeds.enumerated().map { index, seed in
            let versions = Array(Set(seed.1)).sorted()
            return LineSpec(
                listing: seed.0,
                order: "O-\(index % 7)",
                line: "\(index / 7)",
                states: versions.enumerated().map { State(version: Int64($1), quantity: seed.2[$0]) })
        }
        var rng = SplitMix(state: seed)

        // Every state once, the late map once, random duplicates; in random order.
        var queue: [Step] = []
        for (index, line) in lines.enumerated() {
            for state in line.states.indices { queue.append(.event(line: index, state: state)) }
        }
        for _ in 0..<Int.random(in: 0...queue.count, using: &rng) {
            let line = Int.random(in: lines.indices, using: &rng)
            queue.append(.event(line: line, state: Int.random(in: lines[line].states.indices, using: &rng)))
        }
        queue.append(.mapLateListing)
        queue.shuffle(using: &rng)

        var batches: [Batch] = []
        var failures = 0
        var replays = 0
        while !queue.isEmpty {
            let size = min(Int.random(in: 1...8, using: &rng), queue.count)
            let steps = Array(queue.prefix(size))
            queue.removeFirst(size)
            let roll = Int.random(in: 0..<8, using: &rng)
            let fate: Fate =
                failures >= 6 ? .commit
                : roll == 0 ? .rollback
                : roll == 1 ? .partial(keep: Int.random(in: 0..<steps.count, using: &rng))
                : .commit
            batches.append(Batch(steps: steps, fate: fate))
            // Rolled-back steps are retried later, as a marketplace retries an unanswered webhook.
            let retried: ArraySlice<Step>
            switch fate {
            case .commit: retried = []
            case .rollback: retried = steps[...]
            case .partial(let keep): retried = steps[keep...]
            }
            if !retried.isEmpty { failures += 1 }
            for step in retried {
                queue.insert(step, at: Int.random(in: 0...queue.count, using: &rng))
            }
            // Now and then a committed delivery is replayed in full.
            if case .commit = fate, replays < 4, Int.random(in: 0..<6, using: &rng) == 0 {
                replays += 1
                let at = Int.random(in: 0...queue.count, using: &rng)
                queue.insert(contentsOf: steps.filter { if case .event = $0 { true } else { false } }, at: at)
            }
        }
        return Scenario(onHand: onHand, lines: lines, batches: batches)
    }

    static let scenarios = zip(
        Gen.int64(in: 0...12).array(of: items.count * locations.count),
        zip(
            Gen.int(in: 0...(listings.count - 1)),
            Gen.int(in: 0...30).array(of: 1...4),
            Gen.int64(in: 0...6).array(of: 4)
        ).array(of: 1...30),
        Gen.uint64()
    ).map { value in
        scenario(onHand: value.0, lineSeeds: value.1, seed: value.2)
    }

    // MARK: Reference

    /// What the ledger's committed line state must be: per line, the state it holds.
    struct Reference {
        var held: [Int: State] = [:]
        var parked: [(line: Int, state: Int)] = []
        var mapped = false

        mutating func apply(_ line: Int, _ state: Int, in scenario: Scenario) -> EventResult {
            let spec = scenario.lines[line]
            if LedgerPropertyTests.listings[spec.listing].late && !mapped {
                parked.append((line, state))
                return .unmapped
            }
            let incoming = spec.states[state]
            if let current = held[line] {
                if incoming.version < current.version { return .stale }
                if incoming.version == current.version { return .duplicate }
            }
            held[line] = incoming
            return .applied
        }

        mutating func mapLate(in scenario: Scenario) -> [EventResult] {
            mapped = true
            let waiting = parked
            parked = []
            return waiting.map { apply($0.line, $0.state, in: scenario) }
        }

        /// Available stock per item implied by the held states.
        func available(in scenario: Scenario) -> [String: Int64] {
            LedgerPropertyTests.itemTotals(onHand: scenario.onHand, holding: held.map { (line: $0.key, quantity: $0.value.quantity) }, in: scenario)
        }
    }

    static func itemTotals(onHand: [Int64], holding: [(line: Int, quantity: Int64)], in scenario: Scenario) -> [String: Int64] {
        var totals: [String: Int64] = [:]
        for (itemIndex, item) in items.enumerated() {
            totals[item] = locations.indices.reduce(0) { $0 + onHand[itemIndex * locations.count + $1] }
        }
        for (line, quantity) in holding {
            for part in listings[scenario.lines[line].listing].parts {
                totals[part.item, default: 0] -= quantity * part.units
            }
        }
        return totals
    }

    static func event(_ line: Int, _ state: Int, in scenario: Scenario) -> SaleEvent {
        let spec = scenario.lines[line]
        let listing = listings[spec.listing]
        return SaleEvent(
            channel: listing.channel, listingID: listing.id, orderID: spec.order, lineID: spec.line,
            quantity: spec.states[state].quantity, version: spec.states[state].version)
    }

    static func committedTotals(_ ledger: Ledger) -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: items.map { ($0, ledger.itemAvailable($0)) })
    }

    // MARK: Properties

    @Test func stormLeavesTheLatestDistinctLineStates() async {
        await propertyCheck(count: 200, input: Self.scenarios) { scenario in
            try Self.run(scenario)
        }
    }

    static func run(_ scenario: Scenario) throws {
        let ledger = Ledger(configuration: .init(expectedLines: 1))  // the line table grows during the storm
        let late = try #require(listings.first(where: { $0.late }))
        try ledger.batch {
            for (itemIndex, item) in items.enumerated() {
                for (locationIndex, location) in locations.enumerated() {
                    try ledger.setOnHand(
                        itemID: item, locationID: location, quantity: scenario.onHand[itemIndex * locations.count + locationIndex])
                }
            }
            for listing in listings where !listing.late {
                _ = try ledger.upsertListing(listing.map, now: Fixture.now)
            }
            // A channel rule that reverses the warehouse priority for one channel.
            try ledger.setRule(AllocationRule(channel: .amazon, locations: ["W2", "W1"]))
        }

        var committed = Reference()
        #expect(committedTotals(ledger) == committed.available(in: scenario))

        for batch in scenario.batches {
            ledger.beginBatch()
            var working = committed
            var savepoint: Ledger.Savepoint?
            var saved = committed
            for (index, step) in batch.steps.enumerated() {
                if case .partial(let keep) = batch.fate, index == keep {
                    savepoint = ledger.savepoint()
                    saved = working
                }
                switch step {
                case .event(let line, let state):
                    let sale = event(line, state, in: scenario)
                    let outcome = ledger.apply(sale, now: Fixture.now)
                    let expected = working.apply(line, state, in: scenario)
                    #expect(outcome.result == expected, "\(sale)")
                case .mapLateListing:
                    let replayed = try ledger.upsertListing(late.map, now: Fixture.now)
                    let expected = working.mapLate(in: scenario)
                    #expect(replayed.map(\.1.result) == expected)
                }
            }
            #expect(ledger.stagedChanges().conflicts.isEmpty)
            // Staged work is invisible to reads.
            #expect(committedTotals(ledger) == committed.available(in: scenario))

            switch batch.fate {
            case .commit:
                ledger.commitBatch()
                committed = working
            case .rollback:
                ledger.rollbackBatch()
            case .partial:
                ledger.rollback(to: try #require(savepoint))
                ledger.commitBatch()
                committed = saved
            }
            #expect(committedTotals(ledger) == committed.available(in: scenario))
            #expect(ledger.parkedCount == committed.parked.count)
        }

        // Every state was delivered: the late map arrived and nothing is left parked.
        #expect(committed.mapped)
        #expect(ledger.parkedCount == 0)
        #expect(ledger.lineCount == scenario.lines.count)

        // The stock is what the latest state of every line implies, independent of delivery.
        let latest = scenario.lines.indices.map { (line: $0, quantity: scenario.lines[$0].states.last!.quantity) }
        let expected = itemTotals(onHand: scenario.onHand, holding: latest, in: scenario)
        #expect(committedTotals(ledger) == expected)
        #expect(ledger.totals().available == expected.values.reduce(0, +))
        let negativeRows = items.flatMap { ledger.stock(itemID: $0)?.locations ?? [] }.filter { $0.figures.available < 0 }
        #expect(ledger.totals().oversoldRows == negativeRows.count)

        // Every line holds exactly its latest state.
        ledger.beginBatch()
        for (index, line) in scenario.lines.enumerated() {
            let last = line.states.count - 1
            #expect(ledger.apply(event(index, last, in: scenario), now: Fixture.now).result == .duplicate)
            if last > 0 {
                #expect(ledger.apply(event(index, last - 1, in: scenario), now: Fixture.now).result == .stale)
            }
            var other = event(index, last, in: scenario)
            other.quantity += 1
            #expect(ledger.apply(other, now: Fixture.now).result == .conflict)
        }
        #expect(ledger.stagedChanges().conflicts.count == scenario.lines.count)
        ledger.rollbackBatch()
        #expect(committedTotals(ledger) == expected)
    }

    @Test func deliveryOrderDoesNotChangeTheStock() async {
        // The same scenario's states, delivered once in order and once in reverse, one batch each.
        await propertyCheck(count: 100, input: Self.scenarios) { scenario in
            var forward: [SaleEvent] = []
            for (index, line) in scenario.lines.enumerated() {
                for state in line.states.indices { forward.append(Self.event(index, state, in: scenario)) }
            }
            var totals: [[String: Int64]] = []
            for events in [forward, forward.reversed()] {
                let ledger = Ledger()
                try ledger.batch {
                    for (itemIndex, item) in Self.items.enumerated() {
                        for (locationIndex, location) in Self.locations.enumerated() {
                            try ledger.setOnHand(
                                itemID: item, locationID: location,
                                quantity: scenario.onHand[itemIndex * Self.locations.count + locationIndex])
                        }
                    }
                    for listing in Self.listings {
                        _ = try ledger.upsertListing(listing.map, now: Fixture.now)
                    }
                }
                let results = ledger.commitEvents(events)
                #expect(!results.contains(.invalid) && !results.contains(.conflict) && !results.contains(.unmapped))
                totals.append(Self.committedTotals(ledger))
            }
            #expect(totals[0] == totals[1])
        }
    }
}
