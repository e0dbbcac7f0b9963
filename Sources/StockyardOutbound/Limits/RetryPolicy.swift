import Foundation

/// How one call is retried here before its failure goes to the caller.
public struct RetryPolicy: Sendable {
    /// Attempts in all for 5xx and failed exchanges whose outcome is known (1: no retry).
    public var attempts: Int
    /// Wait after the first failure; it doubles with each further one, with jitter.
    public var firstBackoffSeconds: Double
    public var maxBackoffSeconds: Double
    /// A 429 waits for the pause and tries again (true), or goes to the caller once the
    /// pause is set (false: the caller has other work, or its own way of waiting).
    public var waitOnRateLimit: Bool

    public init(attempts: Int = 1, firstBackoffSeconds: Double = 0.5, maxBackoffSeconds: Double = 30, waitOnRateLimit: Bool = true) {
        self.attempts = max(1, attempts)
        self.firstBackoffSeconds = firstBackoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
        self.waitOnRateLimit = waitOnRateLimit
    }

    /// Seconds to wait after the `failures`-th failure: doubling, capped, with ±20% jitter.
    public func backoff(afterFailures failures: Int) -> Double {
        let base = min(maxBackoffSeconds, firstBackoffSeconds * pow(2, Double(max(0, failures - 1))))
        return base * Double.random(in: 0.8...1.2)
    }
}
