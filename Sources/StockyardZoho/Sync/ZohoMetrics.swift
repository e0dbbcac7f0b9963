import Prometheus
import StockyardOutbound

/// Metrics of the Zoho sync: calls, batches, token refreshes and the sync's state.
public final class ZohoMetrics: Sendable {
    /// Kinds of Zoho call.
    package enum Call: String, CaseIterable, Sendable {
        case create, list, get, items, locations, token
    }

    /// What became of a call.
    package enum CallOutcome: String, CaseIterable, Sendable {
        case ok, rateLimited = "rate_limited", unauthorized, rejected, serverError = "server_error", network
        case invalidResponse = "invalid_response", refused
    }

    /// What became of a batch.
    package enum BatchOutcome: String, CaseIterable, Sendable {
        /// Zoho answered the call with the adjustment.
        case confirmed
        /// The outcome was unknown and the reference was found among Zoho's adjustments.
        case foundByLookup = "found_by_lookup"
        /// The outcome was unknown, the reference was not found: posted again.
        case reposted
        /// Zoho refused it whole: split in two.
        case split
        /// A one-line batch Zoho refused: the line is a dead letter.
        case rejected
    }

    private let calls: [Call: [CallOutcome: Counter]]
    private let batches: [BatchOutcome: Counter]
    package let linesConfirmed: Counter
    package let sealedBatches: Gauge
    package let openRows: Gauge
    /// 1 when the sync works, 0 when it is off or stuck (say, a refused refresh token).
    package let syncing: Gauge
    package let tokenProblems: Counter
    package let batchSeconds: DurationHistogram
    package let driftRows: Gauge

    package init(registry: PrometheusCollectorRegistry) {
        var calls: [Call: [CallOutcome: Counter]] = [:]
        for call in Call.allCases {
            for outcome in CallOutcome.allCases {
                calls[call, default: [:]][outcome] = registry.makeCounter(
                    descriptor: .init(metricName: "stockyard_zoho_calls_total", unitName: "", helpText: "Zoho API and token calls by kind and outcome."),
                    labels: [("call", call.rawValue), ("outcome", outcome.rawValue)])
            }
        }
        self.calls = calls
        var batches: [BatchOutcome: Counter] = [:]
        for outcome in BatchOutcome.allCases {
            batches[outcome] = registry.makeCounter(
                descriptor: .init(metricName: "stockyard_zoho_batches_total", unitName: "", helpText: "Zoho adjustment batches by outcome."),
                labels: [("outcome", outcome.rawValue)])
        }
        self.batches = batches
        linesConfirmed = registry.makeCounter(
            descriptor: .init(metricName: "stockyard_zoho_lines_confirmed_total", unitName: "", helpText: "Item × location lines Zoho confirmed."))
        sealedBatches = registry.makeGauge(
            descriptor: .init(metricName: "stockyard_zoho_sealed_batches", unitName: "", helpText: "Batches sealed and not settled yet."))
        openRows = registry.makeGauge(
            descriptor: .init(metricName: "stockyard_zoho_open_rows", unitName: "", helpText: "Item × location rows with changes not sealed yet."))
        syncing = registry.makeGauge(
            descriptor: .init(metricName: "stockyard_zoho_sync_ok", unitName: "", helpText: "1 when Zoho sync runs normally, 0 when off or stuck."))
        tokenProblems = registry.makeCounter(
            descriptor: .init(metricName: "stockyard_zoho_token_rejected_total", unitName: "", helpText: "Refresh attempts refused because the refresh token is invalid or revoked."))
        driftRows = registry.makeGauge(
            descriptor: .init(metricName: "stockyard_zoho_drift_rows", unitName: "", helpText: "Item × location rows where the last reconciliation found Zoho's figure different (and did not fix it)."))
        batchSeconds = registry.makeDurationHistogram(
            descriptor: .init(metricName: "stockyard_zoho_batch_seconds", unitName: "", helpText: "From sealing a batch to Zoho's confirmation."),
            buckets: [.milliseconds(100), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300)])
    }

    package func count(_ call: Call, _ outcome: CallOutcome) {
        calls[call]?[outcome]?.increment()
    }

    package func count(_ outcome: BatchOutcome) {
        batches[outcome]?.increment()
    }
}

extension ZohoMetrics.CallOutcome {
    package init(_ error: OutboundError) {
        switch error.code {
        case .rateLimited, .quotaExhausted: self = .rateLimited
        case .unauthorized: self = .unauthorized
        case .rejected: self = .rejected
        case .serverError: self = .serverError
        case .network: self = .network
        case .invalidResponse: self = .invalidResponse
        default: self = .refused
        }
    }
}
