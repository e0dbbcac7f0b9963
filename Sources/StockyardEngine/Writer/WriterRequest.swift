import StockyardChannels
import StockyardCore

/// A request to the ledger writer that states its answer: `submit(.events(…))` answers the
/// events' outcomes, `submit(.sealZohoBatch(…))` the batch it sealed, and so on, so that no caller
/// reads an untyped outcome. Each request is one `WriterJob`, applied whole or not at all; the
/// writer answers each kind of job with its own kind of outcome, and `answer(from:)` is the one
/// place that reads it.
public protocol WriterRequest: Sendable {
    associatedtype Answer: Sendable
    /// The work, as the writer stages it.
    var job: WriterJob { get }
    /// The answer in the writer's outcome for this request's job; nil only when the writer broke
    /// its side of the contract.
    static func answer(from outcome: WriterOutcome) -> Answer?
}

/// Sale events (validated at the edge): one outcome per event, in order.
public struct ApplyEvents: WriterRequest {
    public var events: [SaleEvent]
    public var job: WriterJob { .events(events) }
    public static func answer(from outcome: WriterOutcome) -> [EventOutcome]? {
        if case .events(let outcomes) = outcome { outcomes } else { nil }
    }
}

/// Listing maps: the parked events they replayed, with their outcomes.
public struct StoreListings: WriterRequest {
    public var maps: [ListingMap]
    public var job: WriterJob { .listings(maps) }
    public static func answer(from outcome: WriterOutcome) -> [ReplayedEvent]? {
        if case .listings(let replayed) = outcome { replayed } else { nil }
    }
}

/// Catalogue items: the parked events the listings they mapped replayed.
public struct StoreItems: WriterRequest {
    public var items: [CatalogueItem]
    public var job: WriterJob { .items(items) }
    public static func answer(from outcome: WriterOutcome) -> [ReplayedEvent]? {
        if case .listings(let replayed) = outcome { replayed } else { nil }
    }
}

/// Stock as Zoho confirms it: the positions of the settings not applied because their record is
/// not newer than the last correction applied to their row (none for plain settings).
public struct StoreStock: WriterRequest {
    public var settings: [StockSetting]
    public var job: WriterJob { .stock(settings) }
    public static func answer(from outcome: WriterOutcome) -> [Int]? {
        switch outcome {
        case .stored: []
        case .corrected(let stale): stale
        default: nil
        }
    }
}

/// Allocation rules.
public struct StoreRules: WriterRequest {
    public var rules: [AllocationRule]
    public var job: WriterJob { .rules(rules) }
    public static func answer(from outcome: WriterOutcome) -> Void? {
        if case .stored = outcome { () } else { nil }
    }
}

/// One channel delivery: per line its outcome, or that the delivery id was stored lately.
public struct ApplyDelivery: WriterRequest {
    public var delivery: DeliveryJob
    public var job: WriterJob { .delivery(delivery) }
    public static func answer(from outcome: WriterOutcome) -> DeliveryOutcome? {
        if case .delivery(let result) = outcome { result } else { nil }
    }
}

/// A body kept for a person.
public struct KeepDeadLetter: WriterRequest {
    public var letter: DeadLetter
    public var job: WriterJob { .deadLetter(letter) }
    public static func answer(from outcome: WriterOutcome) -> Void? {
        if case .stored = outcome { () } else { nil }
    }
}

/// Open nets sealed into a new Zoho batch: the batch, or nil when nothing was open.
public struct SealZohoBatch: WriterRequest {
    public var draft: ZohoBatchDraft
    public var job: WriterJob { .zoho(.seal(draft)) }
    public static func answer(from outcome: WriterOutcome) -> ZohoBatch?? {
        if case .zohoBatch(let batch) = outcome { .some(batch) } else { nil }
    }
}

/// What became of a Zoho batch or of a refused line (every Zoho job but sealing).
public struct SettleZohoBatch: WriterRequest {
    public var work: ZohoJob
    public var job: WriterJob { .zoho(work) }
    public static func answer(from outcome: WriterOutcome) -> Void? {
        if case .stored = outcome { () } else { nil }
    }
}

/// An adjustment made in Zoho itself: false when its id was stored lately and nothing moved.
public struct ApplyZohoAdjustment: WriterRequest {
    public var adjustmentID: String
    public var lines: [OnHandDelta]
    public var job: WriterJob { .zohoAdjustment(adjustmentID: adjustmentID, lines: lines) }
    public static func answer(from outcome: WriterOutcome) -> Bool? {
        if case .zohoAdjustment(let applied) = outcome { applied } else { nil }
    }
}

