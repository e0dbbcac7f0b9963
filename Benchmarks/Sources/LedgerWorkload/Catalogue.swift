import StockyardCore

/// A small, fast, seedable generator so that every run sees the same workload.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The synthetic catalogue: items stocked at every location, and listings on the four channels
/// that sell them.
///
/// Listing `i` is on channel `Channel.allCases[i % 4]` and sells item `i % itemCount`; one listing
/// in a hundred is a bundle of two or three items instead.
public struct Catalogue: Sendable {
    public var itemCount: Int
    public var locationIDs: [String]
    public var listingCount: Int
    public var seed: UInt64

    /// 250,000 items × 4 locations = 1,000,000 rows, and 250,000 listings.
    public static let standard = Catalogue(
        itemCount: 250_000,
        locationIDs: ["wh-east", "wh-west", "store-01", "store-02"],
        listingCount: 250_000,
        seed: 0x5EED)

    public init(itemCount: Int, locationIDs: [String], listingCount: Int, seed: UInt64) {
        self.itemCount = itemCount
        self.locationIDs = locationIDs
        self.listingCount = listingCount
        self.seed = seed
    }

    public var rowCount: Int { itemCount * locationIDs.count }

    public func itemID(_ item: Int) -> String { "ITM-" + padded(item, 7) }

    public func channel(ofListing listing: Int) -> Channel { Channel.allCases[listing % Channel.allCases.count] }

    /// Listing ids in each channel's usual shape.
    public func listingKey(_ listing: Int) -> ListingKey {
        let channel = channel(ofListing: listing)
        let id: String
        switch channel {
        case .shopify: id = String(40_000_000_000_000 + listing)
        case .amazon: id = "SKU-" + padded(listing, 7)
        case .ebay: id = String(110_000_000_000 + listing)
        case .etsy: id = String(1_500_000_000 + listing)
        }
        return ListingKey(channel: channel, listingID: id)
    }

    public func isBundle(_ listing: Int) -> Bool { listing % 100 == 99 }

    /// A ledger holding every row (on-hand between 20 and 2,000), every listing map, and
    /// allocation rules on two channels, all committed.
    public func makeLedger(expectedLines: Int) -> Ledger {
        let ledger = Ledger(configuration: .init(expectedLines: max(expectedLines, 1024)))
        // As the service does with the ledger it loads.
        ledger.commitLineStorage()
        var random = SplitMix64(seed: seed)
        let batchSize = 10_000
        let items = (0..<itemCount).map(itemID)

        var pending = 0
        ledger.beginBatch()
        for item in 0..<itemCount {
            for location in locationIDs {
                try! ledger.setOnHand(itemID: items[item], locationID: location, quantity: Int64.random(in: 20...2_000, using: &random))
                pending += 1
                if pending == batchSize {
                    ledger.commitBatch()
                    ledger.beginBatch()
                    pending = 0
                }
            }
        }
        ledger.commitBatch()

        ledger.beginBatch()
        for listing in 0..<listingCount {
            let key = listingKey(listing)
            let target: ListingMap.Target
            if isBundle(listing) {
                let count = Int.random(in: 2...3, using: &random)
                var parts: [BundleComponent] = [BundleComponent(itemID: items[listing % itemCount], quantity: 1)]
                var next = listing
                while parts.count < count {
                    next = (next &* 7 &+ 13) % itemCount
                    if parts.contains(where: { $0.itemID == items[next] }) { continue }
                    parts.append(BundleComponent(itemID: items[next], quantity: Int64.random(in: 1...2, using: &random)))
                }
                target = .bundle(parts)
            } else {
                target = .item(items[listing % itemCount])
            }
            // 60 % of listings draw on one location, 40 % on two.
            var locations = [locationIDs.randomElement(using: &random)!]
            if Int.random(in: 0..<10, using: &random) < 4 {
                var second = locations[0]
                while second == locations[0] { second = locationIDs.randomElement(using: &random)! }
                locations.append(second)
            }
            let map = ListingMap(channel: key.channel, listingID: key.listingID, target: target, locations: locations)
            _ = try! ledger.upsertListing(map, now: 0)
            if (listing + 1) % batchSize == 0 {
                ledger.commitBatch()
                ledger.beginBatch()
            }
        }
        try! ledger.setRule(AllocationRule(channel: .amazon, safetyStock: 2, percentageHundredths: 9_000))
        try! ledger.setRule(AllocationRule(channel: .ebay, maximum: 50))
        ledger.commitBatch()
        return ledger
    }
}

/// `value` in decimal, left-padded with zeros to `width` digits.
@inlinable
public func padded(_ value: Int, _ width: Int) -> String {
    let digits = String(value)
    return digits.utf8.count >= width ? digits : String(repeating: "0", count: width - digits.utf8.count) + digits
}
