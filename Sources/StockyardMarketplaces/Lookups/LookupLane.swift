import Foundation
import StockyardChannels
import StockyardCore
import StockyardOutbound
import Synchronization
import StockyardEngine

/// One channel's side of the look-ups: how to fetch and read its orders, how fast, and which
/// jobs its workers hold now.
package final class LookupLane: Sendable {
    package typealias Fetch = @Sendable (_ job: LookupJob, _ worker: Int) async throws(OutboundError) -> [UInt8]
    package typealias Read = @Sendable (_ body: [UInt8], _ job: LookupJob) throws(PayloadError) -> ChannelDelivery

    /// What a lane reports in `/readyz`.
    package struct Status: Sendable {
        package var state = "ok"
        package var lastError: String?
        /// Seconds since 1970.
        package var lastDoneAt: Double?
    }

    package let kind: LookupJob.Kind
    package let channel: Channel
    package let concurrency: Int
    /// The channel's call budget: its pace, and the pauses the channel asked for or the lane chose.
    package let limiter: CallLimiter
    package let fetch: Fetch
    package let read: Read
    package let claims = Claims()
    package let status = Mutex(Status())
    package let strikes = Mutex(Strikes())

    /// Look-ups are tried once per attempt: a job's own retries, with their waits, are the
    /// lane's; a 429 pauses the budget and the job goes back to wait for it.
    package static let retry = RetryPolicy(attempts: 1, waitOnRateLimit: false)

    package init(kind: LookupJob.Kind, channel: Channel, concurrency: Int, limiter: CallLimiter, fetch: @escaping Fetch, read: @escaping Read) {
        self.kind = kind
        self.channel = channel
        self.concurrency = concurrency
        self.limiter = limiter
        self.fetch = fetch
        self.read = read
    }

    /// Runs a reader over the bytes of a body.
    package static func read(
        _ body: [UInt8], with reader: (UnsafeRawBufferPointer) throws(PayloadError) -> ChannelDelivery
    ) throws(PayloadError) -> ChannelDelivery {
        let result = body.withUnsafeBytes { raw in Result { () throws(PayloadError) in try reader(raw) } }
        return try result.get()
    }

    /// Jobs handed to workers: a few due jobs taken from the inbox at a time, and the ids held.
    /// With nothing due, the inbox is looked at again only once new jobs are stored, a waiting
    /// job falls due, or a second passes, so idle workers do not scan a large backlog.
    package final class Claims: Sendable {
        private struct State {
            package var pending: [LookupJob] = []
            package var held = Set<String>()
            package var generation = -1
            /// Milliseconds since 1970 before which nothing new can be due.
            package var quietUntil: Int64 = 0
        }

        private let state = Mutex(State())

        /// Milliseconds since 1970 until which nothing new can be due unless jobs are stored.
        var quietUntil: Int64 { state.withLock { $0.quietUntil } }

        /// The next due job no worker holds, now held by the caller.
        package func next(from inbox: Inbox, kind: LookupJob.Kind, now: Int64) -> LookupJob? {
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
        package func release(_ id: String) {
            state.withLock {
                $0.held.remove(id)
                $0.quietUntil = 0
            }
        }
    }

    /// Failures in a row, across the lane's jobs.
    package struct Strikes {
        package var failures = 0
    }
}
