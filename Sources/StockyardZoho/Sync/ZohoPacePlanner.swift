/// Decides when a Zoho call is worth making and which rows it carries, so that the day's quota
/// lasts the day and goes first where a stale Zoho figure does the most harm. Pure: the caller
/// passes the time, the day's count and the open rows; nothing is kept between decisions, so a
/// restarted service (which restores the day's count) keeps the same pace.
///
/// The pace: of the day's budget less the reserve for exactly-once look-ups, the calls made so
/// far may run ahead of an even spread over the day by a burst allowance that shrinks to nothing
/// at the day's end, or else the next call waits for the remaining budget spread over the
/// remaining time. Either way the calls never run out before the day ends.
///
/// A permitted call goes out when a row is at risk (its `available` at or below the risk
/// threshold), when a full batch of rows is open, or when the oldest open net reached the target
/// lag. Once the budget is nearly spent (its last twentieth), only rows at risk go. An idle shop
/// makes no calls at all.
public struct ZohoPacePlanner: Sendable {
    public struct Settings: Sendable, Hashable {
        /// Calls a day, and the part of it kept for finding out what happened to a batch.
        public var dailyBudget: Int
        public var reserve: Int
        /// Calls that may run ahead of an even spread over the day.
        public var burst: Int
        /// Seconds an open net may wait for Zoho before a call goes for it anyway.
        public var targetLagSeconds: Double
        /// A row whose `available` is below this (or at or below zero) is at risk.
        public var riskBelow: Int64
        /// Lines a call carries at most.
        public var maxLines: Int
        /// The day's length: 86,400 but for rehearsals and tests.
        public var daySeconds: Double

        public init(
            dailyBudget: Int, reserve: Int, burst: Int = 10, targetLagSeconds: Double = 900, riskBelow: Int64 = 5, maxLines: Int = 100,
            daySeconds: Double = 86_400
        ) {
            self.dailyBudget = dailyBudget
            self.reserve = reserve
            self.burst = burst
            self.targetLagSeconds = targetLagSeconds
            self.riskBelow = riskBelow
            self.maxLines = maxLines
            self.daySeconds = daySeconds
        }

        /// Calls for posting batches: the budget less the reserve.
        public var usable: Int { max(0, dailyBudget - reserve) }
        /// The last calls of the day, kept for rows at risk.
        public var riskFloor: Int { max(1, usable / 20) }
    }

    /// An item × location row with a net open for Zoho.
    public struct Row: Sendable, Hashable {
        public var itemID: String
        public var locationID: String
        /// What we say may still be sold there.
        public var available: Int64
        /// What Zoho last confirmed.
        public var zohoOnHand: Int64
        /// The open net, not yet sent.
        public var net: Int64
        /// When the oldest change in the open net was accepted (seconds since 1970).
        public var openedAt: Double

        public init(itemID: String, locationID: String, available: Int64, zohoOnHand: Int64, net: Int64, openedAt: Double) {
            self.itemID = itemID
            self.locationID = locationID
            self.available = available
            self.zohoOnHand = zohoOnHand
            self.net = net
            self.openedAt = openedAt
        }
    }

    /// What to do now.
    public enum Decision: Sendable, Equatable {
        /// A call now, carrying these rows, most urgent first.
        case call([Row])
        /// Nothing now; look again at this time (seconds since 1970), or when something changes
        /// (nil: nothing is open).
        case wait(until: Double?)
    }

    public let settings: Settings

    public init(settings: Settings) {
        self.settings = settings
    }

    /// Whether a row is at risk: a stale Zoho figure there can oversell.
    public func isAtRisk(_ row: Row) -> Bool { row.available <= 0 || row.available < settings.riskBelow }

