import Prometheus
import StockyardCore

/// The service's Prometheus metrics, on a registry of its own.
public final class StockyardMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let events: [Channel: [EventResult: Counter]]
    let oversells: Counter
    let redisErrors: Counter
    let rejectedRequests: Counter
    let batchEvents: ValueHistogram
    let commitLatency: DurationHistogram
    let rows: Gauge
    let lines: Gauge
    let parked: Gauge
    let ready: Gauge
    let queuedEvents: Gauge
    let reloads: Counter

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var events: [Channel: [EventResult: Counter]] = [:]
        for channel in Channel.allCases {
            for result in EventResult.allCases {
                events[channel, default: [:]][result] = registry.makeCounter(
                    name: "stockyard_events_total",
                    labels: [("channel", channel.name), ("result", result.name)],
                    help: "Sale events by channel and result.")
            }
        }
        self.events = events
        oversells = registry.makeCounter(
            name: "stockyard_oversells_total", help: "Sales that took an item × location below zero available.")
        redisErrors = registry.makeCounter(name: "stockyard_redis_errors_total", help: "Failed Redis round trips.")
        rejectedRequests = registry.makeCounter(
            name: "stockyard_unavailable_total", help: "Write requests answered 503 because the store was unavailable or busy.")
        batchEvents = registry.makeValueHistogram(
            name: "stockyard_batch_events",
            buckets: [1, 10, 100, 500, 1_000, 2_000, 5_000, 10_000, 20_000],
            help: "Entries per group-commit batch.")
        commitLatency = registry.makeDurationHistogram(
            name: "stockyard_commit_seconds",
            buckets: [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)],
            help: "Redis round trip of a group-commit batch.")
        rows = registry.makeGauge(name: "stockyard_stock_rows", help: "Item × location rows in memory.")
        lines = registry.makeGauge(name: "stockyard_order_lines", help: "Live order lines in memory.")
        parked = registry.makeGauge(name: "stockyard_parked_events", help: "Events waiting for a listing map.")
        ready = registry.makeGauge(name: "stockyard_ready", help: "1 when state is loaded and Redis reachable.")
        queuedEvents = registry.makeGauge(name: "stockyard_queued_events", help: "Events waiting for the writer.")
        reloads = registry.makeCounter(name: "stockyard_state_loads_total", help: "Loads of the state from Redis.")
    }

    func countEvent(_ channel: Channel, _ result: EventResult) {
        events[channel]?[result]?.increment()
    }

    /// The text exposition format.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
