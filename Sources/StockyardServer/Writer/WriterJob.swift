import StockyardCore

/// Setting the stock Zoho confirms for one item at one location.
public struct StockSetting: Sendable, Hashable {
    public var itemID: String
    public var locationID: String
    public var zohoOnHand: Int64

    public init(itemID: String, locationID: String, zohoOnHand: Int64) {
        self.itemID = itemID
        self.locationID = locationID
        self.zohoOnHand = zohoOnHand
    }
}

/// A unit of work for the ledger writer: applied whole, or not at all.
public enum WriterJob: Sendable {
    /// Sale events that passed `SaleEvent.validate()`: the writer does not check ids again.
    case events([SaleEvent])
    case listings([ListingMap])
    case stock([StockSetting])
    case rules([AllocationRule])

    var eventCount: Int {
        switch self {
        case .events(let events): events.count
        case .listings(let listings): listings.count
        case .stock(let settings): settings.count
        case .rules(let rules): rules.count
        }
    }
}

/// What a job did, once it is stored.
public enum WriterOutcome: Sendable {
    /// One outcome per event, in order.
    case events([EventOutcome])
    /// Listings stored; the parked events they replayed, with outcomes.
    case listings(replayed: [ReplayedEvent])
    case stored
}

public struct ReplayedEvent: Sendable {
    public var event: SaleEvent
    public var outcome: EventOutcome
}

/// A job refused because one of its entries is invalid; nothing of it was applied.
public struct InvalidJobError: Error, Sendable {
    /// Position of the offending entry in the job.
    public var index: Int
    public var problem: ValidationProblem
}

/// The store cannot take writes now; the caller should retry.
public struct StoreUnavailableError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { "store unavailable: \(reason)" }
}
