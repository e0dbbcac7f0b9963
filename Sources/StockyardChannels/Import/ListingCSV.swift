import StockyardCore

/// Reads listing maps from CSV: `channel,listing_id,item_id,locations`.
///
/// RFC 4180 quoting; a first row naming the columns is skipped; `locations` lists location ids in
/// priority order separated by `;` or `|` (or commas inside a quoted field). Blank lines are
/// ignored. Errors name the line and column.
public enum ListingCSV {
    public static let columns = ["channel", "listing_id", "item_id", "locations"]

    public static func read(_ bytes: UnsafeRawBufferPointer, maxRows: Int) throws(PayloadError) -> [ListingMap] {
        var maps: [ListingMap] = []
        var lineNumber = 0
        for record in try records(bytes) {
            lineNumber = record.line
            let fields = record.fields.map { $0.trimmingCharacters() }
            if fields.allSatisfy(\.isEmpty) { continue }
            if maps.isEmpty && fields.first?.lowercased() == "channel" { continue }
            guard fields.count == columns.count else {
                throw PayloadError(
                    field: "line \(lineNumber)",
                    message: "line \(lineNumber) has \(fields.count) columns; expected \(columns.joined(separator: ","))")
            }
            guard let channel = Channel(name: fields[0].lowercased()) else {
                throw PayloadError(field: "line \(lineNumber).channel", message: "line \(lineNumber): unknown channel '\(fields[0])'")
            }
            let locations = fields[3].split(whereSeparator: { $0 == ";" || $0 == "|" || $0 == "," })
                .map { String($0).trimmingCharacters() }.filter { !$0.isEmpty }
            let map = ListingMap(channel: channel, listingID: fields[1], target: .item(fields[2]), locations: locations)
            if let problem = map.validate() {
                throw PayloadError(
                    field: "line \(lineNumber).\(problem.field)", message: "line \(lineNumber): \(problem.message)")
            }
            maps.append(map)
            if maps.count > maxRows {
                throw PayloadError(field: "line \(lineNumber)", message: "at most \(maxRows) listings per import")
            }
        }
        guard !maps.isEmpty else { throw PayloadError(field: "body", message: "the CSV holds no listings") }
        return maps
    }

    struct Record {
        var line: Int
        var fields: [String]
    }

    /// Splits the text into records of fields, honouring quotes.
    static func records(_ bytes: UnsafeRawBufferPointer) throws(PayloadError) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var quoted = false
        var index = 0
        // A UTF-8 byte order mark, as spreadsheets write it, is not part of the first field.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        // Ids are compared byte for byte: bytes that are not UTF-8 are refused, not repaired.
        func endField() throws(PayloadError) {
            guard let text = String(validating: field, as: UTF8.self) else {
                let column = fields.count < columns.count ? columns[fields.count] : "column \(fields.count + 1)"
                throw PayloadError(
                    field: "line \(recordLine).\(column)", message: "line \(recordLine): \(column) holds bytes that are not UTF-8")
            }
            fields.append(text)
            field = []
        }
        func endRecord() throws(PayloadError) {
            try endField()
            records.append(Record(line: recordLine, fields: fields))
            fields = []
        }
        while index < bytes.count {
            let byte = bytes[index]
            if quoted {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    if byte == 0x0A { line += 1 }
                    field.append(byte)
                }
            } else {
                switch byte {
                case UInt8(ascii: "\""):
                    guard field.isEmpty else {
                        throw PayloadError(field: "line \(line)", message: "line \(line): a quote inside an unquoted field")
                    }
                    quoted = true
                case UInt8(ascii: ","):
                    try endField()
                case 0x0D:
                    break
                case 0x0A:
                    try endRecord()
                    line += 1
                    recordLine = line
                default:
                    field.append(byte)
                }
            }
            index += 1
        }
        if quoted { throw PayloadError(field: "line \(recordLine)", message: "line \(recordLine): a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty { try endRecord() }
        return records
    }
}

extension String {
    func trimmingCharacters() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" { view.removeLast() }
        return String(view)
    }
}
