/// A vendor's limits on one account's API calls, as the client keeps them: calls per second (or
/// a spacing between calls), per minute, at once, per day (with a reserve that only essential
/// calls may use) and any pause the vendor asked for. Pure: the caller passes the time.
public struct CallBudget: Sendable {
    /// The limits.
    public struct Limits: Sendable, Hashable {
        /// Calls in any second; 0 for no such limit.
        public var perSecond: Int
        /// Seconds between the starts of two calls, for a fractional rate; 0 for none.
        public var spacing: Double
        public var perMinute: Int
        public var concurrent: Int
        public var daily: Int
        /// Calls of the daily budget kept for resolving batches whose outcome is unknown.
        public var dailyReserve: Int

        public init(
            perSecond: Int = 0, spacing: Double = 0, perMinute: Int = 60, concurrent: Int = 1, daily: Int = 1000, dailyReserve: Int = 50
        ) {
            self.perSecond = perSecond
            self.spacing = spacing
            self.perMinute = perMinute
            self.concurrent = concurrent
            self.daily = daily
            self.dailyReserve = dailyReserve
        }
    }

    /// What a call may do now.
    public enum Decision: Sendable, Equatable {
        case granted
        /// Try again after this many seconds.
        case wait(Double)
        /// Today's budget is spent: nothing until the next day.
        case exhausted
    }

    /// How much a call matters.
    public enum Priority: Sendable {
        /// Ordinary work (posting new batches): stops at the reserve.
        case normal
        /// Needed for exactly-once (finding out what happened to a batch): may use the reserve.
        case essential
    }

    public let limits: Limits
    /// Added to the minute, for the time a call takes to reach the vendor.
    public static let slackSeconds = 2.0
    /// How far back the history of calls must reach to restore every window.
    public static let historySeconds = 60 + slackSeconds
    private var minute: SlidingWindow
    private var second: SlidingWindow?
    private var spaced: SlidingWindow?
    private var running = 0
    private var day: Int = .min
    private var usedToday = 0
    private var pausedUntil: Double = 0

    public init(limits: Limits) {
        self.limits = limits
        // A little over a minute: a call is counted here when it leaves and by the vendor when
        // it arrives, so two calls a minute apart here can be less than a minute apart there.
        self.minute = SlidingWindow(limit: max(1, limits.perMinute), seconds: 60 + Self.slackSeconds)
        self.second = limits.perSecond > 0 ? SlidingWindow(limit: limits.perSecond, seconds: 1) : nil
        self.spaced = limits.spacing > 0 ? SlidingWindow(limit: 1, seconds: limits.spacing) : nil
    }

    /// The time the current pause ends (0 when none was asked for).
    public var pausedUntilTime: Double { pausedUntil }

    public var callsToday: Int { usedToday }
    public var callsRunning: Int { running }

    /// Calls made in the last minute.
    public mutating func callsLastMinute(now: Double) -> Int { minute.count(now: now) }

    /// Takes a call slot if the limits allow one at `now` (`today` numbers the organization's
    /// day, so the daily count starts again when it changes).
    public mutating func acquire(now: Double, today: Int, priority: Priority) -> Decision {
        if today != day {
            day = today
            usedToday = 0
        }
        let cap = priority == .essential ? limits.daily : max(0, limits.daily - limits.dailyReserve)
        if usedToday >= cap { return .exhausted }
        if now < pausedUntil { return .wait(pausedUntil - now) }
        let wait = max(minute.wait(now: now), second?.wait(now: now) ?? 0, spaced?.wait(now: now) ?? 0)
        if wait > 0 { return .wait(wait) }
        if running >= limits.concurrent { return .wait(0.05) }
        record(now)
        running += 1
        usedToday += 1
        return .granted
    }

    /// Gives a call slot back once the call has ended, or, with `unused`, when no call was made
    /// after all (a flush that found nothing to seal): then it costs nothing. `grantedAt` is the
    /// time the slot was granted, so that with calls at once the right one is forgotten.
    public mutating func release(unused: Bool = false, grantedAt: Double? = nil) {
        running = max(0, running - 1)
        if unused {
            if let grantedAt {
                minute.remove(at: grantedAt)
                second?.remove(at: grantedAt)
                spaced?.remove(at: grantedAt)
            } else {
                minute.removeLast()
                second?.removeLast()
                spaced?.removeLast()
            }
            usedToday = max(0, usedToday - 1)
        }
    }

    /// The vendor asked to wait (429 with `Retry-After` or `X-Rate-Limit-Reset`).
    public mutating func pause(until time: Double) {
        pausedUntil = max(pausedUntil, time)
    }

    /// Takes in calls made before a restart: their times (seconds), the count for `today` and
    /// a pause still running.
    public mutating func restore(recentCalls: [Double], today: Int, usedToday: Int, pausedUntil: Double = 0) {
        for time in recentCalls.sorted() { record(time) }
        if day != today {
            day = today
            self.usedToday = 0
        }
        self.usedToday = max(self.usedToday, usedToday)
        pause(until: pausedUntil)
    }

    private mutating func record(_ time: Double) {
        minute.record(now: time)
        second?.record(now: time)
        spaced?.record(now: time)
    }

    /// The vendor says the day's quota is spent.
    public mutating func spendDay() {
        usedToday = limits.daily
    }
}
