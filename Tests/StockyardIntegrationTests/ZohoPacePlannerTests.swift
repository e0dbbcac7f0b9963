import StockyardZoho
import Testing

/// The pure planner of Zoho calls: when a call is worth making within the day's pace, and which
/// rows go first.
@Suite struct ZohoPacePlannerTests {
    static let day = 1_800_000_000.0 - 1_800_000_000.0.truncatingRemainder(dividingBy: 86_400)
    let planner = ZohoPacePlanner(settings: .init(dailyBudget: 1000, reserve: 50, burst: 10, targetLagSeconds: 900, riskBelow: 5, maxLines: 100))

    func row(_ item: String, available: Int64 = 50, onHand: Int64 = 50, net: Int64 = -1, openedAt: Double) -> ZohoPacePlanner.Row {
        .init(itemID: item, locationID: "L1", available: available, zohoOnHand: onHand, net: net, openedAt: openedAt)
    }

    @Test func anIdleShopMakesNoCalls() {
        #expect(planner.decide(now: Self.day + 3600, dayStart: Self.day, callsToday: 0, lastCallAt: nil, rows: []) == .wait(until: nil))
    }

    @Test func aQuietRowWaitsForTheTargetLag() {
        let now = Self.day + 3600
        let open = row("A", openedAt: now - 60)
        #expect(planner.decide(now: now, dayStart: Self.day, callsToday: 0, lastCallAt: nil, rows: [open]) == .wait(until: now - 60 + 900))
        #expect(planner.decide(now: now + 840, dayStart: Self.day, callsToday: 0, lastCallAt: nil, rows: [open]) == .call([open]))
    }

    @Test func aRowAtRiskGoesAtOnceOrWithinItsInterval() {
        let now = Self.day + 3600
        let risky = row("A", available: 2, openedAt: now - 1)
        #expect(planner.decide(now: now, dayStart: Self.day, callsToday: 0, lastCallAt: nil, rows: [risky]) == .call([risky]))
        // Ahead of the allowance (50 calls by the first hour's end, with the burst): the next one
        // waits for the remaining budget spread over the rest of the day after the last call.
        let decision = planner.decide(now: now, dayStart: Self.day, callsToday: 60, lastCallAt: now - 1, rows: [risky])
        let pace = (Self.day + 86_400 - now) / Double(950 - 60)
        guard case .wait(let until?) = decision else { Issue.record("expected a wait, got \(decision)"); return }
        #expect(abs(until - (now - 1 + pace)) < 1e-6)
    }

    @Test func aNearlySpentBudgetIsKeptForRowsAtRisk() {
        let now = Self.day + 80_000
        let late = row("A", openedAt: now - 5000)
        let risky = row("B", available: 0, openedAt: now - 10)
        // 903 of 950 used: the last twentieth (47) is left.
        #expect(planner.decide(now: now, dayStart: Self.day, callsToday: 903, lastCallAt: now - 600, rows: [late]) == .wait(until: Self.day + 86_400))
        #expect(planner.decide(now: now, dayStart: Self.day, callsToday: 903, lastCallAt: now - 600, rows: [late, risky]) == .call([risky]))
    }

    @Test func aSpentBudgetWaitsForTheNextDayWhichBringsItBack() {
        let now = Self.day + 86_000
        let risky = row("A", available: -3, openedAt: now - 10)
        #expect(planner.decide(now: now, dayStart: Self.day, callsToday: 950, lastCallAt: now - 5, rows: [risky]) == .wait(until: Self.day + 86_400))
        let tomorrow = Self.day + 86_400
        #expect(planner.decide(now: tomorrow + 1, dayStart: tomorrow, callsToday: 0, lastCallAt: nil, rows: [risky]) == .call([risky]))
    }

    @Test func rowsGoAtRiskFirstThenOverdueThenMostWrongThenOldest() {
        let now = Self.day + 7200
        let overdue = row("overdue", openedAt: now - 1000)
        let wrong = row("wrong", onHand: 10, net: -8, openedAt: now - 10)
        let old = row("old", onHand: 100, net: -1, openedAt: now - 500)
        let young = row("young", onHand: 100, net: -1, openedAt: now - 5)
        let low = row("low", available: 3, openedAt: now - 1)
        let oversold = row("oversold", available: -2, openedAt: now - 1)
        let order = planner.ordered([young, old, wrong, overdue, low, oversold], now: now).map(\.itemID)
        #expect(order == ["oversold", "low", "overdue", "wrong", "old", "young"])
    }

    @Test func aFullDayWithRowsAlwaysOpenStaysWithinTheBudgetAndCallsToTheEnd() {
        // A row at risk open all day, asking for a call every minute.
        var calls = 0
        var last: Double?
        var lastCallTime = Self.day
        var time = Self.day
        while time < Self.day + 86_400 {
            let rows = [row("A", available: 0, openedAt: time - 30)]
            if case .call = planner.decide(now: time, dayStart: Self.day, callsToday: calls, lastCallAt: last, rows: rows) {
                calls += 1
                last = time
                lastCallTime = time
            }
            time += 60
        }
        #expect(calls <= 950)
        #expect(calls >= 900, "the budget is used: \(calls)")
        #expect(lastCallTime > Self.day + 86_400 - 3600, "calls still go in the day's last hour")
    }
}
