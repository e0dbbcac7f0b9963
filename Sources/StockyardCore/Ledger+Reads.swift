/// Committed stock of one item: per location, and what each channel may sell.
public struct ItemStock: Sendable, Hashable {
    public struct Location: Sendable, Hashable {
        public var locationID: String
        public var figures: StockFigures
    }

    public var itemID: String
    public var locations: [Location]
    public var sellable: [Channel: Int64]
}

extension Ledger {
    /// Committed figures of an item × location, if that row exists.
    public func figures(itemID: String, locationID: String) -> StockFigures? {
        guard let item = items[itemID], let location = locations[locationID],
            let row = rowIndex[UInt64(item) << 32 | UInt64(location)], rowStates[Int(row)].exists
        else { return nil }
        return rowStates[Int(row)].published
    }

    /// Committed stock of an item, or nil for an item with no stock row.
    public func stock(itemID: String) -> ItemStock? {
        guard let item = items[itemID], Int(item) < itemRows.count else { return nil }
        let rowsOfItem = itemRows[Int(item)].filter { rowStates[Int($0)].exists }
        guard !rowsOfItem.isEmpty else { return nil }
        let perLocation = rowsOfItem.map {
            ItemStock.Location(locationID: locations[rowLocation[Int($0)]], figures: rowStates[Int($0)].published)
        }.sorted { $0.locationID < $1.locationID }
        var sellable: [Channel: Int64] = [:]
        for channel in Channel.allCases {
            let rule = publishedRules[.channelDefault(channel)]
            var total: Int64 = 0
            for row in rowsOfItem {
                if let rule, !rule.locations.isEmpty, !rule.locations.contains(rowLocation[Int(row)]) { continue }
                total += rowStates[Int(row)].published.available
            }
            sellable[channel] = (rule?.rule ?? .unrestricted(channel)).sellable(totalAvailable: total)
        }
        return ItemStock(itemID: itemID, locations: perLocation, sellable: sellable)
    }

    /// What a listing may still sell on its channel, or nil for a listing with no map.
    public func sellable(_ key: ListingKey) -> Int64? {
        guard let listing = listings[key], let mapping = publishedMappings[safe: listing] else { return nil }
        let rule = publishedRules[RuleKey(channel: key.channel, listing: listing)]
            ?? publishedRules[.channelDefault(key.channel)]
        let eligible = eligibleLocations(mapping, rule: rule)
        let policy = rule?.rule ?? .unrestricted(key.channel)
        var result = Int64.max
        for part in mapping.parts {
            var total: Int64 = 0
            for location in eligible {
                if let row = rowIndex[UInt64(part.item) << 32 | UInt64(location)], rowStates[Int(row)].exists {
                    total += rowStates[Int(row)].published.available
                }
            }
            result = min(result, policy.sellable(totalAvailable: total) / Int64(part.units))
        }
        return result
    }

    /// The committed map of a listing.
    public func listingMap(_ key: ListingKey) -> ListingMap? {
        guard let listing = listings[key], let mapping = publishedMappings[safe: listing] else { return nil }
        return listingMap(key, mapping)
    }

    func listingMap(_ key: ListingKey, _ mapping: Mapping) -> ListingMap {
        let target: ListingMap.Target
        if !mapping.isBundle {
            target = .item(items[mapping.parts[0].item])
        } else {
            target = .bundle(mapping.parts.map { BundleComponent(itemID: items[$0.item], quantity: Int64($0.units)) })
        }
        return ListingMap(channel: key.channel, listingID: key.listingID, target: target, locations: mapping.locations.map { locations[$0] })
    }

    /// Committed allocation rules.
    public func allocationRules() -> [AllocationRule] {
        publishedRules.values.map(\.rule).sorted {
            ($0.channel, $0.listingID ?? "") < ($1.channel, $1.listingID ?? "")
        }
    }

    /// Sum of committed available stock over all rows, and the number of rows below zero.
    public func totals() -> (available: Int64, oversoldRows: Int) {
        var available: Int64 = 0
        var oversold = 0
        for index in rowStates.indices where rowStates[index].exists {
            available += rowStates[index].published.available
            if rowStates[index].published.available < 0 { oversold += 1 }
        }
        return (available, oversold)
    }
}
