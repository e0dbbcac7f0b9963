// The benchmark's mixed storm (70 % new lines, 20 % duplicates, 10 % edits over 1M rows, after
// 1M preloaded lines) as a plain program, for profilers: the set-up runs first, then the storm is
// applied in batches of 1,000 and only that part is timed.
//
//     swift run -c release LedgerStorm [N]      (N million storm events, default 2.5)
//     perf record -g .build/release/LedgerStorm

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LedgerWorkload
import StockyardCore

let millions = CommandLine.arguments.dropFirst().first.flatMap(Double.init) ?? 2.5
guard millions > 0 else {
    print("usage: LedgerStorm [millions of events]")
    exit(2)
}
let total = Int(millions * 1_000_000)
let preloaded = 1_000_000
let now: UInt32 = 1_763_900_000

func seconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

let began = seconds()
let catalogue = Catalogue.standard
let ledger = catalogue.makeLedger(expectedLines: preloaded + total * 7 / 10)
var stream = SaleStream(catalogue: catalogue, seed: 42)
applyInBatches(ledger, (0..<preloaded).map { _ in stream.newLine() }, now: now)
let events = (0..<total).map { _ in stream.next(.storm) }

let start = seconds()
print("set-up: \(Int((start - began) * 1000)) ms")
let counts = applyInBatches(ledger, events, now: now)
let elapsed = seconds() - start
print("storm: \(total) events in \(Double(Int(elapsed * 1000)) / 1000) s = \(Int(Double(total) / elapsed)) events/s (\(describeOutcomes(counts)))")
