import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import StockyardChannels
import StockyardCore
import StockyardEngine
import StockyardOutbound
import StockyardRedis
import Synchronization

/// Sends the ledger's net changes to Zoho as inventory adjustments, exactly once.
///
/// Every interval (or sooner when many rows are open) it seals open nets into batches of at most
/// `maxLines` lines, stores each batch in Redis, and posts it. A batch whose outcome is unknown
/// (timeout, 5xx, a crash) is looked for among Zoho's recent adjustments by its
/// `reference_number` and posted again only if absent. Batches found in Redis at start are
/// resolved that way before anything new is sealed. On graceful shutdown it flushes once more.
public final class ZohoSync: Service, Sendable {
    /// What the sync is doing, for `/readyz`.
    public struct Status: Sendable {
        public enum State: String, Sendable {
            case starting, ok, retrying
            /// Zoho refused the refresh token: nothing is sent until it is authorized again.
            case tokenRejected = "token_rejected"
            /// The day's call budget is spent: nets accumulate until the next day.
            case quotaExhausted = "quota_exhausted"
        }

        public var state: State = .starting
        public var lastError: String?
        /// Seconds since 1970 of the last confirmed batch.
        public var lastConfirmedAt: Double?
        public var sealedBatches = 0
        /// Calls counted against the limits: in the last minute, and today, of the day's budget
        /// (with the reserve for exactly-once look-ups) and the calls allowed at once.
        public var callsLastMinute = 0
        public var callsToday = 0
        public var dailyBudget = 0
        public var dailyReserve = 0
        public var concurrency = 0
    }

    package let configuration: ZohoConfiguration
    package let writer: LedgerWriter
    package let caller: ZohoCaller
    package let tokens: TokenKeeper
    private let store: OutboundStore
    package let metrics: ZohoMetrics
    package let logger: Logger
    /// Held by a flush or a reconciliation: they never run at once.
    package let flushLock = AsyncLock()
    package let lastReconcile = Mutex<ReconcileReport?>(nil)
    private let status = Mutex(Status())
    private let sequence = Atomic<Int>(0)
    private let formatter: Mutex<DateFormatter>

