import Foundation

/// A create-adjustment body that passed validation.
struct ParsedAdjustment {
    struct Line {
        var itemID: String
        var locationID: String?
        var quantity: Double
    }

    var date: String
    var reason: String
    var description: String?
    var referenceNumber: String?
    var locationID: String?
    var lines: [Line]
}

/// Checks a `POST /inventoryadjustments` body against the required fields and types of Zoho's
/// OpenAPI document (`create-an-inventory-adjustment-request`).
enum AdjustmentValidation {
    struct Problem: Error {
        var code: Int
        var message: String
    }

    /// Kinds of JSON value, as the OpenAPI document names them.
    enum Kind: String {
        case string, number, boolean, array, object
    }

    /// Optional top-level properties and their types.
    static let topLevel: [String: Kind] = [
        "date": .string, "reason": .string, "description": .string, "reference_number": .string,
        "adjustment_type": .string, "custom_fields": .array, "location_id": .string, "line_items": .array,
    ]
    static let requiredTopLevel = ["date", "reason", "adjustment_type", "line_items"]

    static let lineProperties: [String: Kind] = [
        "item_id": .string, "quantity_adjusted": .number, "name": .string, "description": .string,
        "item_total": .number, "unit": .string, "is_combo_product": .boolean, "adjustment_account_id": .string,
        "adjustment_account_name": .string, "location_id": .string, "serial_numbers": .array, "batches": .array,
        "storages": .array,
    ]
    static let requiredLine = ["item_id", "quantity_adjusted"]

    static func kind(of value: Any) -> Kind? {
        switch value {
        case is String: return .string
        case let number as NSNumber:
            // JSONSerialization gives booleans as NSNumber too; tell them apart by their type code.
            return String(cString: number.objCType) == "c" || type(of: value) == Bool.self ? .boolean : .number
        case is Bool: return .boolean
        case is [Any]: return .array
        case is [String: Any]: return .object
        default: return nil
        }
    }

    static func check(_ object: [String: Any], _ properties: [String: Kind], required: [String], path: String) -> Problem? {
        for name in required where object[name] == nil || object[name] is NSNull {
            return Problem(code: 4, message: "\(path)\(name) is required")
        }
        for (name, value) in object {
            guard let expected = properties[name], !(value is NSNull) else { continue }
            if kind(of: value) != expected {
                return Problem(code: 4, message: "Invalid value passed for \(path)\(name): expected \(expected.rawValue)")
            }
        }
        return nil
    }

    static func validate(_ body: Any?) -> Result<ParsedAdjustment, Problem> {
        guard let object = body as? [String: Any] else {
            return .failure(Problem(code: 4, message: "The request body must be a JSON object"))
        }
        if let problem = check(object, topLevel, required: requiredTopLevel, path: "") { return .failure(problem) }
        let date = object["date"] as! String
        guard isDate(date) else {
            return .failure(Problem(code: 4, message: "Invalid value passed for date: expected yyyy-MM-dd"))
        }
        guard (object["adjustment_type"] as! String) == "quantity" else {
            return .failure(Problem(code: 4, message: "Invalid value passed for adjustment_type: only quantity is allowed"))
        }
        guard let lines = object["line_items"] as? [Any], !lines.isEmpty else {
            return .failure(Problem(code: 4, message: "line_items must hold at least one line"))
        }
        var parsed: [ParsedAdjustment.Line] = []
        for (index, value) in lines.enumerated() {
            guard let line = value as? [String: Any] else {
                return .failure(Problem(code: 4, message: "Invalid value passed for line_items[\(index)]: expected object"))
            }
            if let problem = check(line, lineProperties, required: requiredLine, path: "line_items[\(index)].") {
                return .failure(problem)
            }
            let quantity = (line["quantity_adjusted"] as! NSNumber).doubleValue
            guard quantity.isFinite, quantity != 0 else {
                return .failure(Problem(code: 4, message: "Invalid value passed for line_items[\(index)].quantity_adjusted"))
            }
            parsed.append(.init(itemID: line["item_id"] as! String, locationID: line["location_id"] as? String, quantity: quantity))
        }
        return .success(
            ParsedAdjustment(
                date: date, reason: object["reason"] as! String, description: object["description"] as? String,
                referenceNumber: object["reference_number"] as? String, locationID: object["location_id"] as? String,
                lines: parsed))
    }

    static func isDate(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return false }
        let digits = bytes.enumerated().allSatisfy { index, byte in index == 4 || index == 7 || (byte >= 48 && byte <= 57) }
        guard digits, let month = Int(text.dropFirst(5).prefix(2)), let day = Int(text.suffix(2)) else { return false }
        return (1...12).contains(month) && (1...31).contains(day)
    }
}
