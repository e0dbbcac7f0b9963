import Foundation
import Logging
import Prometheus
import StockyardDevServers
import StockyardMarketplaces
import StockyardOutbound
import StockyardRedis
import StockyardZoho
import Synchronization
import Testing

/// The outbound layer every API client shares: the token keeper, the call budget kept across
/// restarts, and each client (Zoho, eBay, Etsy) through it against its sandbox over real HTTP,
/// with a real Redis.
@Suite struct OutboundLayerTests {
    /// A clock the test moves.
    final class TestClock: Sendable {
        private let seconds: Mutex<Double>
        init(_ start: Double = Date().timeIntervalSince1970) { seconds = Mutex(start) }
        var read: @Sendable () -> Double { { self.seconds.withLock { $0 } } }
        func advance(_ by: Double) { seconds.withLock { $0 += by } }
    }

    static let logger = Logger(label: "outbound-test") { _ in SwiftLogNoOpLogHandler() }

    static func zoho(_ sandbox: SandboxServer, requestsPer10Minutes: Int = 10, totalTimeout: Double = 5) -> ZohoConfiguration {
        ZohoConfiguration(
            accountsURL: sandbox.url, apiURL: sandbox.url, organizationID: sandbox.configuration.organizationID,
            clientID: sandbox.configuration.clientID, clientSecret: sandbox.configuration.clientSecret,
            refreshToken: sandbox.configuration.refreshTokens[0],
            limits: .init(perMinute: 100, concurrent: 1, daily: 1000, dailyReserve: 0), tokenRequestsPer10Minutes: requestsPer10Minutes,
            connectTimeoutSeconds: 2, totalTimeoutSeconds: totalTimeout)
    }

    static func zohoCaller(_ configuration: ZohoConfiguration, store: OutboundStore, clock: TestClock? = nil) -> ZohoCaller {
        let metrics = ZohoMetrics(registry: PrometheusCollectorRegistry())
        if let clock { return ZohoCaller(zoho: configuration, store: store, metrics: metrics, logger: logger, clock: clock.read) }
        return ZohoCaller(zoho: configuration, store: store, metrics: metrics, logger: logger)
    }

    // MARK: Token keeper

    @Test func aSixtySecondTokenIsReplacedAboutFifteenSecondsBeforeItExpiresNotOnEveryCall() async throws {
        let sandbox = try await SandboxServer(SandboxConfiguration(accessTokenSeconds: 60))
        defer { sandbox.stop() }
        let store = OutboundStore(redis: try SharedRedis.configuration())
        defer { store.stop() }
        let clock = TestClock()
        let caller = Self.zohoCaller(Self.zoho(sandbox), store: store, clock: clock)
        defer { caller.stop() }
        let tokens = try #require(caller.tokens)
        let first = try await tokens.current()
        for _ in 0..<20 { #expect(try await tokens.current() == first) }
        clock.advance(44.5)
        #expect(try await tokens.current() == first, "15.5 s left: still used")
        #expect(try sandbox.stats()["token_requests"] as? Int == 1)
        clock.advance(1)
        let second = try await tokens.current()
        #expect(second != first, "14.5 s left: replaced")
        #expect(try sandbox.stats()["token_requests"] as? Int == 2)
        #expect(try await tokens.current() == second)
    }

    @Test func tokenRequestsAreCountedAcrossARestart() async throws {
        let sandbox = try await SandboxServer(SandboxConfiguration(tokenRequestsPer10Minutes: 100))
        defer { sandbox.stop() }
        let redis = try SharedRedis.configuration()
        let configuration = Self.zoho(sandbox, requestsPer10Minutes: 3)
        let before = OutboundStore(redis: redis)
        let first = Self.zohoCaller(configuration, store: before)
        var token = try await first.tokens!.current()
        for _ in 0..<2 { token = try await first.tokens!.refresh(replacing: token.accessToken) }
        first.stop()
        before.stop()
        #expect(try sandbox.stats()["token_requests"] as? Int == 3)

        // A new process on the same store: the cached token is used, and no fourth request is
        // made within the ten minutes, even for a token refused with 401.
        let after = OutboundStore(redis: redis)
        defer { after.stop() }
        let second = Self.zohoCaller(configuration, store: after)
        defer { second.stop() }
        #expect(try await second.tokens!.current() == token)
        await #expect { try await second.tokens!.refresh(replacing: token.accessToken) } throws: {
            ($0 as? OutboundError)?.code == .tokenRequestLimit
        }
        #expect(try sandbox.stats()["token_requests"] as? Int == 3)
    }

