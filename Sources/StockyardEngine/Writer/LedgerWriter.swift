import Foundation
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import StockyardChannels
import StockyardCore
import StockyardRedis
import Synchronization

/// The single writer of the ledger, with group commit.
///
/// Callers submit jobs; the writer takes everything queued, stages it on the ledger, sends the
/// changes to Redis in one pipelined `MULTI`/`EXEC`, and only then commits them in memory and
/// answers each caller. If Redis fails the batch is rolled back and every caller gets
/// `StoreUnavailableError`. The writer runs on a thread of its own because hiredis blocks.
public final class LedgerWriter: Service, @unchecked Sendable {
    /// Writer settings.
    public struct Configuration: Sendable {
        public var redis: RedisConfiguration
        public var ledger: Ledger.Configuration
        public var maxBatchEvents: Int
        public var maxQueuedEvents: Int
        public var journalRetentionMilliseconds: Int64
        /// Seconds between pings and expiry passes when idle.
        public var tickSeconds: Double
        /// Seconds between expiry passes over order lines.
        public var expirySeconds: Double
        /// Least seconds between two attempts to reconnect.
        public var reconnectSeconds: Double
        /// How long channel delivery ids are remembered, in seconds.
        public var deliveryRetentionSeconds: Int64
        /// Most delivery ids kept in memory.
        public var maxDeliveryIDs: Int

        public init(
            redis: RedisConfiguration,
            ledger: Ledger.Configuration = .init(),
            maxBatchEvents: Int = 20_000,
            maxQueuedEvents: Int = 500_000,
            journalRetentionMilliseconds: Int64 = 7 * 86_400_000,
            tickSeconds: Double = 0.5,
            expirySeconds: Double = 60,
            reconnectSeconds: Double = 0.2,
            deliveryRetentionSeconds: Int64 = 86_400,
            maxDeliveryIDs: Int = 2_000_000
        ) {
            self.redis = redis
            self.ledger = ledger
            self.maxBatchEvents = maxBatchEvents
            self.maxQueuedEvents = maxQueuedEvents
            self.journalRetentionMilliseconds = journalRetentionMilliseconds
            self.tickSeconds = tickSeconds
            self.expirySeconds = expirySeconds
            self.reconnectSeconds = reconnectSeconds
            self.deliveryRetentionSeconds = deliveryRetentionSeconds
            self.maxDeliveryIDs = maxDeliveryIDs
        }
    }

    /// Health as the writer last saw it.
    public struct Health: Sendable {
        public var loaded = false
        public var redisReachable = false
        public var lastError: String?
        public var loadReport: LoadReport?
        public var loadSeconds: Double?
    }

    private struct Pending {
        package var job: WriterJob
        /// Resumed exactly once: by `complete`, `refuse` or `failAll`.
        package var continuation: UnsafeContinuation<WriterOutcome, any Error>
        /// The event loop the caller asked from, if any: it is answered there.
        package var loop: (any EventLoop)?
    }

    public let configuration: Configuration
    /// The ledger; readers take the lock briefly and see committed state only.
    public let ledger: LockedLedger
    /// Delivery ids, dead letters and the item catalogue.
    public let inbox: Inbox
    private let health = Mutex(Health())
    private let metrics: EngineMetrics
    /// Signalled after a commit that leaves at least `openRowsThreshold` rows with open nets:
    /// the Zoho flusher waits on it between its intervals instead of looking again and again.
    package let openRowsReached = CommitSignal()
    /// Open rows that wake the flusher early (set by the Zoho sync; never by default).
    package let openRowsThreshold = Atomic<Int>(.max)
    private let logger: Logger

    // Queue shared with callers, guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var queuedEvents = 0
    private var stopping = false
    private var stopped: CheckedContinuation<Void, Never>?
    private var finished = false

