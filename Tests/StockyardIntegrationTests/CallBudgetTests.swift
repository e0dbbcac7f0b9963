import Foundation
import StockyardOutbound
import Testing

/// The per-organization call budget: per minute, at once, per day with a reserve, pauses.
@Suite struct CallBudgetTests {
    @Test func perMinuteLimitIsASlidingWindow() {
        var budget = CallBudget(limits: .init(perMinute: 3, concurrent: 10, daily: 100, dailyReserve: 0))
        for second in [0.0, 10, 20] {
            #expect(budget.acquire(now: second, today: 1, priority: .normal) == .granted)
            budget.release()
        }
        // A minute, plus the slack for the time calls take to reach Zoho.
        #expect(budget.acquire(now: 30, today: 1, priority: .normal) == .wait(32))
        #expect(budget.acquire(now: 61.5, today: 1, priority: .normal) == .wait(0.5))
        #expect(budget.acquire(now: 62.5, today: 1, priority: .normal) == .granted)
    }

    @Test func concurrentCallsAreCapped() {
        var budget = CallBudget(limits: .init(perMinute: 100, concurrent: 2, daily: 100, dailyReserve: 0))
        #expect(budget.acquire(now: 0, today: 1, priority: .normal) == .granted)
        #expect(budget.acquire(now: 0, today: 1, priority: .normal) == .granted)
        guard case .wait = budget.acquire(now: 0, today: 1, priority: .normal) else { Issue.record("a third call at once"); return }
        budget.release()
        #expect(budget.acquire(now: 0, today: 1, priority: .normal) == .granted)
    }

    @Test func theDailyReserveIsForLookUpsAndANewDayStartsAgain() {
        var budget = CallBudget(limits: .init(perMinute: 100, concurrent: 1, daily: 4, dailyReserve: 1))
        for _ in 0..<3 {
            #expect(budget.acquire(now: 0, today: 7, priority: .normal) == .granted)
            budget.release()
        }
        #expect(budget.acquire(now: 0, today: 7, priority: .normal) == .exhausted)
        #expect(budget.acquire(now: 0, today: 7, priority: .essential) == .granted)
        budget.release()
        #expect(budget.acquire(now: 0, today: 7, priority: .essential) == .exhausted)
        #expect(budget.acquire(now: 0, today: 8, priority: .normal) == .granted)
    }

    @Test func aSlotGivenBackUnusedCostsNothing() {
        // A flush takes a slot before it seals; with nothing to seal, no call is made.
        var budget = CallBudget(limits: .init(perMinute: 2, concurrent: 1, daily: 10, dailyReserve: 0))
        for _ in 0..<5 {
            #expect(budget.acquire(now: 10, today: 1, priority: .normal) == .granted)
            budget.release(unused: true)
        }
        #expect(budget.callsToday == 0)
        #expect(budget.callsLastMinute(now: 10) == 0)
        #expect(budget.acquire(now: 10, today: 1, priority: .normal) == .granted)
        budget.release()
        #expect(budget.acquire(now: 11, today: 1, priority: .normal) == .granted)
        budget.release()
        #expect(budget.callsToday == 2)
    }

    @Test func anUnusedSlotForgetsItsOwnCallNotALaterOne() {
        // Two calls at once; the first finds nothing to send. The window keeps the second.
        var budget = CallBudget(limits: .init(perMinute: 2, concurrent: 2, daily: 10, dailyReserve: 0))
        #expect(budget.acquire(now: 1, today: 1, priority: .normal) == .granted)
        #expect(budget.acquire(now: 2, today: 1, priority: .normal) == .granted)
        budget.release(unused: true, grantedAt: 1)
        budget.release()
        #expect(budget.acquire(now: 3, today: 1, priority: .normal) == .granted)
        budget.release()
        // Full again: the slot frees when the call at 2 leaves the minute, not the one at 1.
        #expect(budget.acquire(now: 3, today: 1, priority: .normal) == .wait(61))
    }

    @Test func aPauseHoldsEveryCall() {
        var budget = CallBudget(limits: .init(perMinute: 100, concurrent: 1, daily: 100, dailyReserve: 0))
        budget.pause(until: 12)
        #expect(budget.acquire(now: 10, today: 1, priority: .essential) == .wait(2))
        #expect(budget.acquire(now: 12, today: 1, priority: .normal) == .granted)
    }

    @Test func spacingSpreadsCallsAndAPauseHoldsThem() {
        // A channel's look-ups at 10 a second: one every 0.1 s, whoever asks.
        var budget = CallBudget(limits: .init(spacing: 0.1, perMinute: .max, concurrent: 10, daily: .max, dailyReserve: 0))
        #expect(budget.acquire(now: 100, today: 1, priority: .normal) == .granted)
        guard case .wait(let wait) = budget.acquire(now: 100, today: 1, priority: .normal) else { Issue.record("not spaced"); return }
        #expect(abs(wait - 0.1) < 1e-9)
        #expect(budget.acquire(now: 100.1, today: 1, priority: .normal) == .granted)
        budget.pause(until: 105)
        #expect(budget.acquire(now: 101, today: 1, priority: .normal) == .wait(4))
    }

    @Test func perSecondWindowAllowsABurstThenWaits() {
        var budget = CallBudget(limits: .init(perSecond: 3, perMinute: 100, concurrent: 10, daily: 100, dailyReserve: 0))
        for _ in 0..<3 { #expect(budget.acquire(now: 50, today: 1, priority: .normal) == .granted) }
        #expect(budget.acquire(now: 50.25, today: 1, priority: .normal) == .wait(0.75))
        #expect(budget.acquire(now: 51, today: 1, priority: .normal) == .granted)
    }

    @Test func callsBeforeARestartStillCount() {
        var budget = CallBudget(limits: .init(perMinute: 2, concurrent: 1, daily: 10, dailyReserve: 0))
        budget.restore(recentCalls: [100, 110], today: 3, usedToday: 9)
        #expect(budget.acquire(now: 120, today: 3, priority: .normal) == .wait(42))
        #expect(budget.acquire(now: 172, today: 3, priority: .normal) == .granted)
        budget.release()
        #expect(budget.acquire(now: 300, today: 3, priority: .normal) == .exhausted)
    }

    @Test func retryAfterTakesSecondsOrAnHTTPDate() {
        #expect(RetryAfter.seconds("7") == 7)
        #expect(RetryAfter.seconds(" 0 ") == 0)
        let now = Date(timeIntervalSince1970: 1_795_400_000)
        #expect(RetryAfter.seconds("Mon, 23 Nov 2026 02:13:40 GMT", now: now) == 20)
        #expect(RetryAfter.seconds("Mon, 23 Nov 2026 02:00:00 GMT", now: now) == 0)
        #expect(RetryAfter.seconds("soon") == nil)
    }
}
