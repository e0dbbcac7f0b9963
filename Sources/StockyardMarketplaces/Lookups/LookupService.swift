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

/// Drains the look-up jobs that eBay and Etsy notifications leave: each job's order is fetched
/// from the channel's API (at the channel's pace) and its lines applied, and the job removed, in
/// one transaction. Failures are tried again with growing waits; a job that keeps failing, or an
/// order that cannot be read, becomes a dead letter. Jobs live in Redis, so a crash between the
/// acknowledgement and the look-up only delays it.
public final class LookupService: Service, Sendable {
    private let writer: LedgerWriter
    private let configuration: LookupConfiguration
    private let metrics: LookupMetrics
    private let logger: Logger
    private let lanes: [LookupLane]
    private let ebay: EbayLookups?
    private let etsy: EtsyLookups?
    private let store: OutboundStore
    /// eBay's notification keys, pinned or fetched.
    package let ebayKeys: EbayKeyCache

    package init(
        configuration: LookupConfiguration, ebay ebayAPI: EbayAPIConfiguration?, etsy etsyAPI: EtsyAPIConfiguration?,
        ebayPublicKeys: [String: String], redis: RedisConfiguration, writer: LedgerWriter, metrics: LookupMetrics, logger: Logger
    ) {
        self.writer = writer
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        let store = OutboundStore(redis: redis)
        self.store = store
        func limiter(_ name: String, perSecond: Double?, concurrency: Int?) -> CallLimiter {
            CallLimiter(name: name, limits: Self.limits(perSecond: perSecond ?? 1, concurrency: concurrency ?? 1), store: store, logger: logger)
        }
        let ebayLimiter = limiter("ebay", perSecond: ebayAPI?.lookupsPerSecond, concurrency: ebayAPI?.concurrency)
        let etsyLimiter = limiter("etsy", perSecond: etsyAPI?.lookupsPerSecond, concurrency: etsyAPI?.concurrency)
        ebay = ebayAPI.map { EbayLookups(configuration: $0, limiter: ebayLimiter, store: store, logger: logger) }
        etsy = etsyAPI.map { EtsyLookups(configuration: $0, limiter: etsyLimiter, store: store, logger: logger) }
        var fetchKey: EbayKeyCache.Fetch?
        if let ebay {
            let keyMetrics = metrics
            fetchKey = { (keyID: String) async throws(OutboundError) -> String in
                do throws(OutboundError) {
                    let pem = try await ebay.publicKey(keyID)
                    keyMetrics.keyFetches[true]?.increment()
                    return pem
                } catch {
                    keyMetrics.keyFetches[false]?.increment()
                    throw error
                }
            }
        }
        ebayKeys = EbayKeyCache(
            pinned: ebayPublicKeys, lifetime: ebayAPI?.keyCacheSeconds ?? 3600, fetch: fetchKey)
        var lanes: [LookupLane] = []
        let ebay = self.ebay
        lanes.append(
            LookupLane(
                kind: .ebayOrder, channel: .ebay, concurrency: ebayAPI?.concurrency ?? 1,
                limiter: ebayLimiter,
                fetch: { job, worker throws(OutboundError) in
                    guard let ebay else { throw OutboundError(.notConfigured, message: "eBay's API is not configured (STOCKYARD_EBAY_CLIENT_ID)") }
                    return try await ebay.order(job.resource, worker: worker)
                },
                read: { body, job throws(PayloadError) in
                    try LookupLane.read(body) { raw throws(PayloadError) in try EbayOrder.read(body: raw, deliveryID: nil) }
                }))
        let etsy = self.etsy
        lanes.append(
            LookupLane(
                kind: .etsyReceipt, channel: .etsy, concurrency: etsyAPI?.concurrency ?? 1,
                limiter: etsyLimiter,
                fetch: { job, worker throws(OutboundError) in
                    guard let etsy else { throw OutboundError(.notConfigured, message: "Etsy's API is not configured (STOCKYARD_ETSY_KEYSTRING)") }
                    return try await etsy.receipt(shopID: job.shopID ?? "", receiptID: job.resource, worker: worker)
                },
                read: { body, job throws(PayloadError) in
                    try LookupLane.read(body) { raw throws(PayloadError) in try EtsyReceipt.read(body: raw, deliveryID: nil) }
                }))
        self.lanes = lanes
    }

    /// A channel's look-up budget: spaced to its rate, whoever makes the calls, and as many at
    /// once as it has workers.
    package static func limits(perSecond: Double, concurrency: Int) -> CallBudget.Limits {
        .init(spacing: 1 / max(0.001, perSecond), perMinute: .max, concurrent: max(1, concurrency), daily: .max, dailyReserve: 0)
    }

    /// Per channel: `ok`, `not_configured`, `credentials_rejected`, `rate_limited` or `failing`.
    package var currentStatus: [(channel: String, status: LookupLane.Status)] {
        lanes.map { ($0.channel.name, $0.status.withLock { $0 }) }
    }

