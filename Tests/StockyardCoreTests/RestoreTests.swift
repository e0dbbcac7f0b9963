import PropertyBased
@testable import StockyardCore
import Testing

/// A ledger rebuilt from what its batches staged for storage serves the same figures, and
/// answers later events the same way, as the ledger that wrote them.
@Suite struct RestoreTests {
    /// Persists staged changes the way a store does, and rebuilds a ledger from them.
    final class Store {
        var rows: [String: (item: String, location: String, figures: StockFigures)] = [:]
        var listings: [ListingKey: ListingMap] = [:]
        var rules: [AllocationRuleKey: AllocationRule] = [:]
        var consumptions: [UInt32: (listing: ListingKey, locationID: String, parts: [(itemID: String, units: Int64)])] = [:]
        var lines: [[UInt8]: LineRecord] = [:]
        var parked: [ListingKey: [SaleEvent]] = [:]

        /// Records the staged batch; call before committing it.
        func persist(_ ledger: Ledger) {
            let changes = ledger.stagedChanges()
            for row in changes.rows {
                let (item, location, figures) = ledger.row(row)
                rows["\(item)\u{1F}\(location)"] = (item, location, figures)
            }
            for index in changes.lines {
                lines[ledger.withLineKey(index) { Array($0) }] = ledger.lineRecord(index)
            }
            for index in changes.expiredLines {
                lines[ledger.withLineKey(index) { Array($0) }] = nil
            }
            for index in changes.consumptions {
                consumptions[index] = ledger.consumption(index)
            }
            for listing in changes.listings {
                let (key, map) = ledger.listing(listing)
                listings[key] = map
            }
            for key in changes.rules {
                rules[key] = ledger.rule(key)
            }
            for listing in changes.parkedListings {
                let (key, events) = ledger.parkedEvents(listing)
                parked[key] = events.isEmpty ? nil : events
            }
        }

        /// A fresh ledger rebuilt from the stored state, in the order a store loads it.
        func load(configuration: Ledger.Configuration = .init()) -> Ledger {
            let ledger = Ledger(configuration: configuration)
            for (item, location, figures) in rows.values {
                ledger.restoreRow(itemID: item, locationID: location, figures: figures)
            }
            for map in listings.values { ledger.restoreListing(map) }
            for rule in rules.values { ledger.restoreRule(rule) }
            for (index, consumption) in consumptions.sorted(by: { $0.key < $1.key }) {
                ledger.restoreConsumption(
                    index: index, listing: consumption.listing, locationID: consumption.locationID, parts: consumption.parts)
            }
            for (key, record) in lines {
                key.withUnsafeBytes {
                    ledger.restoreLine(
                        key: $0, consumption: record.consumption, quantity: record.quantity, version: record.version,
                        touched: record.touched)
                }
            }
            for (key, events) in parked { ledger.restoreParked(key, events: events) }
            return ledger
        }
    }

    /// Everything readers can see, in a comparable form.
    struct View: Equatable {
        var stock: [ItemStock?]
        var sellable: [Int64?]
        var maps: [ListingMap?]
        var totals: Int64
        var oversold: Int
        var rules: [AllocationRule]
        var nets: [String: Int64]
        var parked: Int
        var lines: Int

        init(_ ledger: Ledger, items: [String], listings: [ListingKey]) {
            stock = items.map { ledger.stock(itemID: $0) }
            sellable = listings.map { ledger.sellable($0) }
            maps = listings.map { ledger.listingMap($0) }
            totals = ledger.totals().available
            oversold = ledger.totals().oversoldRows
            rules = ledger.allocationRules()
            nets = Dictionary(uniqueKeysWithValues: ledger.openNets().map { ("\($0.itemID)@\($0.locationID)", $0.quantity) })
            parked = ledger.parkedCount
            lines = ledger.lineCount
        }
    }

    /// Runs a batch on the writer, persisting it before commit.
    @discardableResult
    func batch<T>(_ ledger: Ledger, _ store: Store, _ body: () throws -> T) rethrows -> T {
        ledger.beginBatch()
        let result = try body()
        store.persist(ledger)
        ledger.commitBatch()
        return result
    }

