import NIOCore
import NIOHTTP1
import Synchronization

/// How long a caller may take and how many connections may be open, so that a few hundred cheap
/// connections (idle, or sending a byte every few seconds) cannot hold the service's descriptors.
public struct HTTPLimits: Sendable {
    /// A connection with no request under way is closed after this long: idle keep-alive
    /// connections, and request heads that do not arrive whole in time.
    public var idleTimeoutSeconds: Int
    /// A request must arrive whole (head to the end of its body) within this long, however
    /// steadily its bytes trickle in.
    public var requestTimeoutSeconds: Int
    /// Connections open at once; one more is closed as soon as it is accepted.
    public var maxConnections: Int

    public init(idleTimeoutSeconds: Int = 30, requestTimeoutSeconds: Int = 30, maxConnections: Int = 512) {
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.maxConnections = maxConnections
    }
}

/// The connections open now, shared by every connection's guard.
final class ConnectionCount: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts a new connection; false when it is one too many (it is counted all the same, and
    /// uncounted when it closes, like any other).
    func admit() -> Bool {
        open.add(1, ordering: .relaxed).newValue <= limit
    }

    func release() {
        open.subtract(1, ordering: .relaxed)
    }
}

/// Put in the pipeline by Hummingbird after its HTTP handlers; puts a `ConnectionGuard` right
/// after the HTTP/1 decoder, where the request's version can still be seen, and leaves.
final class ConnectionGuardInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let count: ConnectionCount
    private let requestTimeout: TimeAmount

    init(count: ConnectionCount, requestTimeout: TimeAmount) {
        self.count = count
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        let connectionGuard = ConnectionGuard(count: count, requestTimeout: requestTimeout)
        do {
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(connectionGuard, position: .after(decoder))
        } catch {
            // No HTTP/1 decoder: nothing to guard here.
        }
        pipeline.removeHandler(context: context, promise: nil)
    }
}

/// One connection's guard: counts it against the limit, closes a request that takes longer than
/// its time to arrive, and closes an HTTP/1.0 connection after its answer unless it asked to be
/// kept alive.
final class ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let count: ConnectionCount
    private let requestTimeout: TimeAmount
    private var counted = false
    private var deadline: Scheduled<Void>?

    init(count: ConnectionCount, requestTimeout: TimeAmount) {
        self.count = count
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        counted = true
        if !count.admit() {
            // Closed once the connection's set-up has finished, so that set-up sees no error.
            context.eventLoop.assumeIsolatedUnsafeUnchecked().execute { context.close(promise: nil) }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if counted {
            counted = false
            count.release()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(var head):
            deadline?.cancel()
            deadline = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: requestTimeout) {
                context.close(promise: nil)
            }
            if head.version.major == 1, head.version.minor == 0, !head.isKeepAlive {
                // HTTP/1.0 closes after each answer unless it says otherwise; the server closes
                // after an answer to a request that says `Connection: close`.
                head.headers.replaceOrAdd(name: "connection", value: "close")
                context.fireChannelRead(wrapInboundOut(.head(head)))
                return
            }
        case .body:
            break
        case .end:
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }
}