    public init(configuration: ZohoConfiguration, writer: LedgerWriter, redis: RedisConfiguration, metrics: ZohoMetrics, logger: Logger) {
        self.configuration = configuration
        self.writer = writer
        self.metrics = metrics
        self.logger = logger
        let store = OutboundStore(redis: redis)
        self.store = store
        let caller = ZohoCaller(zoho: configuration, store: store, metrics: metrics, logger: logger)
        self.caller = caller
        self.tokens = caller.tokens!
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: configuration.timeZone) ?? TimeZone(identifier: "UTC")!
        formatter.dateFormat = "yyyy-MM-dd"
        self.formatter = Mutex(formatter)
    }

    public var currentStatus: Status {
        var copy = status.withLock { $0 }
        copy.sealedBatches = writer.inbox.zohoBatchCount
        copy.callsLastMinute = caller.limiter.callsLastMinute()
        copy.callsToday = caller.limiter.callsToday()
        copy.dailyBudget = configuration.limits.daily
        copy.dailyReserve = configuration.limits.dailyReserve
        copy.concurrency = configuration.limits.concurrent
        return copy
    }

    // MARK: Service

    public func run() async throws {
        let stopping = StopFlag()
        await withGracefulShutdownHandler {
            await self.loop(stopping: stopping)
        } onGracefulShutdown: {
            stopping.stop()
            self.writer.openRowsReached.signal()
        }
        // The final flush: whatever is open goes to Zoho, within a time limit.
        if writer.currentHealth.loaded {
            let deadline = ContinuousClock.now + .milliseconds(Int64(configuration.shutdownFlushSeconds * 1000))
            await flush(deadline: deadline, stopping: nil)
            let left = writer.inbox.zohoBatchCount
            logger.info("Zoho sync stopped", metadata: ["unsettled_batches": "\(left)"])
        }
        caller.stop()
        store.stop()
    }

    /// The least time between two flushes while rows stay over the threshold.
    static let retryPause = Duration.milliseconds(200)

    private func loop(stopping: StopFlag) async {
        // Wait for the ledger.
        while !writer.currentHealth.loaded {
            if stopping.isStopping { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
        await tokens.load()
        await caller.limiter.restore()
        var lastFlush = ContinuousClock.now
        // The first reconciliation runs one interval after start.
        var lastReconcileRun = ContinuousClock.now
        // Batches left from before are settled first.
        await flush(deadline: nil, stopping: stopping)
        if status.withLock({ $0.state == .starting }) { setState(.ok, error: nil) }
        // The writer wakes the loop when a commit leaves the threshold's worth of rows open;
        // otherwise it wakes for the interval, a reconciliation, or once a second for the gauges.
        writer.openRowsThreshold.store(configuration.flushThresholdRows, ordering: .relaxed)
        let interval = Duration.milliseconds(Int64(configuration.flushIntervalSeconds * 1000))
        while true {
            // Read before the stop flag: a stop signalled after this wakes the wait below.
            let seen = writer.openRowsReached.generation
            if stopping.isStopping { break }
            let sinceFlush = ContinuousClock.now - lastFlush
            if writer.ledger.withLock({ $0.openNetRowCount }) < configuration.flushThresholdRows {
                await writer.openRowsReached.wait(after: seen, timeout: max(.milliseconds(1), min(interval - sinceFlush, .seconds(1))))
            } else if sinceFlush < Self.retryPause {
                // Still over the threshold after a flush (Zoho's limits, an outage): not in a
                // tight loop.
                try? await Task.sleep(for: Self.retryPause - sinceFlush)
            }
            if stopping.isStopping { break }
            let open = writer.ledger.withLock { $0.openNetRowCount }
            metrics.openRows.set(Int64(open))
            metrics.sealedBatches.set(Int64(writer.inbox.zohoBatchCount))
            let due = ContinuousClock.now - lastFlush >= .milliseconds(Int64(configuration.flushIntervalSeconds * 1000))
            if due || open >= configuration.flushThresholdRows {
                lastFlush = ContinuousClock.now
                await flush(deadline: nil, stopping: stopping)
            }
            if configuration.reconcileIntervalSeconds > 0,
                ContinuousClock.now - lastReconcileRun >= .seconds(Int64(configuration.reconcileIntervalSeconds))
            {
                lastReconcileRun = ContinuousClock.now
                do {
                    _ = try await reconcile(fix: false, maxPages: configuration.reconcileMaxPages)
                } catch {
                    logger.warning("Zoho reconciliation failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// Settles the batches left unsettled, then seals and posts open nets until none are left or
    /// Zoho's limits say stop.
    package func flush(deadline: ContinuousClock.Instant?, stopping: StopFlag?) async {
        await flushLock.lock()
        await flushLocked(deadline: deadline, stopping: stopping)
        await flushLock.unlock()
    }

    private func flushLocked(deadline: ContinuousClock.Instant?, stopping: StopFlag?) async {
        let unsettled = writer.inbox.zohoBatches
        if !unsettled.isEmpty {
            guard await settle(unsettled, outcomeKnown: false, deadline: deadline) else { return }
        }
        while stopping?.isStopping != true {
            if await tokens.refused != nil {
                setState(.tokenRejected, error: "Zoho refused the refresh token")
                return
            }
            // Take the call slot first, so nets keep collecting while the budget is short.
            let granted: Double
            do {
                granted = try await caller.limiter.acquire(.normal, deadline: deadline)
            } catch {
                note(error)
                return
            }
            let batch: ZohoBatch?
            do {
                batch = try await seal()
            } catch {
                caller.limiter.release(unused: true, grantedAt: granted)
                logger.warning("cannot seal a Zoho batch", metadata: ["error": "\(error)"])
                return
            }
            guard let batch else {
                caller.limiter.release(unused: true, grantedAt: granted)
                return
            }
            guard await post(batch, holdingSlot: true, deadline: deadline) else { return }
        }
    }

    /// A fresh batch id and its reference.
    package func newBatchName(at date: Date) -> (id: String, reference: String, date: String, sealedAt: Int64) {
        let milliseconds = Int64(date.timeIntervalSince1970 * 1000)
        let id = String(milliseconds, radix: 36) + "-" + String(sequence.add(1, ordering: .relaxed).newValue, radix: 36)
            + String(UInt16.random(in: 0...UInt16.max), radix: 36)
        return (id, "\(configuration.referencePrefix)-\(id)", formatter.withLock { $0.string(from: date) }, milliseconds)
    }

    /// Seals open nets into a new batch stored in Redis.
    private func seal() async throws -> ZohoBatch? {
        let name = newBatchName(at: Date())
        let draft = ZohoBatchDraft(id: name.id, reference: name.reference, date: name.date, sealedAt: name.sealedAt, maxLines: configuration.maxLines)
        let batch = try await writer.submit(.sealZohoBatch(draft))
        if let batch {
            metrics.sealedBatches.set(Int64(writer.inbox.zohoBatchCount))
            logger.debug("Zoho batch sealed", metadata: ["reference": "\(batch.reference)", "lines": "\(batch.lines.count)"])
        }
        return batch
    }

    // MARK: One batch

    /// Resolves batches whose outcome is unknown: those Zoho has are confirmed, the others posted.
    /// Returns false when it had to stop (limits, shutdown).
    private func settle(_ batches: [ZohoBatch], outcomeKnown: Bool, deadline: ContinuousClock.Instant?) async -> Bool {
        var found: [String: String] = [:]
        if !outcomeKnown {
            do {
                found = try await lookUp(Set(batches.map(\.reference)), deadline: deadline)
            } catch {
                note(error)
                return false
            }
        }
        for batch in batches {
            if let adjustmentID = found[batch.reference] {
                metrics.count(.foundByLookup)
                guard await confirm(batch, adjustmentID: adjustmentID) else { return false }
                continue
            }
            if !outcomeKnown { metrics.count(.reposted) }
            guard await post(batch, holdingSlot: false, deadline: deadline) else { return false }
        }
        return true
    }

    /// Posts one batch until its outcome is known and recorded. Returns false when it stopped
    /// first (the batch stays sealed in Redis and is resolved later).
    private func post(_ batch: ZohoBatch, holdingSlot: Bool, deadline: ContinuousClock.Instant?) async -> Bool {
        var holding = holdingSlot
        var attempt = 0
        var refreshed = false
        while true {
            if !holding {
                do {
                    try await caller.limiter.acquire(.normal, deadline: deadline)
                } catch {
                    note(error)
                    return false
                }
            }
            holding = false
            let result = await create(batch)
            caller.limiter.release()
            switch result {
            case .success(let adjustment):
                caller.limiter.succeeded()
                metrics.count(.create, .ok)
                metrics.count(.confirmed)
                return await confirm(batch, adjustmentID: adjustment.inventoryAdjustmentID)
            case .failure(let error):
                metrics.count(.create, .init(error))
                attempt += 1
                switch error.code {
                case .unauthorized where !refreshed:
                    refreshed = true
                    continue
                case .rateLimited:
                    await caller.limiter.rateLimited(retryAfter: error.retryAfter)
                    setState(.retrying, error: error.description)
                    continue
                case .rejected:
                    return await reject(batch, error: error)
                case .credentialsRejected:
                    setState(.tokenRejected, error: error.description)
                    return false
                case .notSent:
                    return false
                default:
                    break
                }
                setState(.retrying, error: error.description)
                logger.warning(
                    "Zoho adjustment failed; retrying", metadata: ["reference": "\(batch.reference)", "error": "\(error)", "attempt": "\(attempt)"])
                do {
                    try await CallLimiter.sleep(backoff(attempt), deadline: deadline)
                } catch {
                    return false
                }
                if !error.outcomeKnown {
                    // Zoho may have it: look before posting again.
                    do {
                        try await CallLimiter.sleep(configuration.lookupDelaySeconds, deadline: deadline)
                        let found = try await lookUp([batch.reference], deadline: deadline)
                        if let adjustmentID = found[batch.reference] {
                            metrics.count(.foundByLookup)
                            return await confirm(batch, adjustmentID: adjustmentID)
                        }
                        metrics.count(.reposted)
                    } catch {
                        note(error)
                        return false
                    }
                }
            }
        }
    }

    /// One create call with a valid token; a 401 refreshes the token for the next attempt.
    private func create(_ batch: ZohoBatch) async -> Result<Adjustment, OutboundError> {
        let token: AccessToken
        do {
            token = try await tokens.current()
        } catch {
            return .failure(error)
        }
        let request = AdjustmentRequest(
            date: batch.date, reason: configuration.reason, description: "Stockyard batch \(batch.id)",
            referenceNumber: batch.reference,
            lineItems: batch.lines.map { AdjustmentLine(itemID: $0.itemID, locationID: $0.locationID, quantityAdjusted: Double($0.quantity)) })
        let endpoint = configuration.endpoint(token)
        do {
            return .success(try await caller.run { client throws(OutboundError) in try client.createAdjustment(request, at: endpoint) })
        } catch {
            if error.code == .unauthorized {
                _ = try? await tokens.refresh(replacing: token.accessToken)
            }
            return .failure(error)
        }
    }

    /// One read call (safe to repeat) within the budget: a 401 refreshes the token once and a
    /// 429 pauses every call, both then retried by the outbound layer; other failures are the caller's.
    package func read<T: Sendable>(
        _ call: ZohoMetrics.Call, priority: CallBudget.Priority, deadline: ContinuousClock.Instant?,
        _ body: @escaping @Sendable (ZohoAPIClient, ZohoEndpoint) throws(OutboundError) -> T
    ) async throws(OutboundError) -> T {
        let configuration = self.configuration
        let metrics = self.metrics
        let value = try await caller.call(priority, deadline: deadline) { client, token throws(OutboundError) -> T in
            do throws(OutboundError) {
                return try body(client, configuration.endpoint(token!))
            } catch {
                // Each failed attempt is counted, as each reached Zoho.
                metrics.count(call, .init(error))
                throw error
            }
        }
        metrics.count(call, .ok)
        return value
    }

    /// Looks for references among Zoho's newest adjustments; returns reference → adjustment id.
    private func lookUp(_ references: Set<String>, deadline: ContinuousClock.Instant?) async throws(OutboundError) -> [String: String] {
        var found: [String: String] = [:]
        var page = 1
        while page <= configuration.lookupPages && found.count < references.count {
            let current = page
            let list: ZohoPage<Adjustment>
            do {
                list = try await read(.list, priority: .essential, deadline: deadline) { client, endpoint throws(OutboundError) in
                    try client.listAdjustments(page: current, perPage: 200, at: endpoint)
                }
            } catch {
                switch error.code {
                case .credentialsRejected, .notSent, .quotaExhausted:
                    throw error
                default:
                    setState(.retrying, error: error.description)
                    try await CallLimiter.sleep(backoff(2), deadline: deadline)
                    continue
                }
            }
            for adjustment in list.elements {
                if let reference = adjustment.referenceNumber, references.contains(reference) {
                    found[reference] = adjustment.inventoryAdjustmentID
                }
            }
            if !list.hasMorePage { return found }
            page += 1
        }
        return found
    }

    // MARK: Recording outcomes

    private func confirm(_ batch: ZohoBatch, adjustmentID: String) async -> Bool {
        do {
            _ = try await writer.submit(.zoho(.confirm(batchID: batch.id, adjustmentID: adjustmentID)))
            metrics.linesConfirmed.increment(by: Int64(batch.lines.count))
            metrics.batchSeconds.recordNanoseconds(max(0, Int64(Date().timeIntervalSince1970 * 1000) - batch.sealedAt) * 1_000_000)
            metrics.sealedBatches.set(Int64(writer.inbox.zohoBatchCount))
            status.withLock {
                $0.state = .ok
                $0.lastError = nil
                $0.lastConfirmedAt = Date().timeIntervalSince1970
            }
            logger.info(
                "Zoho adjustment confirmed",
                metadata: ["reference": "\(batch.reference)", "adjustment_id": "\(adjustmentID)", "lines": "\(batch.lines.count)"])
            return true
        } catch {
            // Redis is down: the batch stays sealed there and is resolved by lookup later.
            logger.warning("cannot record a Zoho confirmation yet", metadata: ["reference": "\(batch.reference)", "error": "\(error)"])
            return false
        }
    }

    /// Zoho refused the batch (a 4xx other than auth and limits): split it to find the line at
    /// fault, or, for one line, keep it as a dead letter.
    private func reject(_ batch: ZohoBatch, error: OutboundError) async -> Bool {
        do {
            if batch.lines.count == 1 {
                let line = batch.lines[0]
                let milliseconds = Int64(Date().timeIntervalSince1970 * 1000)
                let letter = DeadLetter(
                    id: String(milliseconds).leftPadded(to: 13) + "-" + batch.id, channel: "zoho", receivedAt: milliseconds,
                    code: "zoho_\(error.vendorCode.map(String.init) ?? "rejected")", message: error.message, field: "line_items[0]",
                    headers: [RefusedLine.kindHeader: RefusedLine.kind], body: RefusedLine(line, reference: batch.reference).body,
                    replays: 0)
                _ = try await writer.submit(.zoho(.reject(batchID: batch.id, letter: letter)))
                metrics.count(.rejected)
                logger.error(
                    "Zoho refused an adjustment line; kept as a dead letter",
                    metadata: ["item_id": "\(line.itemID)", "location_id": "\(line.locationID)", "dead_letter": "\(letter.id)", "error": "\(error)"])
                return true
            }
            let half = batch.lines.count / 2
            let parts = [Array(batch.lines[..<half]), Array(batch.lines[half...])].enumerated().map { index, lines in
                ZohoBatch(
                    id: "\(batch.id).\(index)", reference: "\(batch.reference).\(index)", date: batch.date, sealedAt: batch.sealedAt,
                    lines: lines)
            }
            _ = try await writer.submit(.zoho(.split(batchID: batch.id, parts: parts)))
            metrics.count(.split)
            logger.warning(
                "Zoho refused a batch; splitting it to find the line at fault",
                metadata: ["reference": "\(batch.reference)", "lines": "\(batch.lines.count)", "error": "\(error)"])
            for part in parts {
                // Each part was never sent: its outcome is known.
                guard await post(part, holdingSlot: false, deadline: nil) else { return false }
            }
            return true
        } catch {
            logger.warning("cannot record a refused Zoho batch yet", metadata: ["reference": "\(batch.reference)", "error": "\(error)"])
            return false
        }
    }

    // MARK: Helpers

    package func backoff(_ attempt: Int) -> Double {
        let ceiling = min(configuration.maxBackoffSeconds, configuration.backoffSeconds * pow(2, Double(min(attempt, 20) - 1)))
        return Double.random(in: (ceiling / 2)...max(ceiling / 2, ceiling))
    }

    private func note(_ error: OutboundError) {
        switch error.code {
        case .quotaExhausted: setState(.quotaExhausted, error: error.description)
        case .credentialsRejected: setState(.tokenRejected, error: error.description)
        case .notSent: break
        default: setState(.retrying, error: error.description)
        }
    }

    private func setState(_ state: Status.State, error: String?) {
        status.withLock {
            $0.state = state
            $0.lastError = error
        }
        metrics.syncing.set(Int64(state == .ok ? 1 : 0))
    }
}

/// Set once graceful shutdown begins.
package final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    package var isStopping: Bool { flag.load(ordering: .relaxed) }
    package func stop() { flag.store(true, ordering: .relaxed) }
}
