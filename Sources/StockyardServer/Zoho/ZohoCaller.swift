import Foundation
import Logging
import StockyardHTTPClient
import StockyardRedis
import StockyardZoho
import Synchronization

/// Makes Zoho calls on threads of its own, within the organization's call budget: one libcurl
/// client per thread (connections kept alive), the budget shared by every caller, and a Redis
/// connection for the token cache.
final class ZohoCaller: Sendable {
    /// What a worker thread owns; touched only on that thread.
    private final class Resources: @unchecked Sendable {
        let client: ZohoAPIClient
        var redis: RedisStore?
        init(client: ZohoAPIClient) { self.client = client }
    }

    private let configuration: ZohoConfiguration
    private let redisConfiguration: RedisConfiguration
    private let workers: [(worker: BlockingWorker, resources: Resources)]
    private let next = Atomic<Int>(0)
    private let budget: Mutex<CallBudget>
    private let timeZone: TimeZone
    private let logger: Logger

    init(configuration: ZohoConfiguration, redis: RedisConfiguration, logger: Logger) {
        self.configuration = configuration
        self.redisConfiguration = redis
        self.logger = logger
        self.budget = Mutex(CallBudget(limits: configuration.limits))
        self.timeZone = TimeZone(identifier: configuration.timeZone) ?? TimeZone(identifier: "UTC")!
        let clientConfiguration = CurlHTTPClient.Configuration(
            connectTimeout: configuration.connectTimeoutSeconds, totalTimeout: configuration.totalTimeoutSeconds)
        workers = (0..<max(1, configuration.limits.concurrent)).map { index in
            (BlockingWorker(name: "zoho-\(index)"), Resources(client: ZohoAPIClient(configuration: clientConfiguration)))
        }
    }

    func stop() {
        for (worker, _) in workers { worker.stop() }
    }

    // MARK: Budget