    @Test func rebuiltLedgerServesTheSameFiguresAndAnswers() throws {
        let store = Store()
        let ledger = Ledger(configuration: .init(lineRetention: 100))
        let items = ["ITEM-1", "ITEM-2", "MUG", "TEA"]
        let keys = [
            ListingKey(channel: .shopify, listingID: "L-1"), ListingKey(channel: .amazon, listingID: "L-1"),
            ListingKey(channel: .ebay, listingID: "BOX"), ListingKey(channel: .etsy, listingID: "LATE"),
        ]
        try batch(ledger, store) {
            for item in items {
                try ledger.setOnHand(itemID: item, locationID: "WH-A", quantity: 10)
                try ledger.setOnHand(itemID: item, locationID: "WH-B", quantity: 5)
            }
            _ = try ledger.upsertListing(Fixture.itemMap("L-1", item: "ITEM-1", locations: ["WH-A", "WH-B"]), now: 10)
            _ = try ledger.upsertListing(
                Fixture.itemMap("L-1", item: "ITEM-2", locations: ["WH-A", "WH-B"], channel: .amazon), now: 10)
            _ = try ledger.upsertListing(
                Fixture.bundleMap("BOX", components: [("MUG", 2), ("TEA", 1)], locations: ["WH-B", "WH-A"], channel: .ebay),
                now: 10)
            try ledger.setRule(AllocationRule(channel: .amazon, safetyStock: 1, locations: ["WH-B", "WH-A"]))
            try ledger.setRule(AllocationRule(channel: .shopify, listingID: "L-1", percentageHundredths: 5_000))
        }
        batch(ledger, store) {
            _ = ledger.apply(Fixture.sale("L-1", order: "A", line: "1", quantity: 3, version: 1), now: 20)
            _ = ledger.apply(Fixture.sale("L-1", order: "A", line: "2", quantity: 12, version: 1), now: 20)  // oversells WH-A
            _ = ledger.apply(Fixture.sale("L-1", order: "B", line: "1", quantity: 2, version: 1, channel: .amazon), now: 20)
            _ = ledger.apply(Fixture.sale("BOX", order: "C", line: "1", quantity: 2, version: 7, channel: .ebay), now: 20)
            _ = ledger.apply(Fixture.sale("LATE", order: "D", line: "1", quantity: 1, version: 1, channel: .etsy), now: 20)
            _ = ledger.apply(Fixture.sale("L-1", order: "A", line: "1", quantity: 9, version: 1), now: 20)  // conflict
        }
        let sealed = batch(ledger, store) { ledger.sealNets(maxLines: 2) }
        batch(ledger, store) {
            ledger.resolveNets(sealed, confirmed: true)
            _ = ledger.apply(Fixture.sale("L-1", order: "A", line: "1", quantity: 1, version: 2), now: 90)
        }
        // A batch that fails is never stored.
        ledger.beginBatch()
        _ = ledger.apply(Fixture.sale("L-1", order: "Z", line: "1", quantity: 4, version: 1), now: 95)
        ledger.rollbackBatch()
        batch(ledger, store) { ledger.expireLines(now: 121) }  // lines last touched at 20 go
        #expect(ledger.lineCount == 1)

        let rebuilt = store.load(configuration: .init(lineRetention: 100))
        #expect(View(rebuilt, items: items, listings: keys) == View(ledger, items: items, listings: keys))

        // Retention runs on from each line's last change (at 90).
        for copy in [ledger, rebuilt] {
            copy.beginBatch()
            #expect(copy.expireLines(now: 90 + 100) == 0)
            #expect(copy.expireLines(now: 90 + 101) == 1)
            copy.rollbackBatch()
        }

        // Both answer the same events the same way.
        let later = [
            Fixture.sale("L-2", order: "A", line: "1", quantity: 1, version: 2),  // same version, other listing
            Fixture.sale("L-1", order: "A", line: "1", quantity: 1, version: 2),  // duplicate
            Fixture.sale("L-1", order: "A", line: "1", quantity: 5, version: 1),  // stale
            Fixture.sale("L-1", order: "A", line: "1", quantity: 4, version: 3),  // edit
            Fixture.sale("L-1", order: "A", line: "2", quantity: 1, version: 1),  // expired: new
            Fixture.sale("BOX", order: "C", line: "1", quantity: 1, version: 8, channel: .ebay),
            Fixture.sale("L-1", order: "E", line: "1", quantity: 2, version: 1, channel: .amazon),
            Fixture.sale("L-1", order: "Z", line: "1", quantity: 4, version: 1),
        ]
        let results = later.map { event in (ledger.commitEvent(event, now: 130), rebuilt.commitEvent(event, now: 130)) }
        #expect(results.map(\.0) == results.map(\.1))
        #expect(results.map(\.0).prefix(4) == [.conflict, .duplicate, .stale, .applied])
        let map = Fixture.itemMap("LATE", item: "ITEM-2", locations: ["WH-A"], channel: .etsy)
        let replayed = try ledger.batch { try ledger.upsertListing(map, now: 140) }
        let replayedRebuilt = try rebuilt.batch { try rebuilt.upsertListing(map, now: 140) }
        #expect(replayed.map(\.1) == replayedRebuilt.map(\.1))
        #expect(replayed.count == 1)
        #expect(View(rebuilt, items: items, listings: keys) == View(ledger, items: items, listings: keys))
    }

