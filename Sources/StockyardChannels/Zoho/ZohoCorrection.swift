import Foundation
import StockyardCore

/// A stock correction Zoho sends through a workflow webhook, in one of two shapes:
///
/// - an item's absolute stock per location, as Zoho's item record carries it:
///   `{"item": {"item_id", "locations": [{"location_id", "location_stock_on_hand"}]}}`
///   (`warehouses` / `warehouse_id` / `warehouse_stock_on_hand` for older organizations);
/// - an inventory adjustment made in Zoho, as Zoho's adjustment record carries it:
///   `{"inventory_adjustment": {"inventory_adjustment_id", "reference_number", "line_items":
///   [{"item_id", "location_id", "quantity_adjusted"}]}}`.
///
/// Ids may come as strings or numbers; quantities as numbers or numeric strings, whole units.
public enum ZohoCorrection: Sendable {
    /// Zoho's stock on hand per location: sets `zoho_on_hand`. `modifiedAt` is the record's
    /// `last_modified_time` (microseconds since 1970), when it has one: a correction no newer
    /// than the last applied to a row is not applied again.
    case absolute(itemID: String, locations: [(locationID: String, onHand: Int64)], modifiedAt: Int64?)
    /// A change made in Zoho: moves `zoho_on_hand`.
    case delta(adjustmentID: String, reference: String?, lines: [(itemID: String, locationID: String, quantity: Int64)])
    /// One of our own adjustments coming back: nothing to do.
    case echo(adjustmentID: String, reference: String)