/// A notification to look up later: false when its delivery id was stored lately.
public struct StoreLookup: WriterRequest {
    public var lookup: LookupJob
    public var channel: Channel
    public var deliveryID: String
    public var job: WriterJob { .lookup(lookup, channel: channel, deliveryID: deliveryID) }
    public static func answer(from outcome: WriterOutcome) -> Bool? {
        if case .lookupStored(let stored) = outcome { stored } else { nil }
    }
}

/// A look-up done, its order's lines applied with the job's removal: nil when the job was no
/// longer waiting (done or given up on already), and nothing was applied.
public struct FinishLookup: WriterRequest {
    public var lookup: LookupJob
    public var delivery: DeliveryJob
    public var job: WriterJob { .lookupDone(lookup, delivery) }
    public static func answer(from outcome: WriterOutcome) -> DeliveryOutcome?? {
        switch outcome {
        case .delivery(let result): .some(result)
        case .lookupGone: .some(nil)
        default: nil
        }
    }
}

/// A look-up job stored again (after a failed attempt, or put back from its dead letter), or
/// given up on as a dead letter: false when the job or the letter was no longer there.
public struct UpdateLookup: WriterRequest {
    public var work: WriterJob
    public var job: WriterJob { work }
    public static func answer(from outcome: WriterOutcome) -> Bool? {
        switch outcome {
        case .stored: true
        case .lookupGone: false
        default: nil
        }
    }
}

extension WriterRequest where Self == ApplyEvents {
    public static func events(_ events: [SaleEvent]) -> ApplyEvents { ApplyEvents(events: events) }
}

extension WriterRequest where Self == StoreListings {
    public static func listings(_ maps: [ListingMap]) -> StoreListings { StoreListings(maps: maps) }
}

extension WriterRequest where Self == StoreItems {
    public static func items(_ items: [CatalogueItem]) -> StoreItems { StoreItems(items: items) }
}

extension WriterRequest where Self == StoreStock {
    public static func stock(_ settings: [StockSetting]) -> StoreStock { StoreStock(settings: settings) }
}

extension WriterRequest where Self == StoreRules {
    public static func rules(_ rules: [AllocationRule]) -> StoreRules { StoreRules(rules: rules) }
}

extension WriterRequest where Self == ApplyDelivery {
    public static func delivery(_ delivery: DeliveryJob) -> ApplyDelivery { ApplyDelivery(delivery: delivery) }
}

extension WriterRequest where Self == KeepDeadLetter {
    public static func deadLetter(_ letter: DeadLetter) -> KeepDeadLetter { KeepDeadLetter(letter: letter) }
}

extension WriterRequest where Self == SealZohoBatch {
    public static func sealZohoBatch(_ draft: ZohoBatchDraft) -> SealZohoBatch { SealZohoBatch(draft: draft) }
}

extension WriterRequest where Self == SettleZohoBatch {
    public static func zoho(_ work: ZohoJob) -> SettleZohoBatch {
        if case .seal = work { preconditionFailure("sealing is SealZohoBatch: it answers the batch") }
        return SettleZohoBatch(work: work)
    }
}

extension WriterRequest where Self == ApplyZohoAdjustment {
    public static func zohoAdjustment(adjustmentID: String, lines: [OnHandDelta]) -> ApplyZohoAdjustment {
        ApplyZohoAdjustment(adjustmentID: adjustmentID, lines: lines)
    }
}

extension WriterRequest where Self == StoreLookup {
    public static func lookup(_ lookup: LookupJob, channel: Channel, deliveryID: String) -> StoreLookup {
        StoreLookup(lookup: lookup, channel: channel, deliveryID: deliveryID)
    }
}

extension WriterRequest where Self == FinishLookup {
    public static func lookupDone(_ lookup: LookupJob, _ delivery: DeliveryJob) -> FinishLookup {
        FinishLookup(lookup: lookup, delivery: delivery)
    }
}

extension WriterRequest where Self == UpdateLookup {
    public static func lookupUpdate(_ lookup: LookupJob, resolvesDeadLetter: String?) -> UpdateLookup {
        UpdateLookup(work: .lookupUpdate(lookup, resolvesDeadLetter: resolvesDeadLetter))
    }

    public static func lookupFailed(_ lookup: LookupJob, _ letter: DeadLetter) -> UpdateLookup {
        UpdateLookup(work: .lookupFailed(lookup, letter))
    }
}