    // Owned by the writer thread.
    private var store: RedisStore?
    private var needsLoad = true
    /// Redis's id and address of a connection given up with a write unanswered, ended on the
    /// server before the next load.
    private var abandonedConnection: (id: String, address: String)?
    private var lastConnectAttempt = ContinuousClock.Instant.now - .seconds(3600)
    private var lastPing = ContinuousClock.Instant.now
    private var lastExpiry = ContinuousClock.Instant.now
    /// Delivery ids and catalogue items of batches staged or in flight, not yet in `inbox`.
    private var stagedDeliveries = Set<Inbox.Fingerprint>()
    private var stagedItems: [String: CatalogueItem] = [:]
    /// Zoho correction times staged and not yet stored, by row.
    private var stagedCorrections: [String: Int64] = [:]

    public init(configuration: Configuration, metrics: EngineMetrics, logger: Logger) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        self.ledger = LockedLedger(Ledger(configuration: configuration.ledger))
        self.inbox = Inbox(maxDeliveries: configuration.maxDeliveryIDs)
    }

    public var currentHealth: Health { health.withLock { $0 } }

    /// Runs the writer until graceful shutdown, then stores what is queued and stops.
    public func run() async throws {
        let thread = Thread { [self] in
            Thread.nameCurrent("ledger-writer")
            self.loop()
        }
        thread.start()
        try? await gracefulShutdown()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            if finished {
                condition.unlock()
                continuation.resume()
                return
            }
            stopping = true
            stopped = continuation
            condition.signal()
            condition.unlock()
        }
    }

    /// Queues a request and waits until it is stored (or refused), for its answer.
    public func submit<Request: WriterRequest>(_ request: Request) async throws -> Request.Answer {
        let outcome = try await enqueue(request.job)
        guard let answer = Request.answer(from: outcome) else {
            preconditionFailure("the writer answered \(request.job) with \(outcome)")
        }
        return answer
    }

    /// Queues a job for the next batch and waits for its outcome.
    private func enqueue(_ job: WriterJob) async throws -> WriterOutcome {
        try await withUnsafeThrowingContinuation { continuation in
            condition.lock()
            if stopping || finished {
                condition.unlock()
                continuation.resume(throwing: StoreUnavailableError(reason: "shutting down"))
                return
            }
            if queuedEvents + job.eventCount > configuration.maxQueuedEvents {
                condition.unlock()
                metrics.rejectedRequests.increment()
                continuation.resume(throwing: StoreUnavailableError(reason: "writer queue is full"))
                return
            }
            queue.append(Pending(job: job, continuation: continuation, loop: MultiThreadedEventLoopGroup.currentEventLoop))
            queuedEvents += job.eventCount
            condition.signal()
            condition.unlock()
        }
    }

    // MARK: The writer thread

    /// A batch sent to Redis whose outcome is not read yet.
    private struct SentBatch {
        package var batch: [Pending]
        package var results: [Result<WriterOutcome, InvalidJobError>]
        package var buffer: RedisCommandBuffer
        /// Where the batch ends in the ledger's staged changes.
        package var end: Ledger.Savepoint
        package var oversells: Int
        package var entries: Int
        package var sent: ContinuousClock.Instant
        package var inbox: InboxStage
    }

    /// Takes queued jobs in batches and stores them. While one batch's round trip to Redis is
    /// under way, the next is staged and sent behind it, so that the writer and Redis work at the
    /// same time; outcomes are read, and callers answered, in order.
    private func loop() {
        _ = connectIfNeeded()
        var inFlight: SentBatch?
        while true {
            condition.lock()
            if queue.isEmpty && !stopping && inFlight == nil {
                _ = condition.wait(until: Date(timeIntervalSinceNow: configuration.tickSeconds))
            }
            if queue.isEmpty && stopping && inFlight == nil {
                finished = true
                let stopped = self.stopped
                condition.unlock()
                store?.connection.close()
                stopped?.resume()
                return
            }
            var batch: [Pending] = []
            var events = 0
            while !queue.isEmpty && (batch.isEmpty || events + queue[0].job.eventCount <= configuration.maxBatchEvents) {
                let next = queue.removeFirst()
                events += next.job.eventCount
                batch.append(next)
            }
            queuedEvents -= events
            metrics.queuedEvents.set(Int64(queuedEvents))
            condition.unlock()

            if batch.isEmpty && inFlight == nil {
                tick()
                continue
            }
            var next: SentBatch?
            if !batch.isEmpty {
                if inFlight == nil {
                    guard connectIfNeeded(), store != nil else {
                        refuse(batch)
                        continue
                    }
                }
                switch stageAndSend(batch) {
                case .success(let sent):
                    next = sent
                case .failure(let error):
                    // The connection broke while sending: nothing in flight can be trusted, and a
                    // batch sent before this one may have been stored.
                    let known = inFlight == nil && error.outcomeKnown
                    failAll([inFlight?.batch ?? [], batch], error: RedisError(error.code, error.message, outcomeKnown: known))
                    inFlight = nil
                    continue
                }
            }
            if let current = inFlight {
                if !complete(current, behind: &next) {
                    failAll([next?.batch ?? []], error: nil)
                    inFlight = nil
                    continue
                }
            }
            inFlight = next
            if let batch = inFlight, queueIsEmpty() {
                // Nothing to stage behind it: wait for its outcome now.
                var nothing: SentBatch?
                _ = complete(batch, behind: &nothing)
                inFlight = nil
            }
        }
    }

    package func isStagedDelivery(_ fingerprint: Inbox.Fingerprint) -> Bool {
        stagedDeliveries.contains(fingerprint)
    }

    /// The catalogue item with this SKU, staged items included.
    package func catalogueItem(sku: String) -> CatalogueItem? {
        stagedItems[sku] ?? inbox.item(sku: sku)
    }

    private func queueIsEmpty() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return queue.isEmpty
    }

    private func refuse(_ batch: [Pending]) {
        metrics.rejectedRequests.increment(by: Int64(batch.count))
        let reason = health.withLock { $0.loaded } ? "Redis is unreachable" : "state is not loaded yet"
        for pending in batch {
            pending.continuation.resume(throwing: StoreUnavailableError(reason: reason))
        }
    }

    /// Stages a batch on top of whatever is staged already and sends its changes to Redis.
    private func stageAndSend(_ batch: [Pending]) -> Result<SentBatch, RedisError> {
        let store = self.store!
        let nowSeconds = UInt32(clamping: Int(Date().timeIntervalSince1970))
        let nowMilliseconds = Int64(Date().timeIntervalSince1970 * 1000)
        var results: [Result<WriterOutcome, InvalidJobError>] = []
        results.reserveCapacity(batch.count)
        var entries = 0
        var batchInbox = InboxStage()
        let (buffer, end, oversells) = ledger.withLock { ledger -> (RedisCommandBuffer, Ledger.Savepoint, Int) in
            if !ledger.isStaging { ledger.beginBatch() }
            let start = ledger.savepoint()
            var journal = JournalBuilder()
            for pending in batch {
                let savepoint = ledger.savepoint()
                let journalMark = journal.mark
                var jobInbox = InboxStage()
                let result = run(pending.job, on: ledger, now: nowSeconds, journal: &journal, inbox: &jobInbox)
                if case .failure = result {
                    ledger.rollback(to: savepoint)
                    journal.truncate(to: journalMark)
                } else if !jobInbox.isEmpty {
                    for (fingerprint, _, _) in jobInbox.deliveries { stagedDeliveries.insert(fingerprint) }
                    for item in jobInbox.items { stagedItems[item.sku] = item }
                    for (row, modifiedAt) in jobInbox.corrections { stagedCorrections[row] = modifiedAt }
                    batchInbox.append(jobInbox)
                }
                entries += pending.job.eventCount
                results.append(result)
            }
            let end = ledger.savepoint()
            let buffer = store.prepareCommit(
                ledger, changes: ledger.stagedChanges(since: start), journal: journal.entries, inbox: batchInbox.writes,
                nowMilliseconds: nowMilliseconds)
            return (buffer, end, ledger.oversells(from: start, to: end))
        }
        do {
            try store.send(buffer)
        } catch {
            return .failure(error)
        }
        return .success(
            SentBatch(
                batch: batch, results: results, buffer: buffer, end: end, oversells: oversells, entries: entries,
                sent: .now, inbox: batchInbox))
    }

    /// Reads a sent batch's outcome; on success makes it visible and answers its callers.
    /// Returns false after a failure, once everything staged is rolled back and its callers told.
    private func complete(_ current: SentBatch, behind next: inout SentBatch?) -> Bool {
        guard let store else {
            failAll([current.batch], error: nil)
            return false
        }
        do {
            try store.awaitCommit(current.buffer)
        } catch {
            failAll([current.batch], error: error)
            return false
        }
        metrics.commitLatency.recordNanoseconds((ContinuousClock.Instant.now - current.sent).nanoseconds)
        ledger.withLock { ledger in
            ledger.commitPrefix(through: current.end)
            if next == nil { ledger.commitBatch() }
        }
        if let staged = next?.end {
            next?.end = ledger.withLock { $0.rebase(staged, after: current.end) }
        }
        if !current.inbox.isEmpty {
            inbox.commit(current.inbox)
            for (fingerprint, _, _) in current.inbox.deliveries { stagedDeliveries.remove(fingerprint) }
            for item in current.inbox.items where stagedItems[item.sku] == item { stagedItems[item.sku] = nil }
            for (row, modifiedAt) in current.inbox.corrections where stagedCorrections[row] == modifiedAt {
                stagedCorrections[row] = nil
            }
        }
        lastPing = ContinuousClock.Instant.now
        metrics.batchEvents.record(Double(current.entries))
        if current.oversells > 0 { metrics.oversells.increment(by: Int64(current.oversells)) }
        for (pending, result) in zip(current.batch, current.results) {
            if case .success(let outcome) = result { count(pending.job, outcome) }
        }
        answer(zip(current.batch, current.results.map { $0.mapError { $0 as any Error } }))
        if ledger.withLock({ $0.openNetRowCount }) >= openRowsThreshold.load(ordering: .relaxed) { openRowsReached.signal() }
        updateGauges()
        return true
    }

    /// Resumes callers on the event loops they asked from, with one hop per loop for the whole
    /// batch: each request carries on where its connection is served, and the loops are woken
    /// once each rather than once per caller.
    private func answer(_ answers: some Sequence<(Pending, Result<WriterOutcome, any Error>)>) {
        var groups: [(loop: any EventLoop, answers: [(UnsafeContinuation<WriterOutcome, any Error>, Result<WriterOutcome, any Error>)])] = []
        for (pending, result) in answers {
            guard let loop = pending.loop else {
                pending.continuation.resume(with: result)
                continue
            }
            if let index = groups.firstIndex(where: { $0.loop === loop }) {
                groups[index].answers.append((pending.continuation, result))
            } else {
                groups.append((loop, [(pending.continuation, result)]))
            }
        }
        for (loop, answers) in groups {
            loop.execute {
                for (continuation, result) in answers { continuation.resume(with: result) }
            }
        }
    }

    /// Rolls back everything staged and answers every caller of the given batches with 503.
    private func failAll(_ batches: [[Pending]], error: (any Error)?) {
        ledger.withLock { if $0.isStaging { $0.rollbackBatch() } }
        stagedDeliveries.removeAll()
        stagedItems.removeAll()
        stagedCorrections.removeAll()
        if let store { fail(error ?? RedisError(.io, "an earlier batch failed", outcomeKnown: false), store: store) }
        let callers = batches.joined()
        metrics.rejectedRequests.increment(by: Int64(callers.count))
        // Sent and never answered (a timeout, a connection broken mid-flight): Redis may still
        // run it. Only an error that says nothing went out is "nothing was stored".
        let unknown = (error as? RedisError)?.outcomeKnown != true
        let refusal = StoreUnavailableError(
            reason: unknown ? "Redis did not answer the write" : "Redis write failed", outcomeUnknown: unknown)
        for pending in callers {
            pending.continuation.resume(throwing: refusal)
        }
    }

    private func tick() {
        let now = ContinuousClock.Instant.now
        guard let store, !needsLoad else {
            _ = connectIfNeeded()
            return
        }
        if now - lastPing > .seconds(1) {
            lastPing = now
            do {
                try store.ping()
                setReachable(true, error: nil)
            } catch {
                fail(error, store: store)
            }
        }
        if now - lastExpiry > .seconds(configuration.expirySeconds) {
            lastExpiry = now
            expire()
        }
    }

    /// Connects and loads the state when needed. Returns false while the store is unusable.
    private func connectIfNeeded() -> Bool {
        if let store, store.connection.isUsable, !needsLoad { return true }
        let now = ContinuousClock.Instant.now
        guard now - lastConnectAttempt >= .seconds(configuration.reconnectSeconds) else { return false }
        lastConnectAttempt = now
        do {
            let connection = try RedisConnection(configuration: configuration.redis)
            let store = RedisStore(
                connection: connection, journalRetentionMilliseconds: configuration.journalRetentionMilliseconds)
            var loaded: Ledger?
            if let abandoned = abandonedConnection {
                // A commit Redis never answered may still wait in its buffer for the old
                // connection, and run after the state is read back. Ending that connection on the
                // server first settles it, run or dropped, so memory and Redis agree after the load.
                _ = try connection.command(["CLIENT", "KILL", "ID", abandoned.id, "ADDR", abandoned.address])
                abandonedConnection = nil
            }
            if needsLoad {
                let started = ContinuousClock.Instant.now
                let fresh = Ledger(configuration: configuration.ledger)
                let report = try store.load(into: fresh)
                let nowSeconds = Int64(Date().timeIntervalSince1970)
                let snapshot = try store.loadInbox(nowSeconds: nowSeconds)
                do {
                    try inbox.replace(with: snapshot, nowSeconds: nowSeconds)
                } catch {
                    throw RedisError(.corruptData, "\(error)")
                }
                let seconds = (ContinuousClock.Instant.now - started).seconds
                ledger.replace(with: fresh)
                needsLoad = false
                metrics.reloads.increment()
                health.withLock {
                    $0.loaded = true
                    $0.loadReport = report
                    $0.loadSeconds = seconds
                }
                logger.info(
                    "state loaded from Redis",
                    metadata: [
                        "rows": "\(report.rows)", "lines": "\(report.lines)", "listings": "\(report.listings)",
                        "parked": "\(report.parkedEvents)", "seconds": "\(seconds)",
                    ])
                loaded = fresh
            }
            self.store = store
            setReachable(true, error: nil)
            updateGauges()
            // Ready now; then the loaded ledger's line table gets its room backed by memory, so
            // that the writer takes no page faults filling it under load (a madvise: readers are
            // not held).
            loaded?.commitLineStorage()
            return true
        } catch {
            metrics.redisErrors.increment()
            setReachable(false, error: "\(error)")
            logger.warning("Redis unavailable", metadata: ["error": "\(error)"])
            return false
        }
    }

    private func setReachable(_ reachable: Bool, error: String?) {
        let ready = health.withLock {
            $0.redisReachable = reachable
            $0.lastError = error
            return $0.loaded && reachable
        }
        metrics.ready.set(Int64(ready ? 1 : 0))
    }

    /// After a failed round trip nothing is known about what Redis kept: reload from it.
    private func fail(_ error: any Error, store: RedisStore) {
        metrics.redisErrors.increment()
        if let identity = store.connection.serverIdentity { abandonedConnection = identity }
        store.connection.close()
        self.store = nil
        needsLoad = true
        setReachable(false, error: "\(error)")
        logger.error("Redis round trip failed; state will be reloaded from Redis", metadata: ["error": "\(error)"])
    }

    private func expire() {
        guard let store else { return }
        let now = UInt32(clamping: Int(Date().timeIntervalSince1970))
        var expired = 0
        let buffer = ledger.withLock { ledger -> RedisCommandBuffer in
            ledger.beginBatch()
            expired = ledger.expireLines(now: now)
            return store.prepareCommit(
                ledger, changes: ledger.stagedChanges(), journal: [], nowMilliseconds: Int64(now) * 1000)
        }
        do {
            if expired > 0 { try store.execute(buffer) }
            ledger.withLock { $0.commitBatch() }
            try store.expireDeliveries(nowSeconds: Int64(now))
            inbox.expire(nowSeconds: Int64(now))
            if expired > 0 { logger.info("order lines expired", metadata: ["count": "\(expired)"]) }
        } catch {
            ledger.withLock { $0.rollbackBatch() }
            fail(error, store: store)
        }
    }

    private func updateGauges() {
        let (rows, lines, parked) = ledger.withLock { ($0.rowCount, $0.lineCount, $0.parkedCount) }
        metrics.rows.set(Int64(rows))
        metrics.lines.set(Int64(lines))
        metrics.parked.set(Int64(parked))
        metrics.deliveryIDs.set(Int64(inbox.deliveryCount))
        metrics.deadLetters.set(Int64(inbox.deadLetterCount))
        metrics.lookupBacklog.set(Int64(inbox.lookupCount))
    }

    private func count(_ job: WriterJob, _ outcome: WriterOutcome) {
        switch (job, outcome) {
        case (.events(let events), .events(let outcomes)):
            for (event, outcome) in zip(events, outcomes) { metrics.countEvent(event.channel, outcome.result) }
        case (_, .listings(let replayed)):
            for item in replayed { metrics.countEvent(item.event.channel, item.outcome.result) }
        case (.delivery(let job), .delivery(let outcome)), (.lookupDone(_, let job), .delivery(let outcome)):
            // A delivery's lines are of its channel: one count per result.
            // By index: the lines are read where they lie, not copied out.
            var counts = ResultCounts()
            for index in 0..<min(job.lines.count, outcome.lines.count) {
                let channel = job.lines[index].event.channel
                let result = outcome.lines[index].result
                if channel == job.channel {
                    counts[result] += 1
                } else {
                    metrics.countEvent(channel, result)
                }
            }
            for result in EventResult.allCases where counts[result] > 0 {
                metrics.countEvent(job.channel, result, by: counts[result])
            }
            for case let item? in outcome.adjustments { metrics.countEvent(item.event.channel, item.outcome.result) }
            for item in outcome.replayed { metrics.countEvent(item.event.channel, item.outcome.result) }
            if !outcome.autoMapped.isEmpty { metrics.autoMapped.increment(by: Int64(outcome.autoMapped.count)) }
        default:
            break
        }
    }

    /// Stages one job. On failure the caller rolls back to the job's savepoint.
    private func run(
        _ job: WriterJob, on ledger: Ledger, now: UInt32, journal: inout JournalBuilder, inbox stage: inout InboxStage
    ) -> Result<WriterOutcome, InvalidJobError> {
        switch job {
        case .delivery(let delivery):
            return runDelivery(delivery, on: ledger, now: now, journal: &journal, inbox: &stage)
        case .deadLetter(let letter):
            stage.deadLetters.append(letter)
            return .success(.stored)
        case .zoho(let zohoJob):
            return runZoho(zohoJob, on: ledger, journal: &journal, inbox: &stage)
        case .lookup(let job, let channel, let deliveryID):
            let fingerprint = Inbox.Fingerprint(channel: channel, deliveryID: deliveryID)
            if isStagedDelivery(fingerprint) || inbox.seen(fingerprint) { return .success(.lookupStored(false)) }
            stage.deliveries.append((fingerprint, "\(channel.name):\(deliveryID)", Int64(now) + configuration.deliveryRetentionSeconds))
            stage.lookups.append(job)
            journal.lookup(job)
            return .success(.lookupStored(true))
        case .lookupDone, .lookupUpdate, .lookupFailed:
            return runLookup(job, on: ledger, now: now, journal: &journal, inbox: &stage)
        case .zohoAdjustment(let id, let lines):
            return runZohoAdjustment(id: id, lines: lines, on: ledger, now: now, journal: &journal, inbox: &stage)
        case .items(let items):
            stage.items = items
            journal.items(items)
            // Listings named by the SKU itself map themselves once the SKU is in the catalogue.
            var replayed: [ReplayedEvent] = []
            for item in items {
                for key in [ListingKey(channel: .amazon, listingID: item.sku), ListingKey(channel: .shopify, listingID: "sku:" + item.sku)]
                where ledger.parkedCount(key) > 0 && !ledger.isMapped(key) {
                    replayed += autoMap(key, to: item, on: ledger, now: now, journal: &journal) ?? []
                }
            }
            journal.events(replayed.map { ($0.event, $0.outcome) }, kind: "replay")
            return .success(.listings(replayed: replayed))
        case .events(let events):
            var outcomes: [EventOutcome] = []
            outcomes.reserveCapacity(events.count)
            if let index = ledger.apply(validated: events[...], now: now, outcomes: &outcomes) {
                return .failure(InvalidJobError(index: index, problem: outcomes[index].problem!))
            }
            journal.events(zip(events, outcomes), kind: "events")
            return .success(.events(outcomes))
        case .listings(let maps):
            var replayed: [ReplayedEvent] = []
            for (index, map) in maps.enumerated() {
                do {
                    // A replayed event that no longer fits (say, its location left the map) is
                    // reported as invalid and kept for a person; it does not block the map.
                    for (event, outcome) in try ledger.upsertListing(map, now: now) {
                        replayed.append(ReplayedEvent(event: event, outcome: outcome))
                    }
                } catch {
                    return .failure(InvalidJobError(index: index, problem: error))
                }
            }
            journal.listings(maps)
            journal.events(replayed.map { ($0.event, $0.outcome) }, kind: "replay")
            return .success(.listings(replayed: replayed))
        case .stock(let settings):
            var stale: [Int] = []
            var applied: [StockSetting] = []
            for (index, setting) in settings.enumerated() {
                // A correction from Zoho that is not newer than the last one applied to its row
                // (a replay, or a record that arrived late) would set the row back.
                if let modifiedAt = setting.modifiedAt {
                    if let last = stagedCorrections[setting.row] ?? inbox.correctionTime(row: setting.row), modifiedAt <= last {
                        stale.append(index)
                        continue
                    }
                    stage.corrections.append((setting.row, modifiedAt))
                }
                do {
                    try ledger.setOnHand(itemID: setting.itemID, locationID: setting.locationID, quantity: setting.zohoOnHand)
                } catch {
                    return .failure(InvalidJobError(index: index, problem: error))
                }
                applied.append(setting)
            }
            if !applied.isEmpty { journal.stock(applied) }
            let corrected = settings.contains { $0.modifiedAt != nil }
            return .success(corrected ? .corrected(stale: stale) : .stored)
        case .rules(let rules):
            for (index, rule) in rules.enumerated() {
                do {
                    try ledger.setRule(rule)
                } catch {
                    return .failure(InvalidJobError(index: index, problem: error))
                }
            }
            journal.rules(rules)
            return .success(.stored)
        }
    }
}

extension Duration {
    package var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    package var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
