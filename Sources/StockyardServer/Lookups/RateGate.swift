import Synchronization

/// Spaces a channel's calls to at most `perSecond`, and holds them all while the channel asked
/// for a pause (429) or cannot be called (refused credentials).
final class RateGate: Sendable {
    private struct State {
        var next: Double = 0
        var pausedUntil: Double = 0
    }

    let interval: Double
    private let state = Mutex(State())

    init(perSecond: Double) {
        interval = perSecond > 0 ? 1 / perSecond : 0
    }

    /// Seconds to wait before the caller's turn (its slot is taken).
    func delay(now: Double) -> Double {
        state.withLock { state in
            let start = max(now, state.next, state.pausedUntil)
            state.next = start + interval
            return start - now
        }
    }

    /// Holds every call until `until` (seconds since 1970).
    func pause(until: Double) {
        state.withLock { $0.pausedUntil = max($0.pausedUntil, until) }
    }
}
