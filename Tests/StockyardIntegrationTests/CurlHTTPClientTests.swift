import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StockyardOutbound
import Testing

/// The libcurl client against a real HTTP server on loopback.
@Suite struct CurlHTTPClientTests {
    /// Runs a small server for the duration of `body`, handing it the server's base URL.
    private func withServer(_ body: @escaping @Sendable (String) async throws -> Void) async throws {
        let router = Router()
        router.get("/hello") { request, _ -> Response in
            let agent = request.headers[.userAgent] ?? ""
            return Response(
                status: .ok, headers: [.contentType: "text/plain", HTTPField.Name("X-Seen-Agent")!: agent],
                body: .init(byteBuffer: ByteBuffer(string: "hello, stock")))
        }
        router.post("/echo") { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 1 << 20)
            return Response(status: .created, body: .init(byteBuffer: bytes))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress!.port!) }
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            var iterator = ports.makeAsyncIterator()
            let port = await iterator.next()!
            try await body("http://127.0.0.1:\(port)")
            group.cancelAll()
        }
    }

    @Test func getOverLoopback() async throws {
        try await withServer { base in
            let response = try await offPool {
                try CurlHTTPClient(configuration: .init(userAgent: "stockyard-test")).get("\(base)/hello")
            }
            #expect(response.status == 200)
            #expect(response.text == "hello, stock")
            #expect(response.header("content-type") == "text/plain")
            #expect(response.header("X-SEEN-AGENT") == "stockyard-test")
        }
    }

    @Test func postBodyAndReuseConnection() async throws {
        try await withServer { base in
            let responses = try await offPool {
                let client = CurlHTTPClient()
                let payload = Array("{\"quantity\":3,\"note\":\"ünïcode\"}".utf8)
                let first = try client.request(method: "POST", url: "\(base)/echo", headers: [("Content-Type", "application/json")], body: payload)
                let second = try client.get("\(base)/hello")
                return (first, second, payload)
            }
            #expect(responses.0.status == 201)
            #expect(responses.0.body == responses.2)
            #expect(responses.1.status == 200)
        }
    }

    @Test func missingRouteIs404() async throws {
        try await withServer { base in
            let response = try await offPool { try CurlHTTPClient().get("\(base)/nowhere") }
            #expect(response.status == 404)
        }
    }

    @Test func refusedConnectionIsAKnownOutcome() async throws {
        let port = freePort()
        let error = try await offPool { () -> CurlError? in
            do {
                _ = try CurlHTTPClient(configuration: .init(connectTimeout: 1, totalTimeout: 2)).get("http://127.0.0.1:\(port)/")
                return nil
            } catch let error as CurlError {
                return error
            } catch {
                return nil
            }
        }
        let failure = try #require(error)
        #expect(failure.outcomeKnown)
    }
}
