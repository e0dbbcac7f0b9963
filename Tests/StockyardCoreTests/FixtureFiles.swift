import Foundation

/// Vendor payloads under `Tests/Fixtures`, read as raw bytes.
enum FixtureFiles {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func bytes(_ path: String) -> [UInt8] {
        Array(FileManager.default.contents(atPath: directory.appendingPathComponent(path).path) ?? Data())
    }

    static func text(_ path: String) -> String {
        String(decoding: bytes(path), as: UTF8.self)
    }

    static var shopifyOrder: String { text("shopify/orders_create.sample.json") }
    static var amazonOrderChange: String { text("amazon/OrderChangeNotification.example.json") }
}

extension String {
    /// The text with the first occurrence of `target` replaced; fails loudly if it is absent.
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { fatalError("fixture text has no \(target)") }
        return replacingCharacters(in: range, with: replacement)
    }
}
