/// Zoho's limits for one organization, as the client keeps them: calls per minute, calls at
/// once, calls per day (with a reserve that only calls needed for exactly-once may use) and any
/// pause Zoho asked for. Pure: the caller passes the time.
public struct CallBudget: Sendable {
    /// The limits.
    public struct Limits: Sendable, Hashable {
        public var perMinute: Int
        public var concurrent: Int
        public var daily: Int
        /// Calls of the daily budget kept for resolving batches whose outcome is unknown.
        public var dailyReserve: Int

        public init(perMinute: Int = 60, concurrent: Int = 1, daily: Int = 1000, dailyReserve: Int = 50) {
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
        /// Posting new batches: stops at the reserve.
        case normal
        /// Finding out what happened to a batch: may use the reserve.
        case essential
    }

    public let limits: Limits
    /// Added to the minute, for the time a call takes to reach Zoho.
    public static let slackSeconds = 2.0
    private var minute: SlidingWindow
    private var running = 0
    private var day: Int = .min
    private var usedToday = 0
    private var pausedUntil: Double = 0

    public init(limits: Limits) {
        self.limits = limits
        // A little over a minute: a call is counted here when it leaves and by Zoho when it
        // arrives, so two calls a minute apart here can be less than a minute apart there.
        self.minute = SlidingWindow(limit: limits.perMinute, seconds: 60 + Self.slackSeconds)
    }

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
        let wait = minute.wait(now: now)
        if wait > 0 { return .wait(wait) }
        if running >= limits.concurrent { return .wait(0.05) }
        minute.record(now: now)
        running += 1
        usedToday += 1
        return .granted
    }

    /// Gives a call slot back once the call has ended, or, with `unused`, when no call was made
    /// after all (a flush that found nothing to seal): then it costs nothing.
    public mutating func release(unused: Bool = false) {
        running = max(0, running - 1)
        if unused {
            minute.removeLast()
            usedToday = max(0, usedToday - 1)
        }
    }

    /// Zoho asked to wait (429 with `Retry-After` or `X-Rate-Limit-Reset`).
    public mutating func pause(until time: Double) {
        pausedUntil = max(pausedUntil, time)
    }

    /// Takes in calls made before a restart: their times (seconds) and the count for `today`.
    public mutating func restore(recentCalls: [Double], today: Int, usedToday: Int) {
        for time in recentCalls.sorted() { minute.record(now: time) }
        day = today
        self.usedToday = max(self.usedToday, usedToday)
    }

    /// Zoho says the day's quota is spent.
    public mutating func spendDay() {
        usedToday = limits.daily
    }
}
