import Foundation
import Logging
import Prometheus
import StockyardCore
import StockyardOutbound
import Synchronization
import StockyardEngine

/// What a reconciliation found (and fixed).
public struct ReconcileReport: Sendable {
    public var itemsChecked = 0
    public var pages = 0
    /// Every page of Zoho's items was read (else only the items seen were compared).
    public var complete = false
    public var drift: [StockDrift] = []
    /// Rows whose `zoho_on_hand` was set from Zoho.
    public var fixed = 0
    /// Locations whose Zoho figure is not a whole number: reported, never fixed.
    public var fractional: [String] = []
    public var finishedAt = Date()
}

extension ZohoSync {
    /// Pages through Zoho's items (at most `maxPages` of 200), compares each item × location's
    /// stock on hand with `zoho_on_hand`, and with `fix` sets it from Zoho where they differ and
    /// nothing is in flight. Flushes wait meanwhile, so no batch settles half-way through.
    public func reconcile(fix: Bool, maxPages: Int) async throws(OutboundError) -> ReconcileReport {
        await flushLock.lock()
        do {
            let report = try await reconcileLocked(fix: fix, maxPages: maxPages)
            await flushLock.unlock()
            return report
        } catch {
            await flushLock.unlock()
            throw error
        }
    }

    private func reconcileLocked(fix: Bool, maxPages: Int) async throws(OutboundError) -> ReconcileReport {
        var report = ReconcileReport()
        var zoho: [String: [String: Int64]] = [:]
        var page = 1
        var failures = 0
        while page <= maxPages {
            let current = page
            let list: ZohoPage<ZohoItem>
            do {
                list = try await read(.items, priority: .normal, deadline: nil) { client, endpoint throws(OutboundError) in
                    try client.listItems(page: current, perPage: 200, at: endpoint)
                }
            } catch {
                // Reading is safe to repeat, a few times (a `where` would bind to the last pattern only).
                guard [.serverError, .network, .invalidResponse].contains(error.code), failures < 3 else { throw error }
                failures += 1
                try await CallLimiter.sleep(backoff(failures), deadline: nil)
                continue
            }
            report.pages += 1
            for item in list.elements {
                report.itemsChecked += 1
                var perLocation: [String: Int64] = [:]
                for location in item.locations {
                    let units = location.stockOnHand ?? 0
                    guard units == units.rounded(), abs(units) < 1e12 else {
                        report.fractional.append("\(item.itemID)/\(location.locationID)")
                        continue
                    }
                    perLocation[location.locationID] = Int64(units)
                }
                zoho[item.itemID] = perLocation
            }
            if !list.hasMorePage {
                report.complete = true
                break
            }
            page += 1
        }
        report.drift = writer.ledger.withLock { $0.drift(zoho: zoho, complete: report.complete) }
        if fix {
            let settings = report.drift.compactMap { row -> StockSetting? in
                guard row.inFlight == 0, let units = row.zoho else { return nil }
                return StockSetting(itemID: row.itemID, locationID: row.locationID, zohoOnHand: units)
            }
            if !settings.isEmpty {
                do {
                    _ = try await writer.submit(.stock(settings))
                    report.fixed = settings.count
                } catch {
                    throw OutboundError(.notSent, message: "the fixes could not be stored: \(error)", outcomeKnown: true)
                }
            }
        }
        report.finishedAt = Date()
        metrics.driftRows.set(Int64(report.drift.count - report.fixed))
        lastReconcile.withLock { $0 = report }
        logger.log(
            level: report.drift.isEmpty ? .info : .warning, "Zoho reconciliation",
            metadata: [
                "items": "\(report.itemsChecked)", "pages": "\(report.pages)", "complete": "\(report.complete)",
                "drift": "\(report.drift.count)", "fixed": "\(report.fixed)",
            ])
        return report
    }

    /// The last reconciliation's report, if any.
    public var lastReconcileReport: ReconcileReport? { lastReconcile.withLock { $0 } }
}
