import Foundation
import Logging
import Prometheus
import StockyardOutbound
import StockyardRedis

/// Zoho as a configuration of the outbound layer: a thread per call Zoho allows at once, each
/// with its own client; the organization's call budget (per minute, per day in its time zone,
/// with the reserve for exactly-once look-ups); and the organization's token keeper (10 token
/// requests per 10 minutes; a refused refresh token stops the sync until a person authorizes
/// again and the service restarts).
package typealias ZohoCaller = OutboundCaller<ZohoAPIClient>

extension OutboundCaller where Client == ZohoAPIClient {
    package convenience init(
        zoho configuration: ZohoConfiguration, store: OutboundStore, metrics: ZohoMetrics, logger: Logger,
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        let clientConfiguration = CurlHTTPClient.Configuration(
            connectTimeout: configuration.connectTimeoutSeconds, totalTimeout: configuration.totalTimeoutSeconds)
        let pool = WorkerPool(name: "zoho", threads: max(1, configuration.limits.concurrent) + 1) {
            ZohoAPIClient(configuration: clientConfiguration)
        }
        let limiter = CallLimiter(
            name: "zoho", limits: configuration.limits,
            timeZone: TimeZone(identifier: configuration.timeZone) ?? TimeZone(identifier: "UTC")!,
            // A 429 without Retry-After holds Zoho's calls a minute at first, as its limits are per minute.
            firstRateLimitPause: 60, store: store, logger: logger, clock: clock)
        // Token requests run on the last thread, apart from the calls, and are not API calls.
        let tokenThread = pool.threads - 1
        let tokens = TokenKeeper(
            name: "zoho", identity: configuration.clientID + "/" + configuration.organizationID,
            policy: TokenPolicy(requestsPerWindow: configuration.tokenRequestsPer10Minutes, windowSeconds: 600, refusal: .untilRestart),
            store: store, logger: logger, clock: clock,
            observe: { result in
                switch result {
                case .success: metrics.count(.token, .ok)
                case .failure(let error):
                    metrics.count(.token, .init(error))
                    if error.code == .credentialsRejected { metrics.tokenProblems.increment() }
                }
            },
            fetch: { _, now throws(OutboundError) in
                try await pool.run(on: tokenThread) { client throws(OutboundError) in
                    try client.refreshAccessToken(
                        accountsURL: configuration.accountsURL, clientID: configuration.clientID,
                        clientSecret: configuration.clientSecret, refreshToken: configuration.refreshToken, now: now)
                }
            })
        self.init(pool: pool, limiter: limiter, tokens: tokens, logger: logger)
    }
}

extension ZohoConfiguration {
    /// The endpoint for a token: the configured API URL, else the token's `api_domain`.
    package func endpoint(_ token: AccessToken) -> ZohoEndpoint {
        let domain = token.apiDomain ?? ""
        let host = apiURL ?? (domain.isEmpty ? "https://www.zohoapis.com" : domain)
        return ZohoEndpoint(apiRoot: host.trimmingSuffix("/") + "/inventory/v1", organizationID: organizationID, accessToken: token.accessToken)
    }
}

extension String {
    package func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
