import Foundation

/// The orders or receipts of a `POST /sandbox/…` body: one JSON object, or an array of them.
/// Each keeps its exact bytes, so a look-up answers it as it was given.
struct StoreBatch {
    /// Why a body is refused.
    enum Problem: Error {
        case notJSON
        /// Not an object or an array of objects.
        case notObjects
        /// The object (at `index` in an array) lacks a usable id.
        case missingID(index: Int?)

        func message(field: String, expected: String) -> String {
            switch self {
            case .notJSON: "the body must be JSON: an object or an array of objects"
            case .notObjects: "the body must be an object or an array of objects"
            case .missingID(nil): "\(field) must be \(expected)"
            case .missingID(let index?): "[\(index)].\(field) must be \(expected)"
            }
        }
    }

    var items: [(id: String, body: [UInt8])]
    var isArray: Bool

    /// Reads the body; `id` gives an object's id, or nil when it has none.
    init(_ bytes: [UInt8], id: ([String: Any]) -> String?) throws(Problem) {
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes)) else { throw .notJSON }
        if let object = json as? [String: Any] {
            guard let key = id(object) else { throw .missingID(index: nil) }
            isArray = false
            items = [(key, bytes)]
            return
        }
        guard let array = json as? [Any] else { throw .notObjects }
        let ranges = JSONText.arrayElements(bytes)
        guard ranges.count == array.count else { throw .notObjects }
        isArray = true
        items = []
        items.reserveCapacity(array.count)
        for (index, element) in array.enumerated() {
            guard let object = element as? [String: Any] else { throw .notObjects }
            guard let key = id(object) else { throw .missingID(index: index) }
            items.append((key, Array(bytes[ranges[index]])))
        }
    }

    /// `{"notification": …}` for one object, `{"notifications": […]}` for an array.
    func answer(_ notifications: [SignedNotification]) -> MarketplaceAnswer {
        var out = Array((isArray ? "{\"notifications\":[" : "{\"notification\":").utf8)
        out.reserveCapacity(notifications.count * 512)
        for (index, notification) in notifications.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            notification.write(to: &out)
        }
        out += Array((isArray ? "]}" : "}").utf8)
        return MarketplaceAnswer(status: 200, body: out)
    }
}
