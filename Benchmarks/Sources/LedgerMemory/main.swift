// Resident memory of a ledger with 1,000,000 item × location rows, 250,000 listings and
// N million live order lines.
//
//     swift run -c release LedgerMemory [N]     (N in millions, default 5)

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LedgerWorkload
import StockyardCore

let millions = CommandLine.arguments.dropFirst().first.flatMap(Double.init) ?? 5
guard millions >= 0 else {
    print("usage: LedgerMemory [millions of lines]")
    exit(2)
}
let lineTarget = Int(millions * 1_000_000)

/// `VmRSS` and `VmHWM` from /proc/self/status, in KiB (nil where there is no /proc).
func residentKiB() -> (rss: Int, peak: Int)? {
    guard let file = fopen("/proc/self/status", "r") else { return nil }
    defer { fclose(file) }
    var rss = 0
    var peak = 0
    var buffer = [CChar](repeating: 0, count: 256)
    while fgets(&buffer, Int32(buffer.count), file) != nil {
        let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let value = { Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0 }
        if line.hasPrefix("VmRSS:") { rss = value() }
        if line.hasPrefix("VmHWM:") { peak = value() }
    }
    return (rss, peak)
}

func mib(_ kib: Int) -> String {
    let tenths = (kib * 10 + 512) / 1024
    return "\(tenths / 10).\(tenths % 10) MiB"
}

func memoryLine(_ label: String) {
    if let (rss, peak) = residentKiB() {
        print("\(label): VmRSS \(mib(rss)), VmHWM \(mib(peak))")
    } else {
        print("\(label): resident memory not available on this system")
    }
}

func seconds(_ duration: Duration) -> String {
    let (whole, attos) = duration.components
    let millis = whole * 1_000 + attos / 1_000_000_000_000_000
    return "\(millis / 1_000).\(String(millis % 1_000 + 1_000).dropFirst()) s"
}

let clock = ContinuousClock()
let catalogue = Catalogue.standard
memoryLine("start")

// Sized as a restore from the store sizes it: a quarter more lines than there are.
let started = clock.now
let ledger = catalogue.makeLedger(expectedLines: lineTarget + lineTarget / 4)
let catalogueBuilt = clock.now
print("catalogue: \(ledger.rowCount) rows, \(catalogue.listingCount) listings in \(seconds(catalogueBuilt - started))")
memoryLine("after catalogue")

// New lines only, generated batch by batch so that the events themselves are not resident.
var stream = SaleStream(catalogue: catalogue, seed: 42, trackLines: false)
var batch: [SaleEvent] = []
batch.reserveCapacity(1_000)
var counts = [Int](repeating: 0, count: EventResult.allCases.count)
var generating: Duration = .zero
var remaining = lineTarget
while remaining > 0 {
    let generationStart = clock.now
    batch.removeAll(keepingCapacity: true)
    for _ in 0..<min(1_000, remaining) { batch.append(stream.newLine()) }
    generating += clock.now - generationStart
    let batchCounts = applyInBatches(ledger, batch, now: 1_763_900_000)
    for index in counts.indices { counts[index] += batchCounts[index] }
    remaining -= batch.count
}
let linesBuilt = clock.now
let applying = linesBuilt - catalogueBuilt - generating
let perSecond = applying > .zero ? Int(Double(lineTarget) / (Double(applying.components.seconds) + Double(applying.components.attoseconds) / 1e18)) : 0
print("lines: \(ledger.lineCount) live (\(describeOutcomes(counts))), applied in \(seconds(applying)) (\(perSecond) events/s) plus \(seconds(generating)) generating events")
print("line table: about \(mib(ledger.lineMemoryFootprint / 1024)) allocated")
memoryLine("after lines")
print("total: \(seconds(linesBuilt - started))")
