import Foundation
import StockyardCore
import Testing

@testable import StockyardServer

/// The fast events reader must agree with JSONDecoder on every body it accepts, and give up on
/// anything unusual so that the decoder can name the problem.
@Suite struct EventsBodyParserTests {
    private func fast(_ text: String) -> [SaleEvent]? {
        Array(text.utf8).withUnsafeBytes { EventsBodyParser.parse($0) }
    }

    private func decoded(_ text: String) -> [SaleEvent]? {
        try? JSONDecoder().decode(EventsBody.self, from: Data(text.utf8)).events.map(\.saleEvent)
    }

    @Test func agreesWithTheDecoderOnGeneratedBodies() throws {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcXYZ019-_ /\\\"'é漢😀\u{7F}\t\n")
        func randomID() -> Any {
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: return Int64.random(in: 0...Int64.max, using: &generator)
            case 1: return String((0..<Int.random(in: 1...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            default: return "\(Int.random(in: 1...9_999_999_999, using: &generator))"
            }
        }
        for _ in 0..<300 {
            var events: [[String: Any]] = []
            for _ in 0..<Int.random(in: 0...20, using: &generator) {
                var event: [String: Any] = [
                    "channel": Channel.allCases.randomElement(using: &generator)!.name,
                    "listing_id": randomID(), "order_id": randomID(), "line_id": randomID(),
                    "quantity": Int.random(in: -3...1_000, using: &generator),
                    "version": Bool.random(using: &generator)
                        ? Int64.random(in: -5...Int64.max, using: &generator) as Any
                        : "2026-11-\(Int.random(in: 10...28, using: &generator))T10:00:0\(Int.random(in: 0...9, using: &generator)).5+02:00",
                ]
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: event["location_id"] = NSNull()
                case 1: event["location_id"] = randomID()
                default: break
                }
                if Bool.random(using: &generator) {
                    event["note"] = ["nested": [1, 2, ["x": true]], "flag": false, "nothing": NSNull(), "text": "a\"b"]
                }
                events.append(event)
            }
            let body: [String: Any] = ["events": events, "source": ["kind": "test"]]
            let text = String(decoding: try JSONSerialization.data(withJSONObject: body, options: Bool.random() ? [.prettyPrinted] : []), as: UTF8.self)
            let expected = try #require(decoded(text), "the decoder refused \(text)")
            #expect(fast(text) == expected, "\(text)")
        }
    }

    @Test func readsEscapesAndLargeIntegersExactly() {
        let text = #"""
            { "events": [ { "line_id": 1, "order_id": 18446744073709551, "channel": "shopify",
              "listing_id": "a\u0026b\"\\\/\ud83d\ude00é", "quantity": 0, "version": "2026-11-23T10:00:00Z",
              "location_id": null } ] }
            """#
        let events = fast(text)
        #expect(events == decoded(text))
        #expect(events?.first?.listingID == "a&b\"\\/😀é")
        #expect(events?.first?.orderID == "18446744073709551")
    }

    @Test(arguments: [
        #"{"events":[{"channel":"shopify","listing_id":"L","order_id":"O","line_id":"1","quantity":1.5,"version":1}]}"#,
        #"{"events":[{"channel":"shopify","listing_id":"L","order_id":"O","line_id":"1","quantity":1e2,"version":1}]}"#,
        #"{"events":[{"channel":"shopify","listing_id":"L","order_id":"O","line_id":"1","quantity":1,"quantity":2,"version":1}]}"#,
        #"{"events":[{"channel":"walmart","listing_id":"L","order_id":"O","line_id":"1","quantity":1,"version":1}]}"#,
        #"{"events":[{"channel":"shopify","listing_id":"L","order_id":"O","quantity":1,"version":1}]}"#,
        #"{"events":[{"channel":"shopify","listing_id":"L","order_id":"O","line_id":"1","quantity":1,"version":"yesterday"}]}"#,
        #"{"events":[{"channel":"shopify","listing_id":"L","order_id":"O","line_id":"1","quantity":"1","version":1}]}"#,
        #"{"events":[]} x"#,
        #"{"events":[{"channel":"shopify","listing_id":"L","order_id":"O","line_id":"1","quantity":01,"version":1}]}"#,
        #"{"events":[{"channel":"shopify","listing_id":"\ud800","order_id":"O","line_id":"1","quantity":1,"version":1}]}"#,
        #"{"other":1}"#,
        #"["events"]"#,
    ])
    func givesUpOnAnythingUnusual(_ text: String) {
        #expect(fast(text) == nil)
    }
}
