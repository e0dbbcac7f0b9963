/// Counts events over a moving window of time, to keep under a limit such as "100 per minute".
public struct SlidingWindow: Sendable {
    public let limit: Int
    public let seconds: Double
    private var times: [Double] = []
    private var head = 0

    public init(limit: Int, seconds: Double) {
        precondition(limit > 0 && seconds > 0)
        self.limit = limit
        self.seconds = seconds
    }

    /// Events inside the window ending at `now`.
    public mutating func count(now: Double) -> Int {
        while head < times.count, times[head] <= now - seconds { head += 1 }
        if head > 1024 && head * 2 > times.count {
            times.removeFirst(head)
            head = 0
        }
        return times.count - head
    }

    /// Seconds until one more event fits (0 when it fits now).
    public mutating func wait(now: Double) -> Double {
        if count(now: now) < limit { return 0 }
        return times[times.count - limit] + seconds - now
    }

    /// Forgets the last event recorded (one that did not happen after all).
    public mutating func removeLast() {
        if times.count > head { times.removeLast() }
    }

    /// Forgets the event recorded at `time` (the latest such), one that did not happen after
    /// all, leaving events recorded since in place.
    public mutating func remove(at time: Double) {
        guard let index = times[head...].lastIndex(of: time) else { return }
        times.remove(at: index)
    }

    /// Records an event at `now`.
    public mutating func record(now: Double) {
        times.append(now)
    }
}
