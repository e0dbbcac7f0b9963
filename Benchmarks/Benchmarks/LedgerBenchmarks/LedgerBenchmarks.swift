import Benchmark
import LedgerWorkload
import StockyardCore

// Every benchmark starts from a ledger with 1,000,000 item × location rows and 250,000 listings
// (see `Catalogue.standard`), built in its setup and not measured. One iteration is one batch of
// 1,000 operations, and the scaling factor is 1,000, so throughput is per operation:
// `Throughput (# / s) (K)` reads as thousands of events (or reads) per second.

/// Lines applied before measuring, so that lookups run against a full line table.
let preloadedLines = 1_000_000
let batchSize = 1_000
let now: UInt32 = 1_763_900_000

/// A ledger and the events the measured batches apply, in order.
final class ApplyState {
    let ledger: Ledger
    let events: [SaleEvent]
    /// Outcomes the stream is expected to produce, one bit per raw value; anything else fails
    /// the benchmark.
    let expected: UInt32
    /// The outcomes of the batch being applied (capacity kept between batches).
    var outcomes: [EventOutcome] = []

    init(ledger: Ledger, events: [SaleEvent], expected: [EventResult]) {
        self.ledger = ledger
        self.events = events
        self.expected = expected.reduce(0) { $0 | 1 << UInt32($1.rawValue) }
        outcomes.reserveCapacity(batchSize)
    }

    /// Applies batch number `batch` (wrapping round the events) and checks the outcomes.
    func applyBatch(_ batch: Int, _ benchmark: Benchmark) {
        var start = batch * batchSize % events.count
        if start + batchSize > events.count { start = 0 }
        var seen: UInt32 = 0
        outcomes.removeAll(keepingCapacity: true)
        ledger.beginBatch()
        _ = ledger.apply(validated: events[start..<(start + benchmark.scaledIterations.count)], now: now, outcomes: &outcomes)
        ledger.commitBatch()
        for outcome in outcomes { seen |= 1 << UInt32(outcome.result.rawValue) }
        if seen & ~expected != 0 {
            let names = EventResult.allCases.filter { seen & ~expected & 1 << UInt32($0.rawValue) != 0 }.map(\.name)
            benchmark.error("unexpected outcomes: \(names)")
        }
    }
}

/// The catalogue ledger with `preloadedLines` lines applied; returns it and the stream that made them.
func preloadedLedger(extraLines: Int) -> (Ledger, SaleStream, [SaleEvent]) {
    let catalogue = Catalogue.standard
    let ledger = catalogue.makeLedger(expectedLines: preloadedLines + extraLines)
    var stream = SaleStream(catalogue: catalogue, seed: 42)
    let history = (0..<preloadedLines).map { _ in stream.newLine() }
    applyInBatches(ledger, history, batchSize: batchSize, now: now)
    return (ledger, stream, history)
}

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.throughput, .wallClock, .mallocCountTotal, .peakMemoryResident]
    let warmup = 10
    let stormBatches = 2_500

    Benchmark(
        "Core apply, mixed storm, 1M rows",
        configuration: .init(
            metrics: metrics,
            warmupIterations: warmup,
            scalingFactor: .kilo,
            maxDuration: .seconds(10),
            maxIterations: stormBatches)
    ) { benchmark, state in
        state.applyBatch(benchmark.currentIteration, benchmark)
    } setup: { () -> ApplyState in
        // 70 % new lines, 20 % exact duplicates of earlier events, 10 % edits of earlier lines.
        let total = (warmup + stormBatches) * batchSize
        let (ledger, preloadStream, _) = preloadedLedger(extraLines: total * 7 / 10)
        var stream = preloadStream
        let events = (0..<total).map { _ in stream.next(.storm) }
        return ApplyState(ledger: ledger, events: events, expected: [.applied, .duplicate])
    }

    Benchmark(
        "Core apply, all duplicates",
        configuration: .init(
            metrics: metrics,
            warmupIterations: warmup,
            scalingFactor: .kilo,
            maxDuration: .seconds(5),
            maxIterations: 5_000)
    ) { benchmark, state in
        state.applyBatch(benchmark.currentIteration, benchmark)
    } setup: { () -> ApplyState in
        // Redeliveries of the preloaded lines, in random order.
        let (ledger, _, preloaded) = preloadedLedger(extraLines: 0)
        var history = preloaded
        var random = SplitMix64(seed: 7)
        history.shuffle(using: &random)
        return ApplyState(ledger: ledger, events: history, expected: [.duplicate])
    }

    Benchmark(
        "Sellable read",
        configuration: .init(
            metrics: metrics,
            warmupIterations: warmup,
            scalingFactor: .kilo,
            maxDuration: .seconds(5),
            maxIterations: 5_000)
    ) { benchmark, state in
        let (ledger, keys) = state
        var start = benchmark.currentIteration * batchSize % keys.count
        if start + batchSize > keys.count { start = 0 }
        var total: Int64 = 0
        for offset in benchmark.scaledIterations {
            total &+= ledger.sellable(keys[start + offset]) ?? -1_000_000
        }
        blackHole(total)
    } setup: { () -> (Ledger, [ListingKey]) in
        let catalogue = Catalogue.standard
        let ledger = catalogue.makeLedger(expectedLines: 0)
        var random = SplitMix64(seed: 9)
        let keys = (0..<1_000_000).map { _ in catalogue.listingKey(Int.random(in: 0..<catalogue.listingCount, using: &random)) }
        return (ledger, keys)
    }
}
