import Foundation
import StockyardOutbound

/// A storm of sale events from many connections, each request's lines its own, with
/// duplicates and reorderings inside requests and whole requests delivered twice.
///
/// Every line ends holding 1 unit: it is created holding 2 (version 1) and edited to 1
/// (version 2), the two events in random order, one of them sent twice.
final class Storm: @unchecked Sendable {
    static let linesPerRequest = 25

    enum Fate { case acknowledged, refused, unknown }

    let baseURL: String
    let listing: String
    private let lock = NSLock()
    private var fates: [Int: Fate] = [:]
    private var bodies: [Int: [UInt8]] = [:]
    private var retryAfterSeen = false
    private var stopRequested = false
    private var nextRequest = 0

    init(baseURL: String, listing: String) {
        self.baseURL = baseURL
        self.listing = listing
    }

    var acknowledgedCount: Int { lock.withLock { fates.values.filter { $0 == .acknowledged }.count } }
    var refusedCount: Int { lock.withLock { fates.values.filter { $0 == .refused }.count } }
    var sawRetryAfter: Bool { lock.withLock { retryAfterSeen } }
    func fate(_ request: Int) -> Fate? { lock.withLock { fates[request] } }
    var requests: [Int] { lock.withLock { fates.keys.sorted() } }
    func body(_ request: Int) -> [UInt8] { lock.withLock { bodies[request]! } }

    func stop() { lock.withLock { stopRequested = true } }

    /// The body of one request: its lines' events, shuffled, one duplicated.
    static func makeBody(request: Int, listing: String) -> [UInt8] {
        var events: [[String: Any]] = []
        for line in 0..<linesPerRequest {
            let order = "storm-\(request)"
            events.append(saleEvent(listing: listing, order: order, line: "\(line)", quantity: 2, version: 1))
            events.append(saleEvent(listing: listing, order: order, line: "\(line)", quantity: 1, version: 2))
        }
        events.append(events.randomElement()!)
        events.shuffle()
        return Array(try! JSONSerialization.data(withJSONObject: ["events": events]))
    }

    /// Runs `connections` threads until `stop()`, or until a thread meets a dead server.
    func run(connections: Int) -> [Thread] {
        (0..<connections).map { _ in
            let thread = Thread { [self] in self.loop() }
            thread.start()
            return thread
        }
    }

    private func loop() {
        let client = CurlHTTPClient(configuration: .init(connectTimeout: 2, totalTimeout: 20))
        let headers = [("Authorization", "Bearer \(ServiceProcess.adminToken)"), ("Content-Type", "application/json")]
        var lastAcknowledged: [UInt8]?
        while true {
            let (request, stop): (Int, Bool) = lock.withLock {
                nextRequest += 1
                return (nextRequest, stopRequested)
            }
            if stop { return }
            let body = Self.makeBody(request: request, listing: listing)
            lock.withLock {
                bodies[request] = body
                fates[request] = .unknown
            }
            do {
                let response = try client.request(method: "POST", url: "\(baseURL)/v1/events", headers: headers, body: body)
                lock.withLock {
                    if response.status == 200 {
                        fates[request] = .acknowledged
                    } else if response.status == 503 {
                        fates[request] = .refused
                        if response.header("Retry-After") != nil { retryAfterSeen = true }
                    }
                }
                if response.status == 200 {
                    // Deliver an acknowledged request again now and then, as channels do.
                    if let previous = lastAcknowledged, Bool.random() {
                        _ = try? client.request(method: "POST", url: "\(baseURL)/v1/events", headers: headers, body: previous)
                    }
                    lastAcknowledged = body
                }
            } catch {
                // No complete answer: the outcome is unknown. A refused connection means the
                // server is gone; keep trying until told to stop.
                usleep(10_000)
            }
        }
    }

    /// Checks, after the fact, that every acknowledged request is stored and every other one is
    /// stored whole or not at all; then delivers everything again. Returns the number of requests
    /// that were stored at the time of the check.
    func verify(api: APIClient, item: String, location: String, onHand: Int) throws -> Int {
        let storedBefore = try api.available(item, location)
        var stored = 0
        for request in requests {
            let reply = try api.send("POST", "/v1/events", body: body(request))
            guard reply.status == 200 else { throw TestFailure("replay of request \(request) answered \(reply.status)") }
            let results = reply.results
            let applied = results.filter { $0 == "applied" }.count
            switch fate(request)! {
            case .acknowledged:
                if applied != 0 {
                    throw TestFailure("acknowledged request \(request) was not stored: \(applied) events applied on replay")
                }
                stored += 1
            case .refused, .unknown:
                if applied == 0 {
                    stored += 1
                } else {
                    // Not stored: then every line must have been missing.
                    let json = try JSONSerialization.jsonObject(with: Data(body(request))) as! [String: Any]
                    let events = json["events"] as! [[String: Any]]
                    var appliedLines = Set<String>()
                    for (event, result) in zip(events, results) where result == "applied" {
                        appliedLines.insert(event["line_id"] as! String)
                    }
                    if appliedLines.count != Self.linesPerRequest {
                        throw TestFailure("request \(request) was half stored: \(appliedLines.count) of \(Self.linesPerRequest) lines missing")
                    }
                }
            }
        }
        if storedBefore != onHand - stored * Self.linesPerRequest {
            throw TestFailure("stock before replay was \(String(describing: storedBefore)), expected \(onHand - stored * Self.linesPerRequest) for \(stored) stored requests")
        }
        let after = try api.available(item, location)
        if after != onHand - requests.count * Self.linesPerRequest {
            throw TestFailure("stock after replay was \(String(describing: after)), expected \(onHand - requests.count * Self.linesPerRequest)")
        }
        return stored
    }
}
