import Prometheus

/// Metrics of order look-ups in eBay's and Etsy's APIs.
public final class LookupMetrics: Sendable {
    /// What became of one attempt.
    package enum Result: String, CaseIterable, Sendable {
        /// The order's lines were applied.
        case done
        /// Failed; tried again later.
        case retry
        /// Failed too often, or unreadable: kept as a dead letter.
        case deadLettered = "dead_lettered"
        /// The channel asked us to slow down (429); not counted as a failed attempt.
        case rateLimited = "rate_limited"
    }

    private let attempts: [String: [Result: Counter]]
    private let seconds: [String: DurationHistogram]
    package let oldestAge: Gauge
    package let keyFetches: [Bool: Counter]

    package init(registry: PrometheusCollectorRegistry) {
        var attempts: [String: [Result: Counter]] = [:]
        var seconds: [String: DurationHistogram] = [:]
        for channel in ["ebay", "etsy"] {
            for result in Result.allCases {
                attempts[channel, default: [:]][result] = registry.makeCounter(
                    descriptor: .init(metricName: "stockyard_lookups_total", unitName: "", helpText: "Order look-up attempts by channel and result."),
                    labels: [("channel", channel), ("result", result.rawValue)])
            }
            seconds[channel] = registry.makeDurationHistogram(
                descriptor: .init(metricName: "stockyard_lookup_seconds", unitName: "", helpText: "Time of one look-up call to the channel's API."),
                labels: [("channel", channel)],
                buckets: [.milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10)])
        }
        self.attempts = attempts
        self.seconds = seconds
        oldestAge = registry.makeGauge(
            descriptor: .init(metricName: "stockyard_lookup_oldest_age_seconds", unitName: "", helpText: "Age of the longest-waiting look-up job (0 when none waits)."))
        keyFetches = [
            true: registry.makeCounter(
                descriptor: .init(metricName: "stockyard_ebay_key_fetches_total", unitName: "", helpText: "Fetches of eBay notification public keys by result."),
                labels: [("result", "ok")]),
            false: registry.makeCounter(
                descriptor: .init(metricName: "stockyard_ebay_key_fetches_total", unitName: "", helpText: "Fetches of eBay notification public keys by result."),
                labels: [("result", "failed")]),
        ]
    }

    package func count(_ channel: String, _ result: Result) {
        attempts[channel]?[result]?.increment()
    }

    package func record(_ channel: String, _ duration: Duration) {
        seconds[channel]?.record(duration)
    }
}