    /// Reads a correction body. `ownPrefix` is the start of our adjustments' `reference_number`
    /// (e.g. `SY-`): an adjustment carrying it is an echo.
    public static func read(body: UnsafeRawBufferPointer, ownPrefix: String) throws(PayloadError) -> ZohoCorrection {
        // Checked whole first, as every body that moves stock is: JSONSerialization would repair
        // bytes that are not UTF-8, keep one of two fields of a name, and round numbers.
        var scanner = JSONScanner(body)
        try scanner.checkDocument()
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw PayloadError(field: nil, code: .invalidJSON, message: "the body must be a JSON object")
            }
            object = parsed
        } catch let error as PayloadError {
            throw error
        } catch {
            throw PayloadError(field: nil, code: .invalidJSON, message: "the body is not valid JSON")
        }
        if let adjustment = object["inventory_adjustment"] {
            guard let record = adjustment as? [String: Any] else {
                throw PayloadError(field: "inventory_adjustment", message: "inventory_adjustment must be an object")
            }
            return try readAdjustment(record, path: "inventory_adjustment.", ownPrefix: ownPrefix)
        }
        if object["inventory_adjustment_id"] != nil {
            return try readAdjustment(object, path: "", ownPrefix: ownPrefix)
        }
        if let item = object["item"] {
            guard let record = item as? [String: Any] else { throw PayloadError(field: "item", message: "item must be an object") }
            return try readItem(record, path: "item.")
        }
        if object["item_id"] != nil {
            return try readItem(object, path: "")
        }
        throw PayloadError(field: "item", message: "expected an item with per-location stock, or an inventory_adjustment")
    }

    private static func readAdjustment(_ record: [String: Any], path: String, ownPrefix: String) throws(PayloadError) -> ZohoCorrection {
        let id = try requiredID(record, "inventory_adjustment_id", path: path)
        var reference: String?
        if let value = record["reference_number"], !(value is NSNull) {
            guard let text = value as? String else {
                throw PayloadError(field: path + "reference_number", message: "reference_number must be a string")
            }
            reference = text
        }
        if let reference, reference.hasPrefix(ownPrefix) {
            return .echo(adjustmentID: id, reference: reference)
        }
        if let type = record["adjustment_type"] as? String, type != "quantity" {
            throw PayloadError(field: path + "adjustment_type", message: "only quantity adjustments move stock (got '\(type)')")
        }
        guard let items = record["line_items"] as? [Any], !items.isEmpty else {
            throw PayloadError(field: path + "line_items", message: "line_items must be a non-empty array")
        }
        let defaultLocation = try optionalID(record, ["location_id", "warehouse_id"], path: path)
        var lines: [(String, String, Int64)] = []
        for (index, value) in items.enumerated() {
            let linePath = "\(path)line_items[\(index)]."
            guard let line = value as? [String: Any] else {
                throw PayloadError(field: "\(path)line_items[\(index)]", message: "each line must be an object")
            }
            let item = try requiredID(line, "item_id", path: linePath)
            guard let location = try optionalID(line, ["location_id", "warehouse_id"], path: linePath) ?? defaultLocation else {
                throw PayloadError(field: linePath + "location_id", message: "location_id is required (on the line or the adjustment)")
            }
            let quantity = try wholeNumber(line["quantity_adjusted"], field: linePath + "quantity_adjusted")
            lines.append((item, location, quantity))
        }
        return .delta(adjustmentID: id, reference: reference, lines: lines)
    }

    private static func readItem(_ record: [String: Any], path: String) throws(PayloadError) -> ZohoCorrection {
        let item = try requiredID(record, "item_id", path: path)
        let key = record["locations"] != nil ? "locations" : "warehouses"
        guard let list = record[key] as? [Any], !list.isEmpty else {
            throw PayloadError(field: path + "locations", message: "locations must be a non-empty array of per-location stock")
        }
        var locations: [(String, Int64)] = []
        for (index, value) in list.enumerated() {
            let entryPath = "\(path)\(key)[\(index)]."
            guard let entry = value as? [String: Any] else {
                throw PayloadError(field: "\(path)\(key)[\(index)]", message: "each location must be an object")
            }
            guard let location = try optionalID(entry, ["location_id", "warehouse_id"], path: entryPath) else {
                throw PayloadError(field: entryPath + "location_id", message: "location_id is required")
            }
            let field = ["location_stock_on_hand", "warehouse_stock_on_hand", "stock_on_hand"].first { entry[$0] != nil }
            guard let field else {
                throw PayloadError(field: entryPath + "location_stock_on_hand", message: "location_stock_on_hand is required")
            }
            locations.append((location, try wholeNumber(entry[field], field: entryPath + field)))
        }
        var modifiedAt: Int64?
        if let value = record["last_modified_time"], !(value is NSNull) {
            guard let text = value as? String, let micros = zohoTime(text) else {
                throw PayloadError(
                    field: path + "last_modified_time",
                    message: "last_modified_time must be a time such as 2025-03-01T10:00:00+0530")
            }
            modifiedAt = micros
        }
        return .absolute(itemID: item, locations: locations, modifiedAt: modifiedAt)
    }

    /// A Zoho time (`2025-03-01T10:00:00+0530`, its offset without a colon) or an RFC 3339 one,
    /// as microseconds since 1970.
    static func zohoTime(_ text: String) -> Int64? {
        if let micros = SourceVersion.parseTimestamp(text) { return micros }
        var bytes = Array(text.utf8)
        guard bytes.count >= 5, bytes[bytes.count - 5] == UInt8(ascii: "+") || bytes[bytes.count - 5] == UInt8(ascii: "-") else {
            return nil
        }
        bytes.insert(UInt8(ascii: ":"), at: bytes.count - 2)
        return SourceVersion.parseTimestamp(String(decoding: bytes, as: UTF8.self))
    }

    private static func id(_ value: Any?) -> String? {
        switch value {
        case let text as String: return text.isEmpty ? nil : text
        case let number as NSNumber where String(cString: number.objCType) != "c":
            // Ids above 2^53 only survive as integers, never through a Double.
            let text = number.stringValue
            return text.allSatisfy(\.isNumber) ? text : nil
        default: return nil
        }
    }

    private static func requiredID(_ record: [String: Any], _ name: String, path: String) throws(PayloadError) -> String {
        guard let value = id(record[name]) else {
            throw PayloadError(field: path + name, message: "\(name) is required (a string or a whole number)")
        }
        return try checked(value, field: path + name)
    }

    /// An id as the ledger takes it (1–200 bytes, no control characters), refused here, where
    /// its field can be named and the body kept as a dead letter.
    private static func checked(_ value: String, field: String) throws(PayloadError) -> String {
        if let problem = Limits.validateID(value, field: field) {
            throw PayloadError(field: field, message: problem.message)
        }
        return value
    }

    private static func optionalID(_ record: [String: Any], _ names: [String], path: String) throws(PayloadError) -> String? {
        for name in names where record[name] != nil && !(record[name] is NSNull) {
            guard let value = id(record[name]) else {
                throw PayloadError(field: path + name, message: "\(name) must be a string or a whole number")
            }
            return try checked(value, field: path + name)
        }
        return nil
    }

    private static func wholeNumber(_ value: Any?, field: String) throws(PayloadError) -> Int64 {
        var number: Double?
        switch value {
        case let text as String:
            // Whole by its digits, not by a double: "0.99999999999999999999" is not 1.
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            let whole = Array(trimmed.utf8).withUnsafeBytes { JSONScanner.isWholeNumber($0) }
            number = whole == true ? Double(trimmed) : nil
        case let value as NSNumber where String(cString: value.objCType) != "c": number = value.doubleValue
        default: number = nil
        }
        guard let number, number.isFinite, number == number.rounded(), abs(number) <= 1e12 else {
            throw PayloadError(field: field, message: "\(field.split(separator: ".").last ?? "") must be a whole number of units")
        }
        return Int64(number)
    }
}
