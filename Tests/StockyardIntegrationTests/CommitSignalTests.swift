import Foundation
import StockyardEngine
import Testing

/// The signal idle workers wait on instead of polling: never lost between a look and a wait,
/// and a wait always ends (signal, timeout or cancellation). Every wait below that must end by
/// a signal or a cancellation has a timeout of ten minutes: ending within one shows it did.
@Suite struct CommitSignalTests {
    static let never = Duration.seconds(600)

    @Test func aSignalBetweenTheLookAndTheWaitIsNotLost() async {
        let signal = CommitSignal()
        let seen = signal.generation
        signal.signal()
        let start = ContinuousClock.now
        await signal.wait(after: seen, timeout: Self.never)
        #expect(ContinuousClock.now - start < .seconds(60))
    }

    @Test func aSignalWakesEveryWaiter() async {
        let signal = CommitSignal()
        let seen = signal.generation
        let start = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { await signal.wait(after: seen, timeout: Self.never) }
            }
            // Whether each waiter registered before this or not, it returns: before, it is
            // resumed; after, it sees the generation moved.
            signal.signal()
        }
        #expect(ContinuousClock.now - start < .seconds(60))
        #expect(signal.generation == seen + 1)
    }

    @Test func aWaitWithoutASignalEndsAtItsTimeout() async {
        let signal = CommitSignal()
        let seen = signal.generation
        await signal.wait(after: seen, timeout: .milliseconds(20))
        #expect(signal.generation == seen)
    }

    @Test func aCancelledWaitEnds() async {
        let signal = CommitSignal()
        let seen = signal.generation
        let start = ContinuousClock.now
        let waiter = Task { await signal.wait(after: seen, timeout: Self.never) }
        waiter.cancel()
        await waiter.value
        #expect(ContinuousClock.now - start < .seconds(60))
        #expect(signal.generation == seen)
    }
}
