import Foundation
import StockyardCore
import StockyardEngine
import Testing

@testable import StockyardServer

/// The response writer's strings: plain ones are copied whole, others escaped; either way a
/// JSON reader must get back the same text.
@Suite struct JSONWriterTests {
    @Test func stringsReadBackAsWritten() throws {
        let samples = [
            "", "plain", "order-820982911946154508", "é ü 日本 🎉", "a\"b", "back\\slash", "line\nbreak\r\ttab",
            "\u{01}\u{1F}", "\u{7F}", String(repeating: "x", count: 300) + "\"",
        ]
        for sample in samples {
            var writer = JSONWriter()
            writer.raw("[")
            writer.string(sample)
            writer.raw("]")
            let decoded = try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String]
            #expect(decoded == [sample], "\(sample.debugDescription)")
        }
    }

    @Test func countsNameEveryResult() throws {
        var counts = ResultCounts()
        counts[.applied] += 2
        counts[.stale] += 1
        var writer = JSONWriter()
        writeCounts(counts, into: &writer)
        let decoded = try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String: Int]
        #expect(decoded == ["applied": 2, "duplicate": 0, "stale": 1, "conflict": 0, "unmapped": 0, "invalid": 0])
    }
}