    @Test func callersAtOnceShareOneTokenRequest() async throws {
        let sandbox = try await SandboxServer(SandboxConfiguration(tokenRequestsPer10Minutes: 100))
        defer { sandbox.stop() }
        let store = OutboundStore(redis: try SharedRedis.configuration())
        defer { store.stop() }
        let caller = Self.zohoCaller(Self.zoho(sandbox), store: store)
        defer { caller.stop() }
        let tokens = try #require(caller.tokens)
        let first = try await withThrowingTaskGroup(of: AccessToken.self) { group in
            for _ in 0..<16 { group.addTask { try await tokens.current() } }
            return try await group.reduce(into: Set<AccessToken>()) { $0.insert($1) }
        }
        #expect(first.count == 1)
        #expect(try sandbox.stats()["token_requests"] as? Int == 1)
        // All refused with 401 at once: one more request between them.
        let refused = try #require(first.first).accessToken
        let second = try await withThrowingTaskGroup(of: AccessToken.self) { group in
            for _ in 0..<16 { group.addTask { try await tokens.refresh(replacing: refused) } }
            return try await group.reduce(into: Set<AccessToken>()) { $0.insert($1) }
        }
        #expect(second.count == 1 && second != first)
        #expect(try sandbox.stats()["token_requests"] as? Int == 2)
    }

    @Test func aDueTokenThatStillWorksIsUsedWhileNoNewOneCanBeHad() async throws {
        let sandbox = try await SandboxServer(SandboxConfiguration(accessTokenSeconds: 60, tokenRequestsPer10Minutes: 100))
        defer { sandbox.stop() }
        let store = OutboundStore(redis: try SharedRedis.configuration())
        defer { store.stop() }
        let clock = TestClock()
        let caller = Self.zohoCaller(Self.zoho(sandbox, requestsPer10Minutes: 1), store: store, clock: clock)
        defer { caller.stop() }
        let tokens = try #require(caller.tokens)
        let token = try await tokens.current()
        // Due (10 s left), our window is full: the token in hand still serves.
        clock.advance(50)
        #expect(try await tokens.current() == token)
        // Expired: now the limit is the answer.
        clock.advance(10)
        await #expect { try await tokens.current() } throws: { ($0 as? OutboundError)?.code == .tokenRequestLimit }
        #expect(try sandbox.stats()["token_requests"] as? Int == 1)
    }

    @Test func noTokenIsAskedForWhileTheRequestHistoryCannotBeRead() async throws {
        let sandbox = try await SandboxServer(SandboxConfiguration(tokenRequestsPer10Minutes: 100))
        defer { sandbox.stop() }
        // A Redis that is not there: the history of token requests cannot be read.
        let store = OutboundStore(redis: try RedisConfiguration(url: "redis://127.0.0.1:\(freePort())", keyPrefix: "nowhere"))
        defer { store.stop() }
        let caller = Self.zohoCaller(Self.zoho(sandbox), store: store)
        defer { caller.stop() }
        await #expect { try await caller.tokens!.current() } throws: { ($0 as? OutboundError)?.code == .notSent }
        #expect(try sandbox.stats()["token_requests"] as? Int == 0)
    }

    @Test func a429WithoutRetryAfterPausesFromTheAPIsFirstPauseAndDoubles() async throws {
        let store = OutboundStore(redis: try SharedRedis.configuration())
        defer { store.stop() }
        let limiter = CallLimiter(
            name: "zoho", limits: .init(), firstRateLimitPause: 60, store: store, logger: Self.logger, clock: TestClock(1_800_000_000).read)
        #expect(await limiter.rateLimited(retryAfter: nil) == 60)
        #expect(await limiter.rateLimited(retryAfter: nil) == 120)
        #expect(await limiter.rateLimited(retryAfter: 5) == 5)
        #expect(await limiter.rateLimited(retryAfter: 0) == 0.25, "never a tight loop")
        limiter.succeeded()
        #expect(await limiter.rateLimited(retryAfter: nil) == 60)
    }

