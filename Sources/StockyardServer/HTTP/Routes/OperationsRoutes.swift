import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import StockyardChannels
import StockyardCore
import StockyardEngine
import StockyardMarketplaces
import StockyardOutbound
import StockyardZoho

extension StockyardAPI {
    /// Health, readiness and metrics: open to the load balancer and the scraper.
    var operationsRoutes: RouteCollection<BasicRequestContext> {
        let routes = RouteCollection(context: BasicRequestContext.self)
        routes.get("/healthz") { _, _ in jsonResponse("{\"status\":\"ok\"}") }
        routes.get("/readyz") { _, _ in readiness() }
        routes.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        return routes
    }

    private func readiness() -> Response {
        let health = writer.currentHealth
        let ready = health.loaded && health.redisReachable
        var writer = JSONWriter()
        writer.raw("{\"status\":")
        writer.string(ready ? "ready" : "not_ready")
        writer.raw(",\"state_loaded\":")
        writer.bool(health.loaded)
        writer.raw(",\"redis_reachable\":")
        writer.bool(health.redisReachable)
        if let error = health.lastError {
            writer.raw(",\"last_error\":")
            writer.string(error)
        }
        // Look-ups waiting for the channels' APIs (eBay orders, Etsy receipts).
        let backlog = self.writer.inbox.lookupBacklog
        writer.raw(",\"lookups\":{\"backlog\":")
        writer.number(Int64(backlog.count))
        if let oldest = backlog.oldest {
            writer.raw(",\"oldest_age_seconds\":")
            writer.number(max(0, (Int64(Date().timeIntervalSince1970 * 1000) - oldest) / 1000))
        }
        for (channel, status) in lookups.currentStatus {
            writer.raw(",")
            writer.string(channel)
            writer.raw(":{\"state\":")
            writer.string(status.state)
            if let error = status.lastError {
                writer.raw(",\"last_error\":")
                writer.string(error)
            }
            if let done = status.lastDoneAt {
                writer.raw(",\"last_done_at\":")
                writer.number(Int64(done))
            }
            writer.raw("}")
        }
        writer.raw("}")
        // Zoho's state is reported but does not make the service unready: sales are still
        // accepted and netted while Zoho cannot be reached.
        writer.raw(",\"zoho\":{\"sync\":")
        if let zohoSync {
            let status = zohoSync.currentStatus
            writer.string(status.state.rawValue)
            writer.raw(",\"sealed_batches\":")
            writer.number(Int64(status.sealedBatches))
            writer.raw(",\"calls_last_minute\":")
            writer.number(Int64(status.callsLastMinute))
            writer.raw(",\"calls_today\":")
            writer.number(Int64(status.callsToday))
            writer.raw(",\"daily_budget\":")
            writer.number(Int64(status.dailyBudget))
            writer.raw(",\"daily_reserve\":")
            writer.number(Int64(status.dailyReserve))
            writer.raw(",\"concurrency\":")
            writer.number(Int64(status.concurrency))
            if let confirmed = status.lastConfirmedAt {
                writer.raw(",\"last_confirmed_at\":")
                writer.number(Int64(confirmed))
            }
            if let error = status.lastError {
                writer.raw(",\"last_error\":")
                writer.string(error)
            }
        } else {
            writer.string("off")
            writer.raw(",\"reason\":\"no Zoho credentials are configured\"")
        }
        writer.raw("}}")
        return Response(
            status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }
}
