import Prometheus
import StockyardCore
import StockyardEngine
import StockyardMarketplaces
import StockyardOutbound
import StockyardZoho

/// The service's Prometheus metrics, on a registry of its own.
public final class StockyardMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let webhooks: [String: [WebhookOutcome: Counter]]
    public let engine: EngineMetrics
    public let zoho: ZohoMetrics
    public let lookups: LookupMetrics

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var webhooks: [String: [WebhookOutcome: Counter]] = [:]
        for channel in Channel.allCases.map(\.name) + ["zoho"] {
            for outcome in WebhookOutcome.allCases {
                webhooks[channel, default: [:]][outcome] = registry.makeCounter(descriptor: .init(metricName: "stockyard_webhooks_total", unitName: "", helpText: "Webhook deliveries by channel and outcome."), labels: [("channel", channel), ("outcome", outcome.rawValue)])
            }
        }
        self.webhooks = webhooks
        engine = EngineMetrics(registry: registry)
        zoho = ZohoMetrics(registry: registry)
        lookups = LookupMetrics(registry: registry)
    }

    func countWebhook(_ channel: String, _ outcome: WebhookOutcome) {
        webhooks[channel]?[outcome]?.increment()
    }

    /// The text exposition format.
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}

/// What became of a webhook delivery, for metrics.
enum WebhookOutcome: String, CaseIterable, Sendable {
    /// Read and stored.
    case accepted
    /// A delivery id stored lately: answered at once.
    case duplicateDelivery = "duplicate_delivery"
    /// Counted and logged; moves no stock.
    case informational
    /// A topic or type Stockyard does not act on.
    case ignored
    /// Signature missing or wrong.
    case unauthorized
    /// Authenticated but unreadable: kept as a dead letter.
    case deadLettered = "dead_lettered"
    /// Over the size limit.
    case tooLarge = "too_large"
    /// The store could not take it; the sender retries.
    case unavailable
}
