import Foundation
import StockyardChannels
import StockyardOutbound
import Synchronization

/// eBay's notification public keys by `kid`: pinned ones from the configuration, and those
/// fetched from eBay's key endpoint, refetched after `keyCacheSeconds` (a key once fetched is
/// still used while a refetch fails). One fetch per key at a time; after a failed fetch the key
/// is not asked for again for a few seconds; unknown key ids get at most 20 fetches a minute.
package final class EbayKeyCache: Sendable {
    package typealias Fetch = @Sendable (_ keyID: String) async throws(OutboundError) -> String

    private struct State {
        package var fetched: [String: (pem: String, at: Double)] = [:]
        package var failed: [String: (error: OutboundError, at: Double)] = [:]
        package var pending: [String: Task<String, any Error>] = [:]
        /// Fetches lately: a flood of made-up key ids must not spend eBay's call limit.
        package var fetches = SlidingWindow(limit: 20, seconds: 60)
    }

    private let pinned: [String: String]
    private let fetch: Fetch?
    private let lifetime: Double
    private let failureHoldSeconds: Double
    /// Seconds since 1970, now.
    private let clock: @Sendable () -> Double
    private let state = Mutex(State())

    package init(
        pinned: [String: String], lifetime: Double = 3600, failureHoldSeconds: Double = 5,
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }, fetch: Fetch?
    ) {
        self.pinned = pinned
        self.lifetime = lifetime
        self.failureHoldSeconds = failureHoldSeconds
        self.clock = clock
        self.fetch = fetch
    }

    /// The PEM for `keyID`: pinned, cached, or fetched now.
    package func key(_ keyID: String) async throws(OutboundError) -> String {
        if let pem = pinned[keyID] { return pem }
        let now = clock()
        enum Step { case found(String), failed(OutboundError), wait(Task<String, any Error>, stale: String?) }
        let step = state.withLock { state -> Step in
            let known = state.fetched[keyID]
            if let known, now - known.at < lifetime { return .found(known.pem) }
            if let task = state.pending[keyID] { return .wait(task, stale: known?.pem) }
            if let failure = state.failed[keyID], now - failure.at < failureHoldSeconds {
                // A key fetched before still verifies: a failed refetch never refuses it.
                return known.map { .found($0.pem) } ?? .failed(failure.error)
            }
            guard let fetch else {
                return .failed(OutboundError(.notConfigured, message: "the key \(keyID) is not pinned and eBay's API is not configured"))
            }
            // Made-up key ids spend the fetch budget; a key fetched before is refetched regardless.
            if known == nil {
                let wait = state.fetches.wait(now: now)
                if wait > 0 {
                    return .failed(OutboundError(.rateLimited, message: "too many key fetches lately", retryAfter: wait))
                }
                state.fetches.record(now: now)
            }
            if state.failed.count > 1024 { state.failed = state.failed.filter { now - $0.value.at < failureHoldSeconds } }
            let task = Task { () throws -> String in
                let pem = try await fetch(keyID)
                guard EbaySignature.isPublicKey(pem) else {
                    throw OutboundError(.invalidResponse, message: "eBay's key \(keyID) is not a P-256 public key")
                }
                return pem
            }
            state.pending[keyID] = task
            return .wait(task, stale: known?.pem)
        }
        switch step {
        case .found(let pem):
            return pem
        case .failed(let error):
            throw error
        case .wait(let task, let stale):
            do {
                let pem = try await task.value
                state.withLock {
                    $0.fetched[keyID] = (pem, clock())
                    $0.failed[keyID] = nil
                    if $0.pending[keyID] == task { $0.pending[keyID] = nil }
                }
                return pem
            } catch {
                let failure = (error as? OutboundError) ?? OutboundError(.network, message: "key fetch interrupted")
                state.withLock {
                    $0.failed[keyID] = (failure, clock())
                    if $0.pending[keyID] == task { $0.pending[keyID] = nil }
                }
                if let stale { return stale }
                throw failure
            }
        }
    }
}
