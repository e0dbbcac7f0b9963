import StockyardCore

/// Generates sale events against a `Catalogue`: new order lines, redeliveries of earlier events,
/// and edits of earlier lines, with order and line ids in each channel's usual shape.
///
/// Orders hold one to three lines on one channel; 80 % of lines sell one of the hottest 20 % of
/// listings; quantities are mostly 1. Versions are microsecond timestamps that only go up.
public struct SaleStream {
    public let catalogue: Catalogue
    private var random: SplitMix64
    private var version: Int64 = 1_763_900_000_000_000
    private var orderSerial = 0
    private var lineSerial = 0
    private var openOrder: (channel: Channel, orderID: String, linesLeft: Int)?
    private let trackLines: Bool
    /// The latest event of every line generated so far (only when tracking lines).
    public private(set) var latest: [SaleEvent] = []
    /// Duplicates and edits pick among this many most recent lines.
    public var recentWindow = 500_000

    /// - Parameter trackLines: keep every line's latest event, needed for duplicates and edits.
    public init(catalogue: Catalogue, seed: UInt64, trackLines: Bool = true) {
        self.catalogue = catalogue
        self.random = SplitMix64(seed: seed)
        self.trackLines = trackLines
    }

    /// Number of distinct lines generated so far.
    public var lineCount: Int { lineSerial }

    /// What a mixed stream is made of, in percent.
    public struct Mix: Sendable {
        public var newLines: Int
        public var duplicates: Int
        public var edits: Int

        public init(newLines: Int, duplicates: Int, edits: Int) {
            precondition(newLines + duplicates + edits == 100)
            self.newLines = newLines
            self.duplicates = duplicates
            self.edits = edits
        }

        /// 70 % new lines, 20 % exact duplicates, 10 % edits.
        public static let storm = Mix(newLines: 70, duplicates: 20, edits: 10)
    }

    /// The next event of a mixed stream.
    public mutating func next(_ mix: Mix) -> SaleEvent {
        guard !latest.isEmpty else { return newLine() }
        let roll = Int.random(in: 0..<100, using: &random)
        if roll < mix.newLines { return newLine() }
        if roll < mix.newLines + mix.duplicates { return duplicate() }
        return edit()
    }

    /// A line never seen before.
    public mutating func newLine() -> SaleEvent {
        if openOrder == nil || openOrder!.linesLeft == 0 {
            let channel = Channel.allCases[Int.random(in: 0..<Channel.allCases.count, using: &random)]
            let roll = Int.random(in: 0..<10, using: &random)
            openOrder = (channel, orderID(channel, orderSerial), roll < 7 ? 1 : roll < 9 ? 2 : 3)
            orderSerial += 1
        }
        openOrder!.linesLeft -= 1
        let channel = openOrder!.channel
        let roll = Int.random(in: 0..<100, using: &random)
        let quantity: Int64 = roll < 80 ? 1 : roll < 92 ? 2 : Int64.random(in: 3...5, using: &random)
        let event = SaleEvent(
            channel: channel,
            listingID: catalogue.listingKey(pickListing(channel)).listingID,
            orderID: openOrder!.orderID,
            lineID: lineID(channel, lineSerial),
            quantity: quantity,
            version: nextVersion())
        lineSerial += 1
        if trackLines { latest.append(event) }
        return event
    }

    /// An exact copy of the latest event of a recent line: a redelivered webhook.
    public mutating func duplicate() -> SaleEvent {
        latest[recentLine()]
    }

    /// A newer version of a recent line with a different quantity (a change or a cancellation).
    public mutating func edit() -> SaleEvent {
        let line = recentLine()
        var event = latest[line]
        let roll = Int.random(in: 0..<10, using: &random)
        if roll < 3 {
            event.quantity = event.quantity == 0 ? 1 : 0
        } else if roll < 6 && event.quantity > 1 {
            event.quantity -= 1
        } else {
            event.quantity += 1
        }
        event.version = nextVersion()
        latest[line] = event
        return event
    }

    private mutating func recentLine() -> Int {
        let window = min(latest.count, recentWindow)
        return latest.count - 1 - Int.random(in: 0..<window, using: &random)
    }

    private mutating func nextVersion() -> Int64 {
        version += Int64.random(in: 1...2_000, using: &random)
        return version
    }

    /// A listing on `channel`: 80 % of picks go to the first fifth of the channel's listings.
    private mutating func pickListing(_ channel: Channel) -> Int {
        let channels = Channel.allCases.count
        let perChannel = catalogue.listingCount / channels
        let hot = max(perChannel / 5, 1)
        let index = Int.random(in: 0..<10, using: &random) < 8
            ? Int.random(in: 0..<hot, using: &random)
            : Int.random(in: 0..<perChannel, using: &random)
        return index * channels + Channel.allCases.firstIndex(of: channel)!
    }

    private func orderID(_ channel: Channel, _ serial: Int) -> String {
        switch channel {
        case .shopify: return String(5_900_000_000_000 + serial)
        case .amazon:
            return "113-" + padded(serial % 10_000_000, 7) + "-" + padded((serial / 10_000_000 * 7_919 + serial * 31) % 10_000_000, 7)
        case .ebay: return "\(10 + serial / 10_000_000_000 % 90)-" + padded(serial / 100_000 % 100_000, 5) + "-" + padded(serial % 100_000, 5)
        case .etsy: return String(3_100_000_000 + serial)
        }
    }

    private func lineID(_ channel: Channel, _ serial: Int) -> String {
        switch channel {
        case .shopify: return String(14_800_000_000_000 + serial)
        case .amazon: return String(61_000_000_000_000 + serial)
        case .ebay: return String(10_020_000_000_000 + serial)
        case .etsy: return String(4_200_000_000 + serial)
        }
    }
}

/// Applies events in batches, as the writer does: `beginBatch()`, the batch apply, `commitBatch()`.
///
/// - Returns: how many events ended in each `EventResult`, indexed by its raw value.
@discardableResult
public func applyInBatches(_ ledger: Ledger, _ events: [SaleEvent], batchSize: Int = 1_000, now: UInt32) -> [Int] {
    var counts = [Int](repeating: 0, count: EventResult.allCases.count)
    var outcomes: [EventOutcome] = []
    outcomes.reserveCapacity(batchSize)
    var start = 0
    while start < events.count {
        let end = min(start + batchSize, events.count)
        ledger.beginBatch()
        outcomes.removeAll(keepingCapacity: true)
        _ = ledger.apply(validated: events[start..<end], now: now, outcomes: &outcomes)
        ledger.commitBatch()
        for outcome in outcomes { counts[Int(outcome.result.rawValue)] += 1 }
        start = end
    }
    return counts
}

/// Outcome counts as `applied=… duplicate=…`, leaving out zeros.
public func describeOutcomes(_ counts: [Int]) -> String {
    EventResult.allCases.filter { counts[Int($0.rawValue)] > 0 }
        .map { "\($0.name)=\(counts[Int($0.rawValue)])" }
        .joined(separator: " ")
}