    /// The organization's day number, for the daily budget.
    private func today(_ now: Double) -> Int {
        let offset = Double(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: now)))
        return Int(((now + offset) / 86_400).rounded(.down))
    }

    /// Waits for a call slot. Throws `quotaExhausted` when the day's budget is spent, and
    /// `notSent` once `deadline` passes or the task is cancelled.
    func acquire(_ priority: CallBudget.Priority, deadline: ContinuousClock.Instant?) async throws(ZohoError) {
        while true {
            let now = Date().timeIntervalSince1970
            let decision = budget.withLock { $0.acquire(now: now, today: today(now), priority: priority) }
            switch decision {
            case .granted:
                return
            case .exhausted:
                throw ZohoError(.quotaExhausted, message: "the day's Zoho call budget is spent", outcomeKnown: true)
            case .wait(let seconds):
                try await pause(seconds, deadline: deadline)
            }
        }
    }

    /// Gives the slot back; `unused` when no call was made with it.
    func release(unused: Bool = false) {
        budget.withLock { $0.release(unused: unused) }
    }

    /// Zoho asked for a pause (429).
    func pause(forSeconds seconds: Double) {
        let until = Date().timeIntervalSince1970 + seconds
        budget.withLock { $0.pause(until: until) }
    }

    func callsLastMinute() -> Int {
        let now = Date().timeIntervalSince1970
        return budget.withLock { $0.callsLastMinute(now: now) }
    }

    func callsToday() -> Int { budget.withLock { $0.callsToday } }

    /// Sleeps up to `seconds`, or throws `notSent` when that would pass the deadline or the task
    /// is cancelled.
    func pause(_ seconds: Double, deadline: ContinuousClock.Instant?) async throws(ZohoError) {
        let duration = Duration.milliseconds(Int64(max(1, seconds * 1000)))
        if let deadline, ContinuousClock.now + duration > deadline {
            throw ZohoError(.notSent, message: "stopping before the next Zoho call", outcomeKnown: true)
        }
        do {
            try await Task.sleep(for: duration)
        } catch {
            throw ZohoError(.notSent, message: "stopping before the next Zoho call", outcomeKnown: true)
        }
    }

    // MARK: Calls

    /// Runs one Zoho API call on a worker thread (the caller holds a budget slot).
    /// API calls (not token requests) are recorded in Redis first, so that a restarted service
    /// keeps counting them against the per-minute and daily limits.
    func run<T: Sendable>(
        counted: Bool = true, _ body: @escaping @Sendable (ZohoAPIClient) throws(ZohoError) -> T
    ) async throws(ZohoError) -> T {
        let index = next.add(1, ordering: .relaxed).oldValue % workers.count
        let (worker, resources) = workers[index]
        let redisConfiguration = self.redisConfiguration
        let now = Date().timeIntervalSince1970
        let day = today(now)
        let logger = self.logger
        return try await worker.run { () throws(ZohoError) -> T in
            if counted {
                do {
                    try Self.store(resources, redisConfiguration).recordZohoCall(milliseconds: Int64(now * 1000), day: day)
                } catch {
                    resources.redis = nil
                    logger.warning("cannot record a Zoho call in Redis", metadata: ["error": "\(error)"])
                }
            }
            return try body(resources.client)
        }
    }

    /// Counts the calls made before a restart against the limits.
    func restoreBudget() async {
        let (worker, resources) = workers[0]
        let redisConfiguration = self.redisConfiguration
        let now = Date().timeIntervalSince1970
        let day = today(now)
        let history = try? await worker.run { () throws(RedisError) in
            try Self.store(resources, redisConfiguration).zohoCallHistory(milliseconds: Int64(now * 1000), day: day)
        }
        guard let history else { return }
        budget.withLock { $0.restore(recentCalls: history.times.map { Double($0) / 1000 }, today: day, usedToday: history.today) }
        if !history.times.isEmpty || history.today > 0 {
            logger.info("Zoho calls before the restart counted", metadata: ["last_minute": "\(history.times.count)", "today": "\(history.today)"])
        }
    }

    /// The endpoint for a token: the configured API URL, else the token's `api_domain`.
    func endpoint(_ token: ZohoToken) -> ZohoEndpoint {
        let host = configuration.apiURL ?? (token.apiDomain.isEmpty ? "https://www.zohoapis.com" : token.apiDomain)
        return ZohoEndpoint(
            apiRoot: host.trimmingSuffix("/") + "/inventory/v1", organizationID: configuration.organizationID,
            accessToken: token.accessToken)
    }

    func refreshToken(_ configuration: ZohoConfiguration) async throws(ZohoError) -> ZohoToken {
        try await run(counted: false) { client throws(ZohoError) in
            try client.refreshAccessToken(
                accountsURL: configuration.accountsURL, clientID: configuration.clientID, clientSecret: configuration.clientSecret,
                refreshToken: configuration.refreshToken, now: Date().timeIntervalSince1970)
        }
    }

    // MARK: Token cache

    func cachedToken() async throws -> CachedToken? {
        let (worker, resources) = workers[0]
        let redisConfiguration = self.redisConfiguration
        let record: [UInt8]? = try await worker.run { () throws(RedisError) -> [UInt8]? in
            try Self.store(resources, redisConfiguration).zohoToken()
        }
        return try record.map { try JSONDecoder().decode(CachedToken.self, from: Data($0)) }
    }

    func cacheToken(_ cached: CachedToken) async throws {
        let (worker, resources) = workers[0]
        let redisConfiguration = self.redisConfiguration
        let record = Array(try JSONEncoder().encode(cached))
        let seconds = Int(cached.token.expiresAt - Date().timeIntervalSince1970)
        try await worker.run { () throws(RedisError) in
            do throws(RedisError) {
                try Self.store(resources, redisConfiguration).setZohoToken(record, expiresInSeconds: seconds)
            } catch {
                resources.redis = nil
                throw error
            }
        }
    }

    private static func store(_ resources: Resources, _ configuration: RedisConfiguration) throws(RedisError) -> RedisStore {
        if let store = resources.redis, store.connection.isUsable { return store }
        let store = RedisStore(connection: try RedisConnection(configuration: configuration))
        resources.redis = store
        return store
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
