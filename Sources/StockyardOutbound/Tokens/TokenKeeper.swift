import Crypto
import Foundation
import Logging
import StockyardRedis

/// The one keeper of a credential's access token, whatever the vendor: cached in memory and in
/// Redis, replaced ahead of expiry (five minutes, or a quarter of its lifetime when shorter) or
/// after a 401, one request at a time, and never more token requests than the vendor allows in
/// its window, counted in Redis so that a restarted or crash-looping service keeps within it.
/// A refusal of the credentials stops it as its policy says.
public actor TokenKeeper {
    /// Asks the vendor for a token; `refreshToken` is the one to use (rotated, else configured).
    public typealias Fetch = @Sendable (_ refreshToken: String?, _ now: Double) async throws(OutboundError) -> AccessToken
    /// Told of every token request's outcome (for metrics).
    public typealias Observer = @Sendable (Result<AccessToken, OutboundError>) -> Void

    /// `zoho`, `ebay:app`, `ebay:user`, `etsy`: the Redis names of the cache and the history.
    public nonisolated let name: String
    /// What identifies the credentials (a digest, never the secrets): a cached token issued
    /// for other credentials is not used.
    private let identity: String
    private let configuredRefreshToken: String?
    private let policy: TokenPolicy
    private let store: OutboundStore
    private let fetch: Fetch
    private let observe: Observer?
    private let clock: @Sendable () -> Double
    private let logger: Logger
    private var token: AccessToken?
    /// The cache and the request history, read from Redis once, before the first token is used.
    private var loading: Task<Void, Never>?
    private var loaded = false
    private var requests: SlidingWindow
    private var pending: Task<AccessToken, any Error>?
    /// Set when the vendor refused the credentials, and when.
    private var refusal: (error: OutboundError, at: Double)?
    /// Until when the vendor asked not to be sent token requests (its own limit).
    private var vendorNotBefore: Double = 0

    public init(
        name: String, identity: String, refreshToken: String? = nil, policy: TokenPolicy, store: OutboundStore, logger: Logger,
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }, observe: Observer? = nil, fetch: @escaping Fetch
    ) {
        self.name = name
        self.identity = identity
        self.configuredRefreshToken = refreshToken
        self.policy = policy
        self.store = store
        self.logger = logger
        self.clock = clock
        self.observe = observe
        self.fetch = fetch
        self.requests = SlidingWindow(limit: policy.requestsPerWindow, seconds: policy.windowSeconds)
    }

    /// What identifies a set of credentials without holding them: a digest of their parts.
    public static func identity(_ parts: String...) -> String {
        SHA256.hash(data: Data(parts.joined(separator: "\n").utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    /// Set while the vendor's refusal of the credentials holds.
    public var refused: OutboundError? {
        guard let refusal else { return nil }
        if case .retryAfter(let seconds) = policy.refusal, clock() - refusal.at >= seconds { return nil }
        return refusal.error
    }

    /// Reads the cached token and the request history from Redis, once it succeeds; callers at
    /// the same time wait for the one read. Until it has succeeded no token is asked for: the
    /// history is what keeps a restarted service within the vendor's limit.
    public func load() async {
        if loaded { return }
        let task = loading ?? Task { [store, name, identity, policy, clock] in
            let since = Int64((clock() - policy.windowSeconds) * 1000)
            let found = try? await store.run { redis throws(RedisError) in
                (
                    try redis.record(at: redis.keys.token(name)),
                    try redis.recordedTimes(at: redis.keys.tokenRequests(name), sinceMilliseconds: since).times
                )
            }
            await self.restore(found, identity: identity)
        }
        loading = task
        await task.value
    }

    private func restore(_ found: (record: [UInt8]?, requestTimes: [Int64])?, identity: String) {
        loading = nil
        guard !loaded, let found else { return }
        loaded = true
        for time in found.requestTimes { requests.record(now: Double(time) / 1000) }
        if let record = found.record, let cached = try? JSONDecoder().decode(CachedToken.self, from: Data(record)),
            cached.identity == identity, token == nil
        {
            token = cached.token
            logger.info("access token taken from the cache", metadata: ["token": "\(name)", "expires_in": "\(Int(cached.token.expiresAt - clock()))"])
        }
        if !found.requestTimes.isEmpty {
            logger.info("token requests before the restart counted", metadata: ["token": "\(name)", "requests": "\(found.requestTimes.count)"])
        }
    }

    /// A token with time left; replaced first when it is due (a due token that still works is
    /// used while no new one can be had).
    public func current() async throws(OutboundError) -> AccessToken {
        await load()
        if let token, !token.isDue(now: clock()) { return token }
        return try await refresh(replacing: nil)
    }

    /// A new token, because `rejected` was refused (401), or because the current one is due
    /// (`nil`). When another caller replaced it meanwhile, that token is returned without asking
    /// the vendor again; only one request is under way at a time.
    public func refresh(replacing rejected: String?) async throws(OutboundError) -> AccessToken {
        await load()
        let now = clock()
        if let refused { throw refused }
        refusal = nil
        if let token, token.accessToken != rejected, !token.isDue(now: now) { return token }
        if let pending { return try await Self.value(of: pending) }
        // From here to `pending` nothing awaits, so no second request can start meanwhile.
        if let reason = reasonNotToAsk(now: now) {
            if let usable = usable(rejected, now: now) { return usable }
            forget(rejected)
            throw reason
        }
        requests.record(now: now)
        let task = Task { [self] () throws -> AccessToken in try await self.request(now: now) }
        pending = task
        let result: Result<AccessToken, OutboundError>
        do throws(OutboundError) {
            result = .success(try await Self.value(of: task))
        } catch {
            result = .failure(error)
        }
        pending = nil
        switch result {
        case .success(let fresh):
            token = fresh
            observe?(.success(fresh))
            logger.info("access token refreshed", metadata: ["token": "\(name)"])
            await cache(fresh)
            return fresh
        case .failure(let error):
            if error.code == .notSent, let usable = usable(rejected, now: now) { return usable }
            forget(rejected)
            observe?(.failure(error))
            switch error.code {
            case .credentialsRejected:
                refusal = (error, clock())
                let when = policy.refusal == .untilRestart ? "until they are fixed and the service restarted" : "until they are fixed (tried again later)"
                logger.critical(
                    "the vendor refused our credentials: calls wait \(when)", metadata: ["token": "\(name)", "error": "\(error.message)"])
            case .rateLimited, .tokenRequestLimit:
                // The vendor's own limit on token requests: not asked again before it says.
                vendorNotBefore = max(vendorNotBefore, clock() + min(3600, max(1, error.retryAfter ?? 60)))
                logger.warning("the vendor refused a token request for now", metadata: ["token": "\(name)", "error": "\(error)"])
            default:
                logger.warning("token refresh failed", metadata: ["token": "\(name)", "error": "\(error)"])
            }
            throw error
        }
    }

    /// Why no token request may be made now, if so: the history not read yet, the vendor's pause,
    /// or our window full.
    private func reasonNotToAsk(now: Double) -> OutboundError? {
        if !loaded {
            return OutboundError(.notSent, message: "\(name): the token-request history could not be read from Redis, so no request was made")
        }
        if now < vendorNotBefore {
            return OutboundError(
                .tokenRequestLimit, message: "\(name): the vendor asked for a pause in token requests", retryAfter: vendorNotBefore - now)
        }
        let wait = requests.wait(now: now)
        if wait > 0 {
            return OutboundError(
                .tokenRequestLimit,
                message: "\(name): token requests are at the limit of \(policy.requestsPerWindow) per \(Int(policy.windowSeconds)) s",
                retryAfter: wait)
        }
        return nil
    }

    /// The token in hand when it was not refused and still works, however close to expiry.
    private func usable(_ rejected: String?, now: Double) -> AccessToken? {
        guard let token, token.accessToken != rejected, token.works(now: now) else { return nil }
        return token
    }

    /// One token request, counted in Redis before it is made (a request that cannot be counted
    /// is not made). A refresh token the vendor rotated to and then refused falls back to the
    /// configured one: a second request, counted like the first.
    private func request(now: Double) async throws(OutboundError) -> AccessToken {
        try await record(now)
        let rotated = token?.refreshToken
        let configured = configuredRefreshToken
        do {
            return try await fetch(rotated ?? configured, now)
        } catch where error.code == .credentialsRejected && rotated != nil && rotated != configured {
            let again = clock()
            if let reason = reasonNotToAsk(now: again) { throw reason }
            requests.record(now: again)
            try await record(again)
            return try await fetch(configured, again)
        }
    }

    /// Records a token request in Redis.
    private func record(_ time: Double) async throws(OutboundError) {
        let keep = Int64(policy.windowSeconds * 1000)
        do throws(RedisError) {
            try await store.run { [name] redis throws(RedisError) in
                try redis.recordTime(milliseconds: Int64(time * 1000), at: redis.keys.tokenRequests(name), keepMilliseconds: keep)
            }
        } catch {
            throw OutboundError(.notSent, message: "\(name): the token request could not be counted in Redis, so it was not made: \(error)")
        }
    }

    /// Drops a token the vendor refused, so that no call is made with it again: until a new one
    /// comes, callers get the reason there is none instead of another 401.
    private func forget(_ rejected: String?) {
        if let rejected, token?.accessToken == rejected { token = nil }
    }

    /// Caches a token in Redis; a failure only costs a token request after a restart.
    private func cache(_ fresh: AccessToken) async {
        guard let record = try? JSONEncoder().encode(CachedToken(identity: identity, token: fresh)) else { return }
        let bytes = Array(record)
        // A rotating refresh token must outlive the access token (Etsy's last 90 days).
        let seconds = fresh.refreshToken != nil ? 90 * 86_400 : Int(fresh.expiresAt - clock())
        _ = try? await store.run { [name] redis throws(RedisError) in
            try redis.setRecord(bytes, at: redis.keys.token(name), expiresInSeconds: seconds)
        }
    }

    private static func value(of task: Task<AccessToken, any Error>) async throws(OutboundError) -> AccessToken {
        do {
            return try await task.value
        } catch let error as OutboundError {
            throw error
        } catch {
            throw OutboundError(.notSent, message: "token refresh interrupted")
        }
    }
}

/// A token as cached in Redis, with the credentials it belongs to.
struct CachedToken: Codable, Sendable {
    var identity: String
    var token: AccessToken
}
