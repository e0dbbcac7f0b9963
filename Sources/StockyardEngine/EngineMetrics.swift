import Prometheus
import StockyardCore

/// Metrics of the engine: events by result, the writer's batches and commits, and the sizes of
/// what it keeps in memory.
public final class EngineMetrics: Sendable {
    /// `stockyard_events_total` by channel and result, at `eventSlot(_:_:)`.
    private let events: [Counter?]
    package let oversells: Counter
    package let redisErrors: Counter
    package let rejectedRequests: Counter
    package let batchEvents: ValueHistogram
    package let commitLatency: DurationHistogram
    package let rows: Gauge
    package let lines: Gauge
    package let parked: Gauge
    package let ready: Gauge
    package let queuedEvents: Gauge
    package let reloads: Counter
    package let deliveryIDs: Gauge
    package let deadLetters: Gauge
    package let autoMapped: Counter
    package let lookupBacklog: Gauge

    public init(registry: PrometheusCollectorRegistry) {
        var events = [Counter?](repeating: nil, count: Self.eventSlot(Channel.allCases.max()!, EventResult.allCases.last!) + 1)
        for channel in Channel.allCases {
            for result in EventResult.allCases {
                events[Self.eventSlot(channel, result)] = registry.makeCounter(descriptor: .init(metricName: "stockyard_events_total", unitName: "", helpText: "Sale events by channel and result."), labels: [("channel", channel.name), ("result", result.name)])
            }
        }
        self.events = events
        oversells = registry.makeCounter(descriptor: .init(metricName: "stockyard_oversells_total", unitName: "", helpText: "Sales that took an item × location below zero available."))
        redisErrors = registry.makeCounter(descriptor: .init(metricName: "stockyard_redis_errors_total", unitName: "", helpText: "Failed Redis round trips."))
        rejectedRequests = registry.makeCounter(descriptor: .init(metricName: "stockyard_unavailable_total", unitName: "", helpText: "Write requests answered 503 because the store was unavailable or busy."))
        batchEvents = registry.makeValueHistogram(descriptor: .init(metricName: "stockyard_batch_events", unitName: "", helpText: "Entries per group-commit batch."), buckets: [1, 10, 100, 500, 1_000, 2_000, 5_000, 10_000, 20_000])
        commitLatency = registry.makeDurationHistogram(descriptor: .init(metricName: "stockyard_commit_seconds", unitName: "", helpText: "Redis round trip of a group-commit batch."), buckets: [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)])
        rows = registry.makeGauge(descriptor: .init(metricName: "stockyard_stock_rows", unitName: "", helpText: "Item × location rows in memory."))
        lines = registry.makeGauge(descriptor: .init(metricName: "stockyard_order_lines", unitName: "", helpText: "Live order lines in memory."))
        parked = registry.makeGauge(descriptor: .init(metricName: "stockyard_parked_events", unitName: "", helpText: "Events waiting for a listing map."))
        ready = registry.makeGauge(descriptor: .init(metricName: "stockyard_ready", unitName: "", helpText: "1 when state is loaded and Redis reachable."))
        queuedEvents = registry.makeGauge(descriptor: .init(metricName: "stockyard_queued_events", unitName: "", helpText: "Events waiting for the writer."))
        reloads = registry.makeCounter(descriptor: .init(metricName: "stockyard_state_loads_total", unitName: "", helpText: "Loads of the state from Redis."))
        deliveryIDs = registry.makeGauge(descriptor: .init(metricName: "stockyard_delivery_ids", unitName: "", helpText: "Channel delivery ids remembered for duplicate detection."))
        deadLetters = registry.makeGauge(descriptor: .init(metricName: "stockyard_dead_letters", unitName: "", helpText: "Webhook bodies kept in the dead-letter list."))
        lookupBacklog = registry.makeGauge(descriptor: .init(metricName: "stockyard_lookup_backlog", unitName: "", helpText: "Notifications waiting for a look-up of their order in the channel's API."))
        autoMapped = registry.makeCounter(descriptor: .init(metricName: "stockyard_listings_auto_mapped_total", unitName: "", helpText: "Listings that mapped themselves through the item catalogue."))
    }

    package func countEvent(_ channel: Channel, _ result: EventResult, by count: Int = 1) {
        events[Self.eventSlot(channel, result)]?.increment(by: Int64(count))
    }

    private static func eventSlot(_ channel: Channel, _ result: EventResult) -> Int {
        Int(channel.rawValue) * EventResult.allCases.count + Int(result.rawValue)
    }

}
