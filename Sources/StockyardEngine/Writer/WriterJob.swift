import StockyardChannels
import StockyardCore

/// Setting the stock Zoho confirms for one item at one location.
public struct StockSetting: Sendable, Hashable {
    public var itemID: String
    public var locationID: String
    public var zohoOnHand: Int64
    /// For a correction from Zoho: its record's modification time (microseconds). A setting
    /// that carries one is applied only when it is newer than the last applied to its row.
    public var modifiedAt: Int64?

    public init(itemID: String, locationID: String, zohoOnHand: Int64, modifiedAt: Int64? = nil) {
        self.itemID = itemID
        self.locationID = locationID
        self.zohoOnHand = zohoOnHand
        self.modifiedAt = modifiedAt
    }

    /// The row's key among the corrections: `item 0x1F location`.
    var row: String { itemID + "\u{1F}" + locationID }
}

/// A change of `zoho_on_hand` made in Zoho.
public struct OnHandDelta: Sendable, Hashable {
    public var itemID: String
    public var locationID: String
    public var delta: Int64

    public init(itemID: String, locationID: String, delta: Int64) {
        self.itemID = itemID
        self.locationID = locationID
        self.delta = delta
    }
}

/// A unit of work for the ledger writer: applied whole, or not at all.
public enum WriterJob: Sendable {
    /// Sale events that passed `SaleEvent.validate()`: the writer does not check ids again.
    case events([SaleEvent])
    case listings([ListingMap])
    case stock([StockSetting])
    case rules([AllocationRule])
    /// One channel delivery: its lines (validated at the edge) and edits.
    case delivery(DeliveryJob)
    /// A body kept for a person.
    case deadLetter(DeadLetter)
    /// Catalogue items (SKU and default locations).
    case items([CatalogueItem])
    /// Sealing and settling Zoho batches.
    case zoho(ZohoJob)
    /// A notification to look up later, stored with its delivery id (a repeat stores nothing).
    case lookup(LookupJob, channel: Channel, deliveryID: String)
    /// An adjustment made in Zoho itself: `zoho_on_hand` moves by each line, once per adjustment id.
    case zohoAdjustment(adjustmentID: String, lines: [OnHandDelta])
    /// A look-up done: the order's lines applied and the job removed, in one transaction.
    case lookupDone(LookupJob, DeliveryJob)
    /// A look-up job stored again: after a failed attempt (its attempts and next time), or put
    /// back from the dead letter `resolvesDeadLetter`, which goes in the same transaction.
    case lookupUpdate(LookupJob, resolvesDeadLetter: String?)
    /// A look-up given up on: the job leaves, the dead letter arrives.
    case lookupFailed(LookupJob, DeadLetter)

    package var eventCount: Int {
        switch self {
        case .events(let events): events.count
        case .listings(let listings): listings.count
        case .stock(let settings): settings.count
        case .rules(let rules): rules.count
        case .delivery(let job): max(1, job.lines.count + job.adjustments.count)
        case .deadLetter: 1
        case .items(let items): items.count
        case .zoho: 1
        case .zohoAdjustment(_, let lines): lines.count
        case .lookup, .lookupUpdate, .lookupFailed: 1
        case .lookupDone(_, let delivery): max(1, delivery.lines.count)
        }
    }
}

/// What a channel delivery asks the writer to do.
public struct DeliveryJob: Sendable {
    public var channel: Channel
    /// The channel's delivery id; a delivery stored lately is answered as a duplicate at once.
    public var deliveryID: String?
    public var lines: [ChannelLine]
    public var adjustments: [LineAdjustment]
    /// The dead letter this delivery replays: removed in the same transaction.
    public var resolvesDeadLetter: String?

    public init(
        channel: Channel, deliveryID: String?, lines: [ChannelLine], adjustments: [LineAdjustment],
        resolvesDeadLetter: String? = nil
    ) {
        self.channel = channel
        self.deliveryID = deliveryID
        self.lines = lines
        self.adjustments = adjustments
        self.resolvesDeadLetter = resolvesDeadLetter
    }
}

/// What a delivery did.
public struct DeliveryOutcome: Sendable {
    /// The delivery id was stored lately: nothing was applied again.
    public var duplicateDelivery = false
    /// One outcome per line, in order.
    public var lines: [EventOutcome] = []
    /// Per adjustment: the upsert it became and its outcome, or nil for a line not known yet.
    public var adjustments: [ReplayedEvent?] = []
    /// Listings that mapped themselves through the catalogue, and the parked events that replayed.
    public var autoMapped: [ListingKey] = []
    public var replayed: [ReplayedEvent] = []

    package init(duplicateDelivery: Bool = false) {
        self.duplicateDelivery = duplicateDelivery
    }
}

/// What a job did, once it is stored.
public enum WriterOutcome: Sendable {
    /// One outcome per event, in order.
    case events([EventOutcome])
    /// Listings stored; the parked events they replayed, with outcomes.
    case listings(replayed: [ReplayedEvent])
    case delivery(DeliveryOutcome)
    /// The batch a seal made, or nil when nothing was open.
    case zohoBatch(ZohoBatch?)
    /// A look-up job: false when its delivery id was stored lately and nothing was stored again.
    case lookupStored(Bool)
    /// A look-up that was no longer waiting (done or given up on already): nothing was applied.
    case lookupGone
    /// A Zoho adjustment: false when its id was stored lately and nothing was applied again.
    case zohoAdjustment(applied: Bool)
    case stored
    /// Zoho's absolute stock stored, but for the settings (by position) whose record is not
    /// newer than the last correction applied to their row.
    case corrected(stale: [Int])
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
    /// True when the write was sent and Redis never answered: it may have been stored. Retrying
    /// is safe (values are stored absolute, lines are upserts), and memory is read back from
    /// Redis before the next write.
    public var outcomeUnknown: Bool

    public init(reason: String, outcomeUnknown: Bool = false) {
        self.reason = reason
        self.outcomeUnknown = outcomeUnknown
    }

    public var description: String { "store unavailable: \(reason)" }
}
