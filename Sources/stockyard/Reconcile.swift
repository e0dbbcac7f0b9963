import ArgumentParser
import Foundation
import StockyardOutbound

/// Asks the running service to compare Zoho's stock with its own and prints the drift.
struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare Zoho's stock on hand with the service's, per item × location; --fix sets ours from Zoho.",
        discussion: """
            The running service does the work (with its Zoho token and within its call budget): this \
            command calls POST /v1/zoho/reconcile and prints the report. Rows with a batch in flight \
            are reported but never fixed. The admin token comes from STOCKYARD_ADMIN_TOKEN or \
            STOCKYARD_ADMIN_TOKEN_FILE.
            """
    )

    @Option(help: "The service's URL.")
    var url = "http://127.0.0.1:8080"

    @Flag(help: "Set zoho_on_hand from Zoho where they differ.")
    var fix = false

    @Option(help: "Pages of 200 Zoho items to read at most (default: the service's setting).")
    var maxPages: Int?

    @Option(help: "Output: table or json.")
    var format = "table"

    func run() async throws {
        let reader = SettingReader(environment: ProcessInfo.processInfo.environment)
        let token: String
        do {
            guard let value = try reader.secret(nil, "STOCKYARD_ADMIN_TOKEN") else {
                throw SettingError(message: "STOCKYARD_ADMIN_TOKEN (or STOCKYARD_ADMIN_TOKEN_FILE) is required")
            }
            token = value
        } catch let error as SettingError {
            FileHandle.standardError.write(Data("stockyard: configuration error: \(error.message)\n".utf8))
            throw ExitCode(78)
        }
        guard format == "table" || format == "json" else {
            throw ValidationError("--format must be table or json")
        }
        var target = url.hasSuffix("/") ? String(url.dropLast()) : url
        target += "/v1/zoho/reconcile?fix=\(fix)"
        if let maxPages { target += "&max_pages=\(maxPages)" }
        let client = CurlHTTPClient(configuration: .init(connectTimeout: 5, totalTimeout: 3600))
        let response = try client.request(method: "POST", url: target, headers: [("Authorization", "Bearer \(token)")])
        guard response.status == 200 else {
            FileHandle.standardError.write(Data("stockyard: reconciliation failed (HTTP \(response.status)): \(String(decoding: response.body, as: UTF8.self))\n".utf8))
            throw ExitCode(1)
        }
        if format == "json" {
            print(String(decoding: response.body, as: UTF8.self))
            return
        }
        guard let report = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
            throw ExitCode(1)
        }
        print(Self.table(report))
    }

    /// A readable table of the drift rows, with a summary line.
    static func table(_ report: [String: Any]) -> String {
        let rows = report["drift"] as? [[String: Any]] ?? []
        let header = ["item", "location", "zoho", "ours", "difference", "in flight"]
        let cells = rows.map { row -> [String] in
            func text(_ key: String) -> String {
                switch row[key] {
                case let number as NSNumber: number.stringValue
                case let string as String: string
                default: "-"
                }
            }
            return [text("item_id"), text("location_id"), text("zoho"), text("ours"), text("difference"), text("in_flight")]
        }
        var widths = header.map(\.count)
        for row in cells {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ row: [String]) -> String {
            row.enumerated().map { index, cell in
                index < 2 ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[index] - cell.count) + cell
            }.joined(separator: "  ")
        }
        var lines = [line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        lines += cells.map(line)
        let complete = (report["complete"] as? Bool) == true ? "all" : "the first pages of"
        lines.append("")
        lines.append(
            "\(report["items_checked"] ?? 0) items checked (\(complete) Zoho's items), \(rows.count) rows differ, \(report["fixed"] ?? 0) fixed")
        return lines.joined(separator: "\n")
    }
}
