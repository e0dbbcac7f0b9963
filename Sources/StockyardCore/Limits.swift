/// Bounds on input that the ledger accepts.
public enum Limits {
    /// Longest id (listing, order, line, item, location) in UTF-8 bytes.
    public static let maxIDLength = 200
    /// Largest quantity one order line may hold.
    public static let maxLineQuantity: Int64 = 1_000_000
    /// Largest absolute stock figure.
    public static let maxStock: Int64 = 1_000_000_000_000

    /// Checks an id: non-empty, bounded, no control characters (they separate key parts).
    @inline(__always)
    public static func validateID(_ value: String, field: String) -> ValidationProblem? {
        let clean = value.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard !bytes.isEmpty, bytes.count <= maxIDLength else { return false }
            for byte in bytes where byte < 0x20 || byte == 0x7F { return false }
            return true
        }
        if clean == true { return nil }
        return describeProblem(value, field: field)
    }

    static func describeProblem(_ value: String, field: String) -> ValidationProblem? {
        if value.isEmpty {
            return ValidationProblem(field: field, message: "\(field) must not be empty")
        }
        if value.utf8.count > maxIDLength {
            return ValidationProblem(field: field, message: "\(field) is longer than \(maxIDLength) bytes")
        }
        for byte in value.utf8 where byte < 0x20 || byte == 0x7F {
            return ValidationProblem(field: field, message: "\(field) contains a control character")
        }
        return nil
    }
}

extension SaleEvent {
    /// Field-level checks that need no ledger state.
    ///
    /// - Parameter allowingReleases: accept a negative quantity, a line that gives units back
    ///   (a channel's restocking refund). Sale events from callers never may.
    public func validate(allowingReleases: Bool = false) -> ValidationProblem? {
        if let problem = Limits.validateID(listingID, field: "listing_id") { return problem }
        if let problem = Limits.validateID(orderID, field: "order_id") { return problem }
        if let problem = Limits.validateID(lineID, field: "line_id") { return problem }
        if quantity < 0 && !allowingReleases {
            return ValidationProblem(field: "quantity", message: "quantity must not be negative")
        }
        if quantity < -Limits.maxLineQuantity {
            return ValidationProblem(field: "quantity", message: "quantity is below -\(Limits.maxLineQuantity)")
        }
        if quantity > Limits.maxLineQuantity {
            return ValidationProblem(field: "quantity", message: "quantity exceeds \(Limits.maxLineQuantity)")
        }
        if version < 0 {
            return ValidationProblem(field: "version", message: "version must not be negative")
        }
        if let locationID, let problem = Limits.validateID(locationID, field: "location_id") { return problem }
        return nil
    }
}
