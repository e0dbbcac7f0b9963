import Foundation
import StockyardDevServers
import StockyardOutbound
import Testing

/// Reconciliation against the sandbox: the drift report (JSON and the command's table), `--fix`.
@Suite struct ZohoReconcileTests {
    @Test func driftIsReportedAndFixed() async throws {
        let items = [
            SandboxItem(itemID: "A", sku: "A", stock: ["L1": 10, "L2": 5]),
            SandboxItem(itemID: "B", sku: "B", stock: ["L1": 7]),
            SandboxItem(itemID: "C", sku: "C", stock: ["L1": 2]),
        ]
        let sandbox = try await SandboxServer(SandboxConfiguration(items: items))
        defer { sandbox.stop() }
        try await offPool {
            let service = try ServiceProcess(redisURL: SharedRedis.url, environment: sandbox.serviceEnvironment(interval: 3600))
            let api = APIClient(baseURL: service.baseURL)
            let stock: [[String: Any]] = [
                ["item_id": "A", "location_id": "L1", "zoho_on_hand": 10],  // agrees
                ["item_id": "A", "location_id": "L2", "zoho_on_hand": 8],  // Zoho 5
                ["item_id": "B", "location_id": "L2", "zoho_on_hand": 4],  // Zoho lists B without L2: 0
                ["item_id": "D", "location_id": "L1", "zoho_on_hand": 3],  // Zoho does not know D
            ]
            #expect(try api.send("PUT", "/v1/stock", json: ["stock": stock]).status == 200)

            let report = try api.send("POST", "/v1/zoho/reconcile")
            #expect(report.status == 200, "\(report.json)")
            #expect(report.json["complete"] as? Bool == true)
            #expect(report.json["items_checked"] as? Int == 3)
            let drift = (report.json["drift"] as? [[String: Any]] ?? []).map { row -> String in
                func figure(_ key: String) -> String { (row[key] as? Int).map(String.init) ?? "none" }
                return "\(row["item_id"]!)/\(row["location_id"]!) zoho=\(figure("zoho")) ours=\(figure("ours"))"
            }
            #expect(
                drift == [
                    "A/L2 zoho=5 ours=8", "B/L1 zoho=7 ours=none", "B/L2 zoho=0 ours=4", "C/L1 zoho=2 ours=none",
                    "D/L1 zoho=none ours=3",
                ])

            // The command prints the same as a table.
            let process = Process()
            process.executableURL = ServiceProcess.executable
            process.arguments = ["reconcile", "--url", service.baseURL]
            process.environment = ["STOCKYARD_ADMIN_TOKEN": ServiceProcess.adminToken]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            let table = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(table.contains("item  location  zoho  ours  difference  in flight"), "\(table)")
            #expect(table.contains("A     L2           5     8          -3          0"), "\(table)")
            #expect(table.contains("3 items checked (all Zoho's items), 5 rows differ, 0 fixed"), "\(table)")

            let fixed = try api.send("POST", "/v1/zoho/reconcile?fix=true")
            #expect(fixed.json["fixed"] as? Int == 4, "D has no Zoho figure to take")
            let after = try api.send("POST", "/v1/zoho/reconcile")
            let left = after.json["drift"] as? [[String: Any]] ?? []
            #expect(left.count == 1)
            #expect(left.first?["item_id"] as? String == "D")
            let a = try api.send("GET", "/v1/stock/A").json["locations"] as? [[String: Any]] ?? []
            #expect(a.first { $0["location_id"] as? String == "L2" }?["zoho_on_hand"] as? Int == 5)

            #expect(try api.send("GET", "/v1/zoho/reconcile").json["items_checked"] as? Int == 3)
            #expect(try api.send("POST", "/v1/zoho/reconcile?fix=maybe").errorField == "fix")
        }
    }

    @Test func zohoFailingEveryReadEndsIn502AfterAFewRetries() async throws {
        let sandbox = try await SandboxServer(SandboxConfiguration(items: [SandboxItem(itemID: "A", sku: "A", stock: ["L1": 1])]))
        defer { sandbox.stop() }
        try await offPool {
            let service = try ServiceProcess(redisURL: SharedRedis.url, environment: sandbox.serviceEnvironment(interval: 3600))
            let api = APIClient(baseURL: service.baseURL)
            try sandbox.setFaults(["server_error_rate": 1.0])
            let before = try sandbox.stats()["calls"] as? Int ?? 0
            let reply = try api.send("POST", "/v1/zoho/reconcile")
            #expect(reply.status == 502)
            #expect(reply.errorCode == "zoho_server_error")
            // The first read and three retries.
            #expect((try sandbox.stats()["calls"] as? Int ?? 0) - before == 4)
        }
    }

    @Test func withoutZohoTheRouteSaysSo() async throws {
        try await offPool {
            let service = try ServiceProcess(redisURL: SharedRedis.url)
            let reply = try APIClient(baseURL: service.baseURL).send("POST", "/v1/zoho/reconcile")
            #expect(reply.status == 409)
            #expect(reply.errorCode == "zoho_sync_off")
            let ready = try APIClient(baseURL: service.baseURL).send("GET", "/readyz").json["zoho"] as? [String: Any]
            #expect(ready?["sync"] as? String == "off")
        }
    }
}