    /// The calls allowed by `now` in the day that started at `dayStart`: the burst allowance at
    /// the start, growing evenly to the whole usable budget at the end, so that running ahead
    /// never spends what the rest of the day needs.
    public func allowance(now: Double, dayStart: Double) -> Double {
        let elapsed = min(1, max(0, (now - dayStart) / settings.daySeconds))
        let burst = Double(min(settings.burst, settings.usable))
        return burst + (Double(settings.usable) - burst) * elapsed
    }

    /// When the next call is permitted: now when the day's calls are within the allowance, else
    /// when the remaining budget spread over the remaining time allows one after the last call,
    /// or when the allowance catches up, whichever is sooner. Nil when the budget is spent.
    public func nextPermitted(now: Double, dayStart: Double, callsToday: Int, lastCallAt: Double?) -> Double? {
        let remaining = settings.usable - callsToday
        guard remaining > 0 else { return nil }
        if Double(callsToday) + 1 <= allowance(now: now, dayStart: dayStart) { return now }
        let dayEnd = dayStart + settings.daySeconds
        let pace = max(0, dayEnd - now) / Double(remaining)
        let paced = (lastCallAt ?? dayStart) + pace
        // The allowance grows evenly through the day: when it reaches one more call.
        let rate = (Double(settings.usable) - Double(min(settings.burst, settings.usable))) / settings.daySeconds
        let caughtUp = rate > 0 ? now + (Double(callsToday) + 1 - allowance(now: now, dayStart: dayStart)) / rate : .infinity
        return max(now, min(paced, caughtUp))
    }

    /// The decision at `now`, for the day that started at `dayStart` (the organization's day),
    /// with `callsToday` made, the last at `lastCallAt`, and `rows` open.
    public func decide(now: Double, dayStart: Double, callsToday: Int, lastCallAt: Double?, rows: [Row]) -> Decision {
        guard !rows.isEmpty else { return .wait(until: nil) }
        let dayEnd = dayStart + settings.daySeconds
        guard let permitted = nextPermitted(now: now, dayStart: dayStart, callsToday: callsToday, lastCallAt: lastCallAt) else {
            // Spent: the next day brings the budget back.
            return .wait(until: dayEnd)
        }
        let remaining = settings.usable - callsToday
        let nearlySpent = remaining <= settings.riskFloor
        let atRisk = rows.filter(isAtRisk)
        let oldest = rows.map(\.openedAt).min() ?? now
        let lagDue = oldest + settings.targetLagSeconds
        // What would make a call worth it, and from when.
        var due: Double
        if !atRisk.isEmpty {
            due = now
        } else if nearlySpent {
            return .wait(until: dayEnd)
        } else {
            due = rows.count >= settings.maxLines ? now : lagDue
        }
        due = max(due, permitted)
        guard due <= now else { return .wait(until: due) }
        let candidates = nearlySpent ? atRisk : rows
        return .call(Array(ordered(candidates, now: now).prefix(settings.maxLines)))
    }

    /// Rows in the order they go: at risk first (the lowest `available` first); then rows that
    /// waited past the target lag, oldest first, so none starves; then the rows whose Zoho
    /// figure is most wrong for their stock (|net| against `zoho_on_hand`); then oldest first.
    public func ordered(_ rows: [Row], now: Double) -> [Row] {
        func rank(_ row: Row) -> Int {
            if isAtRisk(row) { return 0 }
            if now - row.openedAt >= settings.targetLagSeconds { return 1 }
            return 2
        }
        func wrongness(_ row: Row) -> Double { Double(row.net.magnitude) / Double(max(1, row.zohoOnHand)) }
        return rows.sorted { a, b in
            let (ra, rb) = (rank(a), rank(b))
            if ra != rb { return ra < rb }
            switch ra {
            case 0: if a.available != b.available { return a.available < b.available }
            case 2: if wrongness(a) != wrongness(b) { return wrongness(a) > wrongness(b) }
            default: break
            }
            if a.openedAt != b.openedAt { return a.openedAt < b.openedAt }
            return (a.itemID, a.locationID) < (b.itemID, b.locationID)
        }
    }
}
