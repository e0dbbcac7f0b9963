import Foundation
import StockyardChannels
import StockyardCore
import StockyardOutbound
import Synchronization

/// One channel's side of the look-ups: how to fetch and read its orders, how fast, and which
/// jobs its workers hold now.
final class LookupLane: Sendable {
    typealias Fetch = @Sendable (_ job: LookupJob, _ worker: Int) async throws(OutboundError) -> [UInt8]
    typealias Read = @Sendable (_ body: [UInt8], _ job: LookupJob) throws(PayloadError) -> ChannelDelivery

    /// What a lane reports in `/readyz`.
    struct Status: Sendable {
        var state = "ok"
        var lastError: String?
        /// Seconds since 1970.
        var lastDoneAt: Double?
    }

    let kind: LookupJob.Kind
    let channel: Channel
    let concurrency: Int
    /// The channel's call budget: its pace, and the pauses the channel asked for or the lane chose.
    let limiter: CallLimiter
    let fetch: Fetch
    let read: Read
    let claims = Claims()
    let status = Mutex(Status())
    let strikes = Mutex(Strikes())

    /// Look-ups are tried once per attempt: a job's own retries, with their waits, are the
    /// lane's; a 429 pauses the budget and the job goes back to wait for it.
    static let retry = RetryPolicy(attempts: 1, waitOnRateLimit: false)

    init(kind: LookupJob.Kind, channel: Channel, concurrency: Int, limiter: CallLimiter, fetch: @escaping Fetch, read: @escaping Read) {
        self.kind = kind
        self.channel = channel
        self.concurrency = concurrency
        self.limiter = limiter
        self.fetch = fetch
        self.read = read
    }

    /// Runs a reader over the bytes of a body.
    static func read(
        _ body: [UInt8], with reader: (UnsafeRawBufferPointer) throws(PayloadError) -> ChannelDelivery
    ) throws(PayloadError) -> ChannelDelivery {
        let result = body.withUnsafeBytes { raw in Result { () throws(PayloadError) in try reader(raw) } }
        return try result.get()
    }

    /// Jobs handed to workers: a few due jobs taken from the inbox at a time, and the ids held.
    /// With nothing due, the inbox is looked at again only once new jobs are stored, a waiting
    /// job falls due, or a second passes, so idle workers do not scan a large backlog.
    final class Claims: Sendable {
        private struct State {
            var pending: [LookupJob] = []
            var held = Set<String>()
            var generation = -1
            /// Milliseconds since 1970 before which nothing new can be due.
            var quietUntil: Int64 = 0
        }

        private let state = Mutex(State())

        /// The next due job no worker holds, now held by the caller.
        func next(from inbox: Inbox, kind: LookupJob.Kind, now: Int64) -> LookupJob? {
            state.withLock { state in
                if state.pending.isEmpty {
                    if now < state.quietUntil && inbox.lookupGeneration == state.generation { return nil }
                    let due = inbox.dueLookups(kind, now: now, limit: 256, excluding: state.held)
                    state.pending = due.jobs.reversed()
                    state.generation = due.generation
                    state.quietUntil = min(due.nextDue ?? .max, now + 1000)
                }
                guard let job = state.pending.popLast() else { return nil }
                state.held.insert(job.id)
                return job
            }
        }

        /// Gives a job back (done, or to be tried again): the next claim looks at the inbox.
        func release(_ id: String) {
            state.withLock {
                $0.held.remove(id)
                $0.quietUntil = 0
            }
        }
    }

    /// Failures in a row, across the lane's jobs.
    struct Strikes {
        var failures = 0
    }
}
