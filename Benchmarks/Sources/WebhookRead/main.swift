// Reads and authenticates Shopify's sample order (ops/fixtures, about 15 KB) in a loop and prints
// the time per body for each step, so that the webhook path can be profiled without HTTP:
//
//   swift run -c release WebhookRead [rounds]
//   perf record -g .build/release/WebhookRead 200000
import Foundation
import StockyardChannels

let rounds = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 50_000 : 50_000
let fixture = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().appendingPathComponent("../../../ops/fixtures/shopify/orders_create.sample.json")
let body = Array(try Data(contentsOf: fixture.standardizedFileURL))
let secret = WebhookSecret("benchmark-secret")
let header = Data(secret.mac(for: body)).base64EncodedString()

func measure(_ name: String, _ step: () throws -> Int) rethrows {
    var check = 0
    for _ in 0..<min(rounds, 1_000) { check &+= try step() }
    let start = ContinuousClock.now
    for _ in 0..<rounds { check &+= try step() }
    let elapsed = ContinuousClock.now - start
    let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
    print("\(name): \(String(format: "%.2f", nanoseconds / Double(rounds) / 1000)) µs per body (\(body.count) bytes, check \(check))")
}

try body.withUnsafeBytes { bytes in
    try measure("read orders/create") {
        let delivery = try ShopifyWebhook.read(
            topic: "orders/create", body: bytes, triggeredAt: nil, webhookID: "benchmark", namespace: nil)
        return delivery.lines.count
    }
    measure("verify signature") {
        WebhookSignature.verifyShopify(header: header, body: bytes, secrets: [secret]) ? 1 : 0
    }
}
