import StockyardChannels
import Testing

/// The pull reader's checks that every reader relies on: UTF-8 in every string, a field read
/// once per object, and whole numbers decided from their digits.
@Suite struct JSONScannerTests {
    /// Reads `{"id": <string>, "skipped": <string>}`, the first read, the second skipped.
    private func read(_ bytes: [UInt8]) throws -> String? {
        try bytes.withUnsafeBytes { (body) throws(PayloadError) -> String? in
            var scanner = JSONScanner(body)
            var id: String?
            try scanner.fields { (scanner, key) throws(PayloadError) in
                if key.is("id") { id = try scanner.string() }
            }
            try scanner.finish()
            return id
        }
    }

    private func error(_ bytes: [UInt8]) -> PayloadError? {
        do {
            _ = try read(bytes)
            return nil
        } catch {
            return error as? PayloadError
        }
    }

    @Test func bytesThatAreNotUTF8AreRefusedWherePutNamingTheField() throws {
        let invalid: [[UInt8]] = [
            [0xFF], [0xFE], [0x80], [0xC3, 0x28], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
            [0xF0, 0x9F, 0x98], [0xE2, 0x82],
        ]
        // At every offset within a word, in a string read and in one skipped, with and without escapes.
        for sequence in invalid {
            for offset in 0..<17 {
                let pad = Array(repeating: UInt8(ascii: "p"), count: offset)
                for (field, escape) in [("id", []), ("skipped", []), ("id", Array("\\n".utf8)), ("skipped", Array("\\n".utf8))] as [(String, [UInt8])] {
                    let body = Array("{\"\(field)\":\"".utf8) + escape + pad + sequence + pad + Array("\"}".utf8)
                    let refusal = error(body)
                    #expect(refusal?.code == .invalidJSON, "\(sequence) at \(offset) in \(field)")
                    #expect(refusal?.field == field, "\(sequence) at \(offset) in \(field)")
                }
            }
        }
        // In a field name: refused, naming the object.
        #expect(error(Array("{\"i".utf8) + [0xFF] + Array("d\":\"x\"}".utf8))?.code == .invalidJSON)
        // Text that is UTF-8 reads as it is, byte for byte.
        for text in ["é", "€", "😀", "\u{FFFF}", "a\u{10FFFF}b", String(repeating: "ü", count: 20)] {
            #expect(try read(Array("{\"id\":\"\(text)\",\"skipped\":\"\(text)\"}".utf8)) == text)
            #expect(try read(Array("{\"id\":\"\\t\(text)\"}".utf8)) == "\t" + text)
        }
    }

    @Test func aFieldReadTwiceInOneObjectIsRefused() throws {
        let twice = error(Array(#"{"id":"a","skipped":1,"id":"b"}"#.utf8))
        #expect(twice?.field == "id")
        #expect(twice?.message.contains("more than once") == true)
        // An escaped spelling of the same name is the same name.
        #expect(error(Array(#"{"id":"a","\u0069d":"b"}"#.utf8))?.field == "id")
        // Fields not read may repeat; the same name in another object is another field.
        #expect(try read(Array(#"{"skipped":1,"skipped":2,"id":"a","x":{"id":1},"y":[{"id":2},{"id":3}]}"#.utf8)) == "a")
    }

    @Test func wholeNumbersAreDecidedFromTheirDigits() {
        func whole(_ text: String) -> Bool? {
            Array(text.utf8).withUnsafeBytes { JSONScanner.isWholeNumber($0) }
        }
        for text in ["0", "-0", "7", "12", "2.0", "2.000", "1e2", "1.5e1", "1.25e2", "0e-5", "0.0e-400", "10e-1", "-3E+2", "1e400"] {
            #expect(whole(text) == true, "\(text)")
        }
        for text in ["0.5", "0.99999999999999999999", "1e-400", "1.5", "1.05e1", "15e-1", "-0.1", "9.99999999999999999999"] {
            #expect(whole(text) == false, "\(text)")
        }
        for text in ["", "-", "01", "1.", ".5", "1e", "1e+", "1.2.3", "1-2", "+1", "0x10"] {
            #expect(whole(text) == nil, "\(text)")
        }
    }

    @Test func checkingADocumentRefusesWhatADecoderWouldSettleItsOwnWay() {
        func check(_ text: String) -> PayloadError? {
            Array(text.utf8).withUnsafeBytes { (body) -> PayloadError? in
                var scanner = JSONScanner(body)
                do {
                    try scanner.checkDocument()
                    return nil
                } catch {
                    return error as? PayloadError
                }
            }
        }
        #expect(check(#"{"events":[{"quantity":1,"version":2.5,"note":"é","n":null,"t":true}]}"#) == nil)
        #expect(check(#"{"events":[{"quantity":1,"quantity":2}]}"#)?.field == "events[0].quantity")
        #expect(check(#"{"events":[{"quantity":0.99999999999999999999}]}"#)?.field == "events[0].quantity")
        #expect(check(#"{"events":[{"version":1e-400}]}"#)?.field == "events[0].version")
        #expect(check(#"{"a":1.2.3}"#)?.code == .invalidJSON)
        #expect(check("\u{FEFF}{}")?.code == .invalidJSON)
        #expect(check(#"{"a":1} x"#)?.code == .invalidJSON)
    }
}
