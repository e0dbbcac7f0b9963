/// A difference between Zoho's stock on hand and the figure the ledger holds for it.
public struct StockDrift: Sendable, Hashable {
    public var itemID: String
    public var locationID: String
    /// Zoho's figure; nil when Zoho does not list the item at all.
    public var zoho: Int64?
    /// The ledger's `zoho_on_hand`; nil when it has no row.
    public var ours: Int64?
    /// Units in flight to Zoho on that row: Zoho's figure may or may not include them yet.
    public var inFlight: Int64

    public init(itemID: String, locationID: String, zoho: Int64?, ours: Int64?, inFlight: Int64) {
        self.itemID = itemID
        self.locationID = locationID
        self.zoho = zoho
        self.ours = ours
        self.inFlight = inFlight
    }

    /// Zoho minus ours, counting a missing figure as zero.
    public var difference: Int64 { (zoho ?? 0) - (ours ?? 0) }
}

extension Ledger {
    /// Compares Zoho's stock on hand (item → location → units) with the committed
    /// `zoho_on_hand`. A location Zoho leaves out of a listed item counts as zero there; with
    /// `complete`, rows of items Zoho did not list at all are reported too. Rows that agree are
    /// left out; the result is sorted by item, then location.
    public func drift(zoho: [String: [String: Int64]], complete: Bool) -> [StockDrift] {
        var drift: [StockDrift] = []
        for (itemID, perLocation) in zoho {
            var seen = Set<String>()
            for (locationID, onHand) in perLocation {
                seen.insert(locationID)
                let figures = figures(itemID: itemID, locationID: locationID)
                if figures?.zohoOnHand != onHand && !(figures == nil && onHand == 0) {
                    drift.append(
                        StockDrift(itemID: itemID, locationID: locationID, zoho: onHand, ours: figures?.zohoOnHand, inFlight: figures?.inFlight ?? 0))
                }
            }
            for location in stock(itemID: itemID)?.locations ?? [] where !seen.contains(location.locationID) && location.figures.zohoOnHand != 0 {
                drift.append(
                    StockDrift(
                        itemID: itemID, locationID: location.locationID, zoho: 0, ours: location.figures.zohoOnHand,
                        inFlight: location.figures.inFlight))
            }
        }
        if complete {
            for row in rowStates.indices where rowStates[row].exists {
                let itemID = items[rowItem[row]]
                guard zoho[itemID] == nil, rowStates[row].published.zohoOnHand != 0 else { continue }
                drift.append(
                    StockDrift(
                        itemID: itemID, locationID: locations[rowLocation[row]], zoho: nil, ours: rowStates[row].published.zohoOnHand,
                        inFlight: rowStates[row].published.inFlight))
            }
        }
        return drift.sorted { ($0.itemID, $0.locationID) < ($1.itemID, $1.locationID) }
    }
}
