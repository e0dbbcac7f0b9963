import Foundation
import Logging
import StockyardRedis
import Synchronization

/// One API's call budget, shared by every caller of that API: the pure `CallBudget` behind a
/// lock, waiting for a slot, and its history kept in Redis (call times, the day's count, a pause
/// the vendor asked for), so a restarted service keeps every window it was keeping.
public final class CallLimiter: Sendable {
    /// `zoho`, `ebay`, `etsy`: the Redis name of its history.
    public let name: String
    private let budget: Mutex<CallBudget>
    /// 429s in a row without a `Retry-After`: the pause doubles with each.
    private let rateLimitStrikes = Mutex(0)
    /// The pause after a first 429 that names no time (Zoho: a minute, the marketplaces: a second).
    private let firstRateLimitPause: Double
    /// Set once the history of calls before a restart is read: no call is granted before.
    private let restored = Atomic<Bool>(false)
    private let store: OutboundStore
    private let timeZone: TimeZone
    private let clock: @Sendable () -> Double
    private let logger: Logger

    public init(
        name: String, limits: CallBudget.Limits, timeZone: TimeZone = TimeZone(identifier: "UTC")!, firstRateLimitPause: Double = 1,
        store: OutboundStore, logger: Logger, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.name = name
        self.firstRateLimitPause = firstRateLimitPause
        self.budget = Mutex(CallBudget(limits: limits))
        self.timeZone = timeZone
        self.store = store
        self.logger = logger
        self.clock = clock
    }

    public var limits: CallBudget.Limits { budget.withLock { $0.limits } }

    /// The account's day number (in its time zone), for the daily budget.
    public func today(_ now: Double) -> Int {
        let offset = Double(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: now)))
        return Int(((now + offset) / 86_400).rounded(.down))
    }

    /// Waits for a call slot, and gives the time it was granted (for `release(unused:grantedAt:)`).
    /// Throws `quotaExhausted` when the day's budget is spent, and `notSent` once `deadline`
    /// passes, the task is cancelled, or the history before a restart cannot be read.
    @discardableResult
    public func acquire(_ priority: CallBudget.Priority, deadline: ContinuousClock.Instant?) async throws(OutboundError) -> Double {
        if !restored.load(ordering: .acquiring) {
            await restore()
            guard restored.load(ordering: .acquiring) else {
                throw OutboundError(.notSent, message: "the history of \(name) calls could not be read from Redis, so no call was made")
            }
        }
        while true {
            let now = clock()
            let decision = budget.withLock { $0.acquire(now: now, today: today(now), priority: priority) }
            switch decision {
            case .granted:
                return now
            case .exhausted:
                throw OutboundError(.quotaExhausted, message: "the day's \(name) call budget is spent")
            case .wait(let seconds):
                try await Self.sleep(seconds, deadline: deadline)
            }
        }
    }

    /// Gives the slot back; `unused` when no call was made with it (then it costs nothing).
    public func release(unused: Bool = false, grantedAt: Double? = nil) {
        budget.withLock { $0.release(unused: unused, grantedAt: grantedAt) }
    }

    /// Records a call about to be made in Redis, so a restart keeps counting it. A failure is
    /// logged: the call is still counted here.
    public func recordCall() async {
        let now = clock()
        let milliseconds = Int64(now * 1000)
        let day = today(now)
        let keep = Int64(CallBudget.historySeconds * 1000)
        do throws(RedisError) {
            try await store.run { [name] redis throws(RedisError) in
                try redis.recordTime(milliseconds: milliseconds, at: redis.keys.apiCalls(name), keepMilliseconds: keep, dayKey: redis.keys.apiDay(name, day))
            }
        } catch {
            logger.warning("cannot record a call in Redis", metadata: ["api": "\(name)", "error": "\(error)"])
        }
    }

    /// Holds every call for `seconds`; `remember` keeps the pause across a restart (a pause the
    /// vendor asked for, as opposed to one of our own choosing).
    public func pause(forSeconds seconds: Double, remember: Bool = true) async {
        let now = clock()
        let until = now + seconds
        budget.withLock { $0.pause(until: until) }
        guard remember else { return }
        _ = try? await store.run { [name] redis throws(RedisError) in
            try redis.setPause(untilMilliseconds: Int64(until * 1000), at: redis.keys.apiPause(name), nowMilliseconds: Int64(now * 1000))
        }
    }

    /// A 429: pauses every call for what the vendor asked, or, when it named no time, for a
    /// pause that doubles with each 429 in a row from `firstRateLimitPause` (up to an hour).
    /// Returns the pause.
    @discardableResult
    public func rateLimited(retryAfter: Double?) async -> Double {
        let strikes = rateLimitStrikes.withLock { strikes -> Int in
            strikes += 1
            return strikes
        }
        let doubling = firstRateLimitPause * pow(2, Double(min(strikes, 13) - 1))
        // Never less than a quarter second: a `Retry-After: 0` must not become a tight loop.
        let seconds = max(0.25, min(3600, retryAfter ?? doubling))
        await pause(forSeconds: seconds)
        return seconds
    }

    /// A call went through: the next 429 starts its doubling again.
    public func succeeded() {
        rateLimitStrikes.withLock { $0 = 0 }
    }

    public func callsLastMinute() -> Int {
        let now = clock()
        return budget.withLock { $0.callsLastMinute(now: now) }
    }

    public func callsToday() -> Int { budget.withLock { $0.callsToday } }

    /// Seconds since 1970 until which calls are held (0 when none).
    public func pausedUntil() -> Double { budget.withLock { $0.pausedUntilTime } }

    /// The vendor says the day's quota is spent.
    public func spendDay() { budget.withLock { $0.spendDay() } }

    /// Counts the calls made before a restart against the limits, and keeps a pause still running.
    /// Until it has succeeded, `acquire` tries it again before granting anything.
    public func restore() async {
        if restored.load(ordering: .acquiring) { return }
        let now = clock()
        let day = today(now)
        let since = Int64((now - CallBudget.historySeconds) * 1000)
        let history = try? await store.run { [name] redis throws(RedisError) in
            try redis.recordedTimes(
                at: redis.keys.apiCalls(name), sinceMilliseconds: since, dayKey: redis.keys.apiDay(name, day), pauseKey: redis.keys.apiPause(name))
        }
        guard let history else { return }
        guard restored.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        budget.withLock {
            $0.restore(
                recentCalls: history.times.map { Double($0) / 1000 }, today: day, usedToday: history.day,
                pausedUntil: Double(history.pausedUntil) / 1000)
        }
        if !history.times.isEmpty || history.day > 0 || history.pausedUntil > Int64(now * 1000) {
            logger.info(
                "calls before the restart counted",
                metadata: [
                    "api": "\(name)", "last_minute": "\(history.times.count)", "today": "\(history.day)",
                    "paused_for_s": "\(max(0, Double(history.pausedUntil) / 1000 - now))",
                ])
        }
    }

    /// Sleeps up to `seconds`, or throws `notSent` when that would pass the deadline or the task
    /// is cancelled.
    public static func sleep(_ seconds: Double, deadline: ContinuousClock.Instant?) async throws(OutboundError) {
        let duration = Duration.milliseconds(Int64(max(1, seconds * 1000)))
        if let deadline, ContinuousClock.now + duration > deadline {
            throw OutboundError(.notSent, message: "stopping before the next call")
        }
        do {
            try await Task.sleep(for: duration)
        } catch {
            throw OutboundError(.notSent, message: "stopping before the next call")
        }
    }
}
