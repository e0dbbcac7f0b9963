import Foundation

/// Reads values `JSONSerialization` produced, telling booleans and numbers apart.
enum JSONValue {
    static func isBoolean(_ value: Any) -> Bool {
        if type(of: value) == Bool.self { return true }
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    static func boolean(_ value: Any) -> Bool? {
        isBoolean(value) ? (value as? Bool) : nil
    }

    static func number(_ value: Any) -> Double? {
        guard !isBoolean(value), let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        return double.isFinite ? double : nil
    }

    /// A whole number that fits 64 bits (`12` or `12.0`, not `12.5`, `"12"` or `true`).
    static func wholeNumber(_ value: Any) -> Int64? {
        guard !isBoolean(value), let number = value as? NSNumber else { return nil }
        let integer = number.int64Value
        if number.stringValue == String(integer) { return integer }
        let double = number.doubleValue
        guard double.isFinite, double == double.rounded(), abs(double) < 9.0e15 else { return nil }
        return Int64(double)
    }
}