    public func run() async throws {
        // Calls made before a restart still count against each channel's limits.
        for lane in lanes { await lane.limiter.restore() }
        await withDiscardingTaskGroup { group in
            for lane in lanes {
                for worker in 0..<max(1, lane.concurrency) {
                    group.addTask { await self.work(lane, worker: worker) }
                }
            }
            group.addTask { await self.watchBacklog() }
            try? await gracefulShutdown()
            // Calls under way finish (they cannot be taken back); nothing new starts.
            group.cancelAll()
        }
        ebay?.stop()
        etsy?.stop()
        store.stop()
    }

    private static var nowMilliseconds: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    private func watchBacklog() async {
        while !Task.isCancelled {
            // The backlog gauge is the writer's (set with each commit); the age moves with time.
            let backlog = writer.inbox.lookupBacklog
            metrics.oldestAge.set(backlog.oldest.map { max(0, (Self.nowMilliseconds - $0) / 1000) } ?? 0)
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func work(_ lane: LookupLane, worker: Int) async {
        while !Task.isCancelled {
            // A paused lane (the channel asked, or its credentials or configuration are
            // missing) holds its jobs untouched: no claim, no attempt spent, no spinning.
            let paused = lane.limiter.pausedUntil() - Date().timeIntervalSince1970
            if paused > 0 {
                try? await Task.sleep(for: .milliseconds(Int64(min(paused, 3600) * 1000)))
                continue
            }
            // Read before looking, so that a job stored between the look and the wait wakes it.
            let seen = writer.inbox.lookupsStored.generation
            let now = Self.nowMilliseconds
            guard let job = lane.claims.next(from: writer.inbox, kind: lane.kind, now: now) else {
                // Idle until a job is stored or a waiting one falls due (at most a second).
                let quiet = min(max(lane.claims.quietUntil - now, 1), 1000)
                await writer.inbox.lookupsStored.wait(after: seen, timeout: .milliseconds(quiet))
                continue
            }
            let health = writer.currentHealth
            guard health.loaded && health.redisReachable else {
                // The result could not be stored: do not spend the channel's calls meanwhile.
                lane.claims.release(job.id)
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            if Task.isCancelled {
                lane.claims.release(job.id)
                return
            }
            let pause = await process(job, lane: lane, worker: worker)
            lane.claims.release(job.id)
            if pause > 0 { try? await Task.sleep(for: .seconds(pause)) }
        }
    }

    /// One attempt at one job; returns seconds this worker should rest afterwards.
    private func process(_ job: LookupJob, lane: LookupLane, worker: Int) async -> Double {
        let channel = lane.channel.name
        let started = ContinuousClock.now
        let body: [UInt8]
        do throws(OutboundError) {
            body = try await lane.fetch(job, worker)
        } catch {
            metrics.record(channel, ContinuousClock.now - started)
            return await failed(job, lane: lane, error: error)
        }
        metrics.record(channel, ContinuousClock.now - started)
        let delivery: ChannelDelivery
        do throws(PayloadError) {
            delivery = try lane.read(body, job)
        } catch {
            return await giveUp(job, lane: lane, letter: unreadable(job, lane: lane, body: body, error: error))
        }
        do {
            let outcome = try await writer.submit(
                .lookupDone(job, DeliveryJob(channel: lane.channel, deliveryID: nil, lines: delivery.lines, adjustments: [])))
            lane.strikes.withLock { $0 = LookupLane.Strikes() }
            lane.status.withLock {
                $0.state = "ok"
                $0.lastDoneAt = Date().timeIntervalSince1970
            }
            metrics.count(channel, .done)
            if let applied = outcome {
                logger.info(
                    "look-up applied",
                    metadata: [
                        "job": "\(job.id)", "resource": "\(job.resource)", "lines": "\(applied.lines.count)",
                        "waited_ms": "\(Self.nowMilliseconds - job.receivedAt)",
                    ])
            }
            return 0
        } catch let error as InvalidJobError {
            let problem = PayloadError(field: "lines[\(error.index)].\(error.problem.field)", message: error.problem.message)
            return await giveUp(job, lane: lane, letter: unreadable(job, lane: lane, body: body, error: problem))
        } catch {
            // The store cannot take it now: the job stays and is tried again shortly.
            logger.warning("look-up result not stored; it will be tried again", metadata: ["job": "\(job.id)", "error": "\(error)"])
            return 1
        }
    }

    /// A failed call: a pause for the lane (rate limits, refused credentials, the channel failing
    /// call after call) or the job's next attempt, or a dead letter after the last.
    private func failed(_ job: LookupJob, lane: LookupLane, error: OutboundError) async -> Double {
        let channel = lane.channel.name
        let now = Date().timeIntervalSince1970
        switch error.code {
        case .rateLimited, .tokenRequestLimit:
            // The outbound layer paused the channel for a 429 (doubling while 429s keep coming
            // without a Retry-After); a token request over the limit waits here for its turn.
            if error.code == .tokenRequestLimit {
                await lane.limiter.pause(forSeconds: min(3600, max(1, error.retryAfter ?? 60)), remember: false)
            }
            let seconds = max(0, lane.limiter.pausedUntil() - now)
            metrics.count(channel, .rateLimited)
            lane.status.withLock {
                $0.state = "rate_limited"
                $0.lastError = error.description
            }
            logger.notice("channel asked for a pause", metadata: ["channel": "\(channel)", "seconds": "\(Int(seconds))"])
            return 0
        case .credentialsRejected, .notConfigured:
            // Every job would fail the same way: they wait, unchanged, until a person fixes it.
            await lane.limiter.pause(forSeconds: 60, remember: false)
            lane.status.withLock {
                $0.state = error.code == .notConfigured ? "not_configured" : "credentials_rejected"
                $0.lastError = error.description
            }
            return 0
        case .notSent:
            // Nothing reached the channel (stopping, or the limits' history unreadable in
            // Redis): the job waits as it was, with no attempt spent.
            return 1
        case .notFound, .invalidResponse, .rejected:
            // This job's own trouble (an order not visible yet, an answer that does not read).
            break
        default:
            // 5xx, network, 403: after three in a row the channel, not the job, is failing; the
            // lane pauses with growing waits and the jobs keep their attempts for their own
            // troubles, so an outage does not turn every waiting job into a dead letter.
            let failures = lane.strikes.withLock { strikes -> Int in
                strikes.failures += 1
                return strikes.failures
            }
            if failures >= 3 {
                let seconds = min(configuration.maxBackoffSeconds, max(1, configuration.backoff(afterAttempts: failures - 2)))
                await lane.limiter.pause(forSeconds: seconds, remember: false)
                lane.status.withLock {
                    $0.state = "failing"
                    $0.lastError = error.description
                }
                metrics.count(channel, .retry)
                logger.warning(
                    "channel failing; look-ups paused", metadata: ["channel": "\(channel)", "seconds": "\(Int(seconds))", "error": "\(error)"])
                return 0
            }
        }
        var next = job
        next.attempts += 1
        next.lastError = error.description
        lane.status.withLock {
            $0.state = "failing"
            $0.lastError = error.description
        }
        if next.attempts >= configuration.maxAttempts {
            let letter = DeadLetter(
                id: DeadLetter.newID(milliseconds: Self.nowMilliseconds), channel: channel, receivedAt: Self.nowMilliseconds,
                code: "lookup_failed", message: "the look-up of \(job.resource) failed \(next.attempts) times; last: \(error)",
                field: nil, headers: [DeadLetter.kindHeader: "lookup"], body: next.record, replays: 0)
            return await giveUp(next, lane: lane, letter: letter)
        }
        let backoff = configuration.backoff(afterAttempts: next.attempts)
        next.notBefore = Self.nowMilliseconds + Int64(backoff * 1000)
        metrics.count(channel, .retry)
        logger.warning(
            "look-up failed; it will be tried again",
            metadata: ["job": "\(job.id)", "attempts": "\(next.attempts)", "retry_in_s": "\(Int(backoff))", "error": "\(error)"])
        do {
            _ = try await writer.submit(.lookupUpdate(next, resolvesDeadLetter: nil))
            return 0
        } catch {
            return 1
        }
    }

    /// The order as fetched, kept for a person because it cannot be read or applied: only the
    /// fields Stockyard reads, so no buyer data (names, addresses) is kept.
    private func unreadable(_ job: LookupJob, lane: LookupLane, body: [UInt8], error: PayloadError) -> DeadLetter {
        DeadLetter(
            id: DeadLetter.newID(milliseconds: Self.nowMilliseconds), channel: lane.channel.name, receivedAt: Self.nowMilliseconds,
            code: error.code.rawValue, message: "\(job.resource): \(error.message)", field: error.field,
            headers: [DeadLetter.kindHeader: job.kind.rawValue, "x-stockyard-lookup": job.id],
            body: job.kind == .ebayOrder ? EbayOrder.essentials(of: body) : EtsyReceipt.essentials(of: body), replays: 0)
    }

    private func giveUp(_ job: LookupJob, lane: LookupLane, letter: DeadLetter) async -> Double {
        do {
            _ = try await writer.submit(.lookupFailed(job, letter))
        } catch {
            return 1
        }
        metrics.count(lane.channel.name, .deadLettered)
        logger.error(
            "look-up given up; kept as a dead letter",
            metadata: ["job": "\(job.id)", "dead_letter": "\(letter.id)", "reason": "\(letter.code)", "message": "\(letter.message)"])
        return 0
    }
}
