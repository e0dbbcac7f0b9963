/// The quantity one order line holds for one listing, at a source version.
///
/// Sale events are upserts: applying one sets the line's state, it never adds to it.
public struct SaleEvent: Sendable, Hashable {
    public var channel: Channel
    public var listingID: String
    public var orderID: String
    public var lineID: String
    /// Units of the listing the line holds (0 after a cancellation or a full restock).
    public var quantity: Int64
    /// Source version: a channel sequence, or a timestamp in microseconds since 1970.
    public var version: Int64
    /// The location the channel says the sale ships from, if it says so.
    public var locationID: String?

    public init(
        channel: Channel,
        listingID: String,
        orderID: String,
        lineID: String,
        quantity: Int64,
        version: Int64,
        locationID: String? = nil
    ) {
        self.channel = channel
        self.listingID = listingID
        self.orderID = orderID
        self.lineID = lineID
        self.quantity = quantity
        self.version = version
        self.locationID = locationID
    }
}

/// The outcome of applying one sale event.
public enum EventResult: UInt8, Sendable, CaseIterable, Hashable {
    /// The line's state changed.
    case applied
    /// Same line, same version, same content: nothing changes.
    case duplicate
    /// Older than the stored version: ignored.
    case stale
    /// Same line and version with different content: not applied, kept for a person.
    case conflict
    /// No listing map yet: parked, replayed when the map arrives.
    case unmapped
    /// Rejected with a reason.
    case invalid

    public var name: String {
        switch self {
        case .applied: "applied"
        case .duplicate: "duplicate"
        case .stale: "stale"
        case .conflict: "conflict"
        case .unmapped: "unmapped"
        case .invalid: "invalid"
        }
    }
}

/// The outcome of one event, with the reason when it is `invalid`.
public struct EventOutcome: Sendable, Hashable {
    public var result: EventResult
    /// Why the event is invalid: a field name and a message.
    public var problem: ValidationProblem?

    public init(_ result: EventResult, problem: ValidationProblem? = nil) {
        self.result = result
        self.problem = problem
    }
}

/// A field-level reason for rejecting input.
public struct ValidationProblem: Sendable, Hashable, Error {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}
