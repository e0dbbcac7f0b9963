import Foundation

/// Faults the sandbox injects into every vendor route (token endpoints included), for tests.
public struct MarketplaceFaults: Sendable, Hashable {
    /// Milliseconds added to every answer.
    public var latencyMilliseconds = 0
    /// Share of calls that pass authentication and limits, then are answered 500.
    public var serverErrorRate = 0.0
    /// Every vendor route answers 503.
    public var unavailable = false
    /// Share of API calls (token endpoints apart) that pass authentication, then are answered 429.
    public var rateLimitRate = 0.0
    /// An injected 429's `Retry-After` is an HTTP date (two seconds ahead) instead of seconds (1).
    public var retryAfterAsDate = false

    public init() {}

    /// Changes the fields a `PUT /sandbox/faults` body names. Gives whether the body asks for every
    /// live access token to expire, or a message naming the field that is wrong.
    mutating func update(_ object: [String: Any]) -> Result<Bool, MarketplaceSandboxSettingError> {
        var next = self
        var expireTokens = false
        for (name, value) in object {
            switch name {
            case "latency_ms":
                guard let number = JSONValue.wholeNumber(value), number >= 0, number <= 600_000 else {
                    return .failure(.init(description: "latency_ms must be a whole number of milliseconds from 0 to 600000"))
                }
                next.latencyMilliseconds = Int(number)
            case "server_error_rate":
                guard let rate = JSONValue.number(value), rate >= 0, rate <= 1 else {
                    return .failure(.init(description: "server_error_rate must be a number from 0 to 1"))
                }
                next.serverErrorRate = rate
            case "unavailable":
                guard let flag = JSONValue.boolean(value) else { return .failure(.init(description: "unavailable must be true or false")) }
                next.unavailable = flag
            case "rate_limit_rate":
                guard let rate = JSONValue.number(value), rate >= 0, rate <= 1 else {
                    return .failure(.init(description: "rate_limit_rate must be a number from 0 to 1"))
                }
                next.rateLimitRate = rate
            case "retry_after_as_date":
                guard let flag = JSONValue.boolean(value) else {
                    return .failure(.init(description: "retry_after_as_date must be true or false"))
                }
                next.retryAfterAsDate = flag
            case "expire_tokens":
                guard let flag = JSONValue.boolean(value) else { return .failure(.init(description: "expire_tokens must be true or false")) }
                expireTokens = flag
            default:
                return .failure(
                    .init(description: "\(name) is not a fault: use latency_ms, server_error_rate, rate_limit_rate, retry_after_as_date, unavailable or expire_tokens"))
            }
        }
        self = next
        return .success(expireTokens)
    }

    /// The faults as `PUT /sandbox/faults` answers them.
    var json: [String: any Sendable] {
        [
            "latency_ms": latencyMilliseconds, "server_error_rate": serverErrorRate, "rate_limit_rate": rateLimitRate,
            "retry_after_as_date": retryAfterAsDate, "unavailable": unavailable,
        ]
    }

    /// The fault for one call: unavailability, else a roll against the rate-limit rate, else
    /// one against the server-error rate.
    func draw() -> InjectedFault {
        if unavailable { return .unavailable }
        if rateLimitRate > 0, Double.random(in: 0..<1) < rateLimitRate { return .rateLimited(retryAfterAsDate: retryAfterAsDate) }
        if serverErrorRate > 0, Double.random(in: 0..<1) < serverErrorRate { return .serverError }
        return .none
    }
}

/// What a call suffers, decided before it is handled.
enum InjectedFault: Sendable, Equatable {
    case none
    /// Answered 500 once it passes authentication and limits.
    case serverError
    /// Answered 503 straight away.
    case unavailable
    /// Answered 429 once it passes authentication, as if other apps used the limit.
    case rateLimited(retryAfterAsDate: Bool)

    /// The `Retry-After` of an injected 429: one second, or an HTTP date two seconds ahead.
    static func retryAfter(asDate: Bool, now: Double) -> String {
        guard asDate else { return "1" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: Date(timeIntervalSince1970: (now + 2).rounded(.up)))
    }
}
