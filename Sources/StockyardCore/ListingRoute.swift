/// What the hot path needs of a listing's map to place a new order line, in one small record:
/// the consumptions and rows at its first two locations. Listings with more locations, a bundle
/// on two locations, an event naming its location, or a rule that orders locations take the
/// general path through `Mapping`.
struct ListingRoute {
    /// The consumption at each of the first two location slots (`UInt32.max`: not made yet).
    var consumption0: UInt32 = .max
    var consumption1: UInt32 = .max
    /// For a single-item listing, its row at each of the first two location slots.
    var row0: UInt32 = .max
    var row1: UInt32 = .max
    /// Number of locations on the map; 0 when the listing has no map.
    var locationCount: UInt32 = 0
    /// True when one listing unit is one unit of one item.
    var singleItem = false

    init() {}

    init(_ mapping: Mapping?) {
        guard let mapping else { return }
        locationCount = UInt32(mapping.locations.count)
        singleItem = mapping.parts.count == 1 && mapping.parts[0].units == 1
        if singleItem {
            row0 = mapping.rows[0]
            if mapping.rows.count > 1 { row1 = mapping.rows[1] }
        }
    }

    /// Remembers the consumption made for a location slot.
    mutating func note(_ consumption: UInt32, slot: Int) {
        if slot == 0 { consumption0 = consumption } else if slot == 1 { consumption1 = consumption }
    }

    /// Forgets a consumption that was rolled back.
    mutating func forget(_ consumption: UInt32) {
        if consumption0 == consumption { consumption0 = .max }
        if consumption1 == consumption { consumption1 = .max }
    }
}
