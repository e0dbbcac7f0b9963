@testable import StockyardCore
import Testing

/// New lines placed through a listing's route land exactly where the general path through the
/// map puts them, whatever happened to the maps, the rules and the batches before.
@Suite struct RouteEquivalenceTests {
    static let items = ["I-0", "I-1", "I-2", "I-3"]
    static let locations = ["A", "B", "C"]
    static let listings = ["ONE", "TWO", "THREE", "KIT", "KIT2"]

    /// Maps to choose from for each listing: one to three locations in varying orders, bundles.
    static func map(_ listing: String, variant: Int) -> ListingMap {
        let orders = [["A"], ["B", "A"], ["A", "B"], ["C", "A", "B"], ["B"], ["C", "B"]]
        let order = orders[variant % orders.count]
        switch listing {
        case "KIT": return Fixture.bundleMap("KIT", components: [("I-2", 2), ("I-3", 1)], locations: order)
        case "KIT2": return Fixture.bundleMap("KIT2", components: [("I-1", 1)], locations: order)
        default: return Fixture.itemMap(listing, item: items[variant % 2 == 0 ? 0 : 1], locations: order)
        }
    }

    enum Step {
        case events([SaleEvent])
        case remap(String, Int)
        case rule(AllocationRule)
        case rolledBack([SaleEvent], remap: (String, Int)?)
        case partlyRolledBack(kept: [SaleEvent], undone: [SaleEvent])
    }

    static func steps(seed: UInt64, count: Int) -> [Step] {
        var random = SplitMix(state: seed)
        var serial = 0
        var sent: [SaleEvent] = []
        func event() -> SaleEvent {
            if !sent.isEmpty, Int.random(in: 0..<4, using: &random) == 0 {
                var earlier = sent.randomElement(using: &random)!
                earlier.quantity = Int64.random(in: 0...3, using: &random)
                earlier.version += Int64.random(in: 0...2, using: &random)
                sent.append(earlier)
                return earlier
            }
            serial += 1
            let new = Fixture.sale(
                listings.randomElement(using: &random)!, order: "O-\(serial)", line: "1",
                quantity: Int64.random(in: 0...4, using: &random), version: 1,
                location: Int.random(in: 0..<8, using: &random) == 0 ? locations.randomElement(using: &random)! : nil)
            sent.append(new)
            return new
        }
        func events() -> [SaleEvent] { (0..<Int.random(in: 1...12, using: &random)).map { _ in event() } }
        return (0..<count).map { _ in
            switch Int.random(in: 0..<10, using: &random) {
            case 0: return .remap(listings.randomElement(using: &random)!, Int.random(in: 0..<6, using: &random))
            case 1:
                let located = Bool.random(using: &random)
                let onListing = Bool.random(using: &random)
                return .rule(
                    AllocationRule(
                        channel: .shopify, listingID: onListing ? listings.randomElement(using: &random)! : nil,
                        locations: located ? ["B", "C"] : []))
            case 2:
                let remap = Bool.random(using: &random)
                    ? (listings.randomElement(using: &random)!, Int.random(in: 0..<6, using: &random)) : nil
                return .rolledBack(events(), remap: remap)
            case 3: return .partlyRolledBack(kept: events(), undone: events())
            default: return .events(events())
            }
        }
    }

    /// Runs the steps and returns everything observable: outcomes, changed rows, oversells, figures.
    static func run(_ steps: [Step], routes: Bool) throws -> [String] {
        let ledger = try Fixture.ledger(
            onHand: [("I-0", "A", 3), ("I-0", "B", 5), ("I-1", "B", 2), ("I-2", "A", 6), ("I-2", "B", 1), ("I-3", "C", 4)],
            maps: listings.map { map($0, variant: 0) })
        ledger.routesEnabled = routes
        var seen: [String] = []
        func applied(_ events: [SaleEvent]) -> String {
            events.map { ledger.apply(validated: $0, now: Fixture.now).result.name }.joined(separator: ",")
        }
        for step in steps {
            ledger.beginBatch()
            switch step {
            case .events(let events):
                seen.append(applied(events))
            case .remap(let listing, let variant):
                seen.append("\(try ledger.upsertListing(map(listing, variant: variant), now: Fixture.now).map(\.1.result.name))")
            case .rule(let rule):
                try ledger.setRule(rule)
            case .rolledBack(let events, let remap):
                if let (listing, variant) = remap { _ = try ledger.upsertListing(map(listing, variant: variant), now: Fixture.now) }
                _ = applied(events)
                ledger.rollbackBatch()
                ledger.beginBatch()
            case .partlyRolledBack(let kept, let undone):
                seen.append(applied(kept))
                let savepoint = ledger.savepoint()
                _ = applied(undone)
                ledger.rollback(to: savepoint)
            }
            seen.append("rows \(ledger.stagedChanges().rows) oversells \(ledger.stagedOversells)")
            ledger.commitBatch()
        }
        for item in items {
            for location in locations {
                seen.append("\(item)@\(location) \(String(describing: ledger.figures(itemID: item, locationID: location)))")
            }
        }
        return seen
    }

    @Test(arguments: [11, 12, 13, 14, 15, 16, 17, 18] as [UInt64])
    func routeAndGeneralPathAgree(seed: UInt64) throws {
        let steps = Self.steps(seed: seed, count: 120)
        let routed = try Self.run(steps, routes: true)
        let general = try Self.run(steps, routes: false)
        #expect(routed.count == general.count)
        for (index, (a, b)) in zip(routed, general).enumerated() where a != b {
            Issue.record("step \(index): route \(a) ≠ general \(b)")
            break
        }
    }
}