    /// A crash-looping service: killed with `-9` and restarted five times within ten minutes,
    /// each time with every token invalidated, and each run wanting several tokens. Zoho's limit
    /// of 10 token requests per 10 minutes holds across all of them.
    @Test func killedAndRestartedFiveTimesTheServiceStaysWithinTheTokenRequestLimit() async throws {
        let items = (1...3).map { SandboxItem(itemID: "49150000000\($0)", sku: "SKU-\($0)", stock: ["L1": 100]) }
        // The sandbox itself allows more, so that only the service's own count can keep it at 10.
        let sandbox = try await SandboxServer(SandboxConfiguration(tokenRequestsPer10Minutes: 1000, items: items))
        defer { sandbox.stop() }
        try await offPool {
            let prefix = "token-loop-\(UUID().uuidString.prefix(8))"
            var expected: [String: Double] = [:]
            var order = 0
            var limited = false
            for run in 0..<6 {
                let service = try ServiceProcess(redisURL: SharedRedis.url, prefix: prefix, environment: sandbox.serviceEnvironment())
                let api = APIClient(baseURL: service.baseURL)
                if run == 0 {
                    let stock = items.map { ["item_id": $0.itemID, "location_id": "L1", "zoho_on_hand": 100] as [String: Any] }
                    let listings = items.map { ["channel": "amazon", "listing_id": $0.sku, "item_id": $0.itemID, "locations": ["L1"]] as [String: Any] }
                    #expect(try api.send("PUT", "/v1/stock", json: ["stock": stock]).status == 200)
                    #expect(try api.send("PUT", "/v1/listings", json: ["listings": listings]).status == 200)
                }
                for _ in 0..<3 {
                    // Every token the sandbox issued stops working: the next call gets 401.
                    _ = try sandbox.control.send("POST", "/sandbox/expire-tokens")
                    order += 1
                    let item = items[order % items.count]
                    let reply = try api.postEvents([
                        saleEvent("amazon", listing: item.sku, order: "loop-\(order)", line: "1", quantity: 1, version: 1)
                    ])
                    #expect(reply.status == 200)
                    expected["\(item.itemID)/L1", default: 0] -= 1
                    try waitUntil("the sale in Zoho, or the token limit reached", timeout: 30) {
                        if try sandbox.nets() == expected { return true }
                        let zoho = try api.send("GET", "/readyz").json["zoho"] as? [String: Any]
                        if (zoho?["last_error"] as? String)?.contains("token_request_limit") == true {
                            limited = true
                            return true
                        }
                        return false
                    }
                }
                service.kill9()
            }
            let stats = try sandbox.stats()
            #expect(limited, "six runs of three expired tokens each want more than ten: \(stats)")
            #expect(stats["max_token_requests_in_10_minutes"] as? Int ?? 99 <= 10, "\(stats)")
            #expect(stats["token_requests"] as? Int ?? 99 <= 10, "\(stats)")
        }
    }

    // MARK: Call budget