    @Test func rebuildMidStormContinuesIdentically() async {
        await propertyCheck(count: 100, input: LedgerPropertyTests.scenarios) { scenario in
            try Self.stormWithRestart(scenario)
        }
    }

    static func stormWithRestart(_ scenario: LedgerPropertyTests.Scenario) throws {
        typealias Model = LedgerPropertyTests
        let store = Store()
        var writer = Ledger(configuration: .init(expectedLines: 1))
        let items = Model.items
        let keys = Model.listings.map { ListingKey(channel: $0.channel, listingID: $0.id) }
        let late = try #require(Model.listings.first(where: { $0.late }))

        writer.beginBatch()
        for (itemIndex, item) in items.enumerated() {
            for (locationIndex, location) in Model.locations.enumerated() {
                try writer.setOnHand(
                    itemID: item, locationID: location, quantity: scenario.onHand[itemIndex * Model.locations.count + locationIndex])
            }
        }
        for listing in Model.listings where !listing.late {
            _ = try writer.upsertListing(listing.map, now: Fixture.now)
        }
        try writer.setRule(AllocationRule(channel: .amazon, locations: ["W2", "W1"]))
        store.persist(writer)
        writer.commitBatch()

        // The process restarts after every third batch: the ledger is rebuilt from the store.
        for (number, batch) in scenario.batches.enumerated() {
            writer.beginBatch()
            var savepoint: Ledger.Savepoint?
            for (index, step) in batch.steps.enumerated() {
                if case .partial(let keep) = batch.fate, index == keep { savepoint = writer.savepoint() }
                switch step {
                case .event(let line, let state):
                    _ = writer.apply(Model.event(line, state, in: scenario), now: Fixture.now)
                case .mapLateListing:
                    _ = try writer.upsertListing(late.map, now: Fixture.now)
                }
            }
            switch batch.fate {
            case .commit:
                store.persist(writer)
                writer.commitBatch()
            case .rollback:
                writer.rollbackBatch()
            case .partial:
                writer.rollback(to: try #require(savepoint))
                store.persist(writer)
                writer.commitBatch()
            }
            if number % 3 == 2 {
                let rebuilt = store.load(configuration: .init(expectedLines: 1))
                #expect(View(rebuilt, items: items, listings: keys) == View(writer, items: items, listings: keys))
                writer = rebuilt
            }
        }

        let latest = scenario.lines.indices.map { (line: $0, quantity: scenario.lines[$0].states.last!.quantity) }
        #expect(Model.committedTotals(writer) == Model.itemTotals(onHand: scenario.onHand, holding: latest, in: scenario))
        let rebuilt = store.load()
        #expect(View(rebuilt, items: items, listings: keys) == View(writer, items: items, listings: keys))
        // Every line is remembered with its latest state.
        rebuilt.beginBatch()
        for (index, line) in scenario.lines.enumerated() {
            let event = Model.event(index, line.states.count - 1, in: scenario)
            #expect(rebuilt.apply(event, now: Fixture.now).result == .duplicate)
        }
        rebuilt.rollbackBatch()
    }
}
