import Foundation
import Logging

/// What every API client shares, put together for one API: threads with a client each, the
/// API's call budget and, when the API needs one, the keeper of its access token. A vendor's
/// client is a configuration of these, not a copy of them.
///
/// `call` is the whole path of one call: a budget slot, a token, the call on a thread of the
/// pool (recorded in Redis first, so a restart keeps counting it), then by the answer: a 401
/// replaces the token once and tries again; a 429 pauses every call of the API for what the
/// vendor asked (`Retry-After` in seconds or as a date) and tries again when the policy says
/// so; a 5xx or a failed exchange whose outcome is known is tried again after a growing wait
/// while the policy allows; anything else, and any outcome unknown, is the caller's.
public final class OutboundCaller<Client>: Sendable {
    public let pool: WorkerPool<Client>
    public let limiter: CallLimiter
    public let tokens: TokenKeeper?
    private let logger: Logger

    public init(pool: WorkerPool<Client>, limiter: CallLimiter, tokens: TokenKeeper?, logger: Logger) {
        self.pool = pool
        self.limiter = limiter
        self.tokens = tokens
        self.logger = logger
    }

    /// Lets the threads end once the work queued so far is done.
    public func stop() { pool.stop() }

    /// Runs `body` on a thread of the pool, the call recorded against the limits first (the
    /// caller holds a budget slot). `counted: false` for calls the vendor does not count
    /// against the API's limits (token requests).
    public func run<T: Sendable>(
        on thread: Int? = nil, counted: Bool = true, _ body: @escaping @Sendable (Client) throws(OutboundError) -> T
    ) async throws(OutboundError) -> T {
        if counted { await limiter.recordCall() }
        return try await pool.run(on: thread, body)
    }

    /// One call within the budget, with a token when the API has a keeper, retried as above.
    public func call<T: Sendable>(
        _ priority: CallBudget.Priority = .normal, deadline: ContinuousClock.Instant? = nil, on thread: Int? = nil,
        retry: RetryPolicy = RetryPolicy(), _ body: @escaping @Sendable (Client, AccessToken?) throws(OutboundError) -> T
    ) async throws(OutboundError) -> T {
        var refreshed = false
        var failures = 0
        while true {
            let granted = try await limiter.acquire(priority, deadline: deadline)
            let token: AccessToken?
            do throws(OutboundError) {
                token = try await tokens?.current()
            } catch {
                limiter.release(unused: true, grantedAt: granted)
                throw error
            }
            let result: Result<T, OutboundError>
            do throws(OutboundError) {
                result = .success(try await run(on: thread) { client throws(OutboundError) in try body(client, token) })
            } catch {
                result = .failure(error)
            }
            limiter.release()
            let error: OutboundError
            switch result {
            case .success(let value):
                limiter.succeeded()
                return value
            case .failure(let failure):
                error = failure
            }
            switch error.code {
            case .unauthorized where !refreshed && tokens != nil:
                refreshed = true
                _ = try? await tokens?.refresh(replacing: token?.accessToken)
                continue
            case .rateLimited:
                let seconds = await limiter.rateLimited(retryAfter: error.retryAfter)
                logger.notice("the vendor asked for a pause", metadata: ["api": "\(limiter.name)", "seconds": "\(seconds)"])
                if retry.waitOnRateLimit { continue }
            case .serverError where error.outcomeKnown, .network where error.outcomeKnown:
                failures += 1
                if failures < retry.attempts {
                    let wait = retry.backoff(afterFailures: failures)
                    logger.warning(
                        "call failed; trying again", metadata: ["api": "\(limiter.name)", "retry_in_s": "\(wait)", "error": "\(error)"])
                    try await CallLimiter.sleep(wait, deadline: deadline)
                    continue
                }
            default:
                break
            }
            throw error
        }
    }
}