    @Test func theCallBudgetKeepsItsSecondMinuteAndDayWindowsAndItsPauseAcrossRestarts() async throws {
        let redis = try SharedRedis.configuration()
        // An hour into a day, so that the test stays within it.
        let start = (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400 + 3600
        let clock = TestClock(start)
        let limits = CallBudget.Limits(perSecond: 2, perMinute: 4, concurrent: 10, daily: 6, dailyReserve: 0)
        func limiter() -> (CallLimiter, OutboundStore) {
            let store = OutboundStore(redis: redis)
            return (CallLimiter(name: "test-api", limits: limits, store: store, logger: Self.logger, clock: clock.read), store)
        }
        func call(_ limiter: CallLimiter) async throws(OutboundError) {
            try await limiter.acquire(.normal, deadline: .now)
            await limiter.recordCall()
            limiter.release()
        }
        func refused(_ limiter: CallLimiter) async -> OutboundError.Code? {
            do throws(OutboundError) {
                try await call(limiter)
                return nil
            } catch {
                return error.code
            }
        }

        let (first, firstStore) = limiter()
        try await call(first)
        try await call(first)
        firstStore.stop()

        // Restarted within the second: the per-second window is full.
        clock.advance(0.5)
        let (second, secondStore) = limiter()
        await second.restore()
        #expect(second.callsToday() == 2)
        #expect(await refused(second) == .notSent, "a third call in the same second")
        clock.advance(1)
        try await call(second)
        try await call(second)
        clock.advance(1)
        #expect(await refused(second) == .notSent, "a fifth call in the same minute")
        // The vendor asked for 20 s.
        await second.pause(forSeconds: 20)
        secondStore.stop()

        // Restarted within the pause and the minute.
        clock.advance(8)
        let (third, thirdStore) = limiter()
        await third.restore()
        #expect(third.callsLastMinute() == 4)
        #expect(third.pausedUntil() == start + 2.5 + 20)
        #expect(await refused(third) == .notSent)
        thirdStore.stop()

        // Restarted after the minute: the day's count remains.
        clock.advance(60)
        let (fourth, fourthStore) = limiter()
        defer { fourthStore.stop() }
        await fourth.restore()
        #expect(fourth.callsToday() == 4)
        try await call(fourth)
        clock.advance(1)
        try await call(fourth)
        clock.advance(1)
        #expect(await refused(fourth) == .quotaExhausted)
    }

    // MARK: Each client through the shared layer

    /// One client's side of the checks below.
    struct Client: Sendable {
        var limiter: CallLimiter
        /// One read call through the shared layer with this retry policy.
        var read: @Sendable (RetryPolicy) async throws(OutboundError) -> Void
        var setFaults: @Sendable ([String: Any]) throws -> Void
        var expireTokens: @Sendable () throws -> Void
        /// Token requests and API calls the sandbox counted.
        var counts: @Sendable () throws -> (tokens: Int, calls: Int)
    }

    /// 401 → one token refresh; 429 with `Retry-After` in seconds and as an HTTP date pauses
    /// every call for that long; a 5xx is tried again after a growing wait; a timeout fails as
    /// `network`, its outcome known for a read.
    func exercise(_ client: Client, timeoutFault: [String: Any]) async throws {
        try await client.read(RetryPolicy())
        let start = try client.counts()

        try client.expireTokens()
        try await client.read(RetryPolicy())
        let refreshed = try client.counts()
        #expect(refreshed.tokens == start.tokens + 1, "a 401: one token request")
        #expect(refreshed.calls == start.calls + 2, "the call, refused, then made again")

        for asDate in [false, true] {
            try client.setFaults(["rate_limit_rate": 1, "retry_after_as_date": asDate])
            let asked = Date().timeIntervalSince1970
            await #expect { try await client.read(RetryPolicy(waitOnRateLimit: false)) } throws: {
                ($0 as? OutboundError)?.code == .rateLimited
            }
            let answered = Date().timeIntervalSince1970
            // `Retry-After: 1` read when the answer came, or a date two seconds ahead in whole
            // seconds (so two to three seconds after the sandbox answered).
            let pausedUntil = client.limiter.pausedUntil()
            let range = asDate ? (asked + 2 - 0.05)...(answered + 3 + 0.05) : (asked + 1 - 0.05)...(answered + 1 + 0.05)
            #expect(range.contains(pausedUntil), "Retry-After as a date: \(asDate); paused \(pausedUntil - asked) s after asking")
            // Every call is held until then.
            try client.setFaults(["rate_limit_rate": 0])
            try await client.read(RetryPolicy())
            #expect(Date().timeIntervalSince1970 >= pausedUntil - 0.01, "held until the pause ended")
        }

        try client.setFaults(["server_error_rate": 1])
        let callsBefore = try client.counts().calls
        let failing = ContinuousClock.now
        await #expect { try await client.read(RetryPolicy(attempts: 3, firstBackoffSeconds: 0.25)) } throws: {
            ($0 as? OutboundError)?.code == .serverError
        }
        #expect(try client.counts().calls == callsBefore + 3, "three attempts")
        // Waits of 0.25 s and 0.5 s, each at least 80 % of that.
        #expect(ContinuousClock.now - failing >= .milliseconds(600))
        try client.setFaults(["server_error_rate": 0])

        try client.setFaults(timeoutFault)
        await #expect { try await client.read(RetryPolicy()) } throws: { error in
            guard let error = error as? OutboundError else { return false }
            return error.code == .network && error.outcomeKnown
        }
    }

    @Test func zohoThroughTheSharedLayer() async throws {
        let sandbox = try await SandboxServer(SandboxConfiguration(createUnknownItems: true, locations: ["L1"]))
        defer { sandbox.stop() }
        let store = OutboundStore(redis: try SharedRedis.configuration())
        defer { store.stop() }
        let configuration = Self.zoho(sandbox, totalTimeout: 1)
        let caller = Self.zohoCaller(configuration, store: store)
        defer { caller.stop() }
        let client = Client(
            limiter: caller.limiter,
            read: { retry throws(OutboundError) in
                _ = try await caller.call(retry: retry) { client, token throws(OutboundError) in
                    try client.listLocations(at: configuration.endpoint(token!))
                }
            },
            setFaults: { faults in
                var all: [String: Any] = ["hold_seconds": 3]
                for (key, value) in faults { all[key] = value }
                try sandbox.setFaults(all)
            },
            expireTokens: { _ = try sandbox.control.send("POST", "/sandbox/expire-tokens") },
            counts: {
                let stats = try sandbox.stats()
                return (stats["token_requests"] as? Int ?? -1, stats["calls"] as? Int ?? -1)
            })
        try await exercise(client, timeoutFault: ["timeout_rate": 1, "hold_seconds": 3])

        // A write that times out may have been applied: its outcome is unknown.
        let request = AdjustmentRequest(
            date: "2026-12-02", reason: "test", referenceNumber: "SY-timeout",
            lineItems: [AdjustmentLine(itemID: "1", locationID: "L1", quantityAdjusted: -1)])
        await #expect {
            try await caller.call { client, token throws(OutboundError) in try client.createAdjustment(request, at: configuration.endpoint(token!)) }
        } throws: { error in
            guard let error = error as? OutboundError else { return false }
            return error.code == .network && !error.outcomeKnown
        }
    }

    /// A marketplace client over the marketplace sandbox: its faults, its token expiry, and the
    /// counts it keeps for `channel` (`calls` names the counter of the call under test).
    static func marketplaceClient(
        _ sandbox: MarketplaceSandboxServer, limiter: CallLimiter, channel: String, calls: String,
        read: @escaping @Sendable (RetryPolicy) async throws(OutboundError) -> Void
    ) -> Client {
        Client(
            limiter: limiter, read: read,
            setFaults: { try sandbox.setFaults($0) },
            expireTokens: { try sandbox.setFaults(["expire_tokens": true]) },
            counts: {
                let stats = try sandbox.stats()[channel] as? [String: Any] ?? [:]
                return (stats["token_requests"] as? Int ?? -1, stats[calls] as? Int ?? -1)
            })
    }

    @Test func ebayThroughTheSharedLayer() async throws {
        let sandbox = try await MarketplaceSandboxServer()
        defer { sandbox.stop() }
        let store = OutboundStore(redis: try SharedRedis.configuration())
        defer { store.stop() }
        let configuration = EbayAPIConfiguration(
            apiURL: sandbox.url, clientID: sandbox.configuration.ebayClientID, clientSecret: sandbox.configuration.ebayClientSecret,
            refreshToken: sandbox.configuration.ebayRefreshToken, lookupsPerSecond: 100, concurrency: 1, totalTimeoutSeconds: 1)
        let limiter = CallLimiter(name: "ebay", limits: LookupService.limits(perSecond: 100, concurrency: 2), store: store, logger: Self.logger)
        let ebay = EbayLookups(configuration: configuration, limiter: limiter, store: store, logger: Self.logger)
        defer { ebay.stop() }
        _ = try sandbox.storeEbayOrder(
            LookupServiceTests.ebayOrder("12-00001-00001", modified: "2026-11-20T10:00:00.000Z", lines: [("1", "100", nil, nil, 1)]))
        let client = Self.marketplaceClient(sandbox, limiter: limiter, channel: "ebay", calls: "order_calls") { retry throws(OutboundError) in
            _ = try await ebay.order("12-00001-00001", worker: 0, retry: retry)
        }
        try await exercise(client, timeoutFault: ["latency_ms": 3000])
    }

    @Test func etsyThroughTheSharedLayer() async throws {
        let sandbox = try await MarketplaceSandboxServer()
        defer { sandbox.stop() }
        let store = OutboundStore(redis: try SharedRedis.configuration())
        defer { store.stop() }
        let configuration = EtsyAPIConfiguration(
            apiURL: sandbox.url, keystring: sandbox.configuration.etsyKeystring, sharedSecret: sandbox.configuration.etsySharedSecret,
            refreshToken: sandbox.configuration.etsyRefreshToken, lookupsPerSecond: 100, concurrency: 1, totalTimeoutSeconds: 1)
        let limiter = CallLimiter(name: "etsy", limits: LookupService.limits(perSecond: 100, concurrency: 2), store: store, logger: Self.logger)
        let etsy = EtsyLookups(configuration: configuration, limiter: limiter, store: store, logger: Self.logger)
        defer { etsy.stop() }
        _ = try sandbox.storeEtsyReceipt(
            shopID: 4242, LookupServiceTests.etsyReceipt(3_001, updated: 1_763_600_100, status: "Paid", transactions: [(1, 200, nil, 1)]))
        let client = Self.marketplaceClient(sandbox, limiter: limiter, channel: "etsy", calls: "receipt_calls") { retry throws(OutboundError) in
            _ = try await etsy.receipt(shopID: "4242", receiptID: "3001", worker: 0, retry: retry)
        }
        try await exercise(client, timeoutFault: ["latency_ms": 3000])
    }
}
