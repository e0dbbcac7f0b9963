import CCurl
import CStockyardCurlShim

/// A blocking HTTP client over one libcurl easy handle, which keeps its connections alive
/// between requests.
///
/// Not thread-safe: use one client per thread, off Swift's cooperative pool.
public final class CurlHTTPClient {
    /// Client settings.
    public struct Configuration: Sendable {
        /// Seconds to wait for a connection.
        public var connectTimeout: Double
        /// Seconds for the whole exchange.
        public var totalTimeout: Double
        /// Verify TLS peers and host names. Only tests against local servers turn it off.
        public var verifyTLS: Bool
        public var userAgent: String

        public init(connectTimeout: Double = 5, totalTimeout: Double = 30, verifyTLS: Bool = true, userAgent: String = "stockyard") {
            self.connectTimeout = connectTimeout
            self.totalTimeout = totalTimeout
            self.verifyTLS = verifyTLS
            self.userAgent = userAgent
        }
    }

    public let configuration: Configuration
    private let handle: UnsafeMutableRawPointer

    private static let globalInit: Void = {
        _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    public init(configuration: Configuration = Configuration()) {
        _ = Self.globalInit
        self.configuration = configuration
        self.handle = curl_easy_init()
    }

    deinit {
        curl_easy_cleanup(handle)
    }

    /// Performs one request and waits for the whole response.
    public func request(
        method: String,
        url: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil
    ) throws(CurlError) -> HTTPClientResponse {
        curl_easy_reset(handle)
        let sink = ResponseSink()
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }

        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in headers {
            list = curl_slist_append(list, "\(name): \(value)")
        }
        if body != nil && !headers.contains(where: { $0.0.lowercased() == "expect" }) {
            // No 100-continue round trip for request bodies.
            list = curl_slist_append(list, "Expect:")
        }
        defer { curl_slist_free_all(list) }

        var code = CURLE_OK
        func set(_ result: CURLcode) {
            if code == CURLE_OK { code = result }
        }
        set(stockyard_curl_setopt_string(handle, CURLOPT_URL, url))
        set(stockyard_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method))
        set(stockyard_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(stockyard_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(configuration.connectTimeout * 1000)))
        set(stockyard_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(configuration.totalTimeout * 1000)))
        set(stockyard_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, configuration.verifyTLS ? 1 : 0))
        set(stockyard_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, configuration.verifyTLS ? 2 : 0))
        set(stockyard_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, ""))
        set(stockyard_curl_setopt_string(handle, CURLOPT_USERAGENT, configuration.userAgent))
        set(stockyard_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list))
        set(stockyard_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, { pointer, size, count, userdata in
            let sink = Unmanaged<ResponseSink>.fromOpaque(userdata!).takeUnretainedValue()
            let length = size * count
            if let pointer, length > 0 {
                sink.body.append(contentsOf: UnsafeRawBufferPointer(start: pointer, count: length))
            }
            return length
        }))
        set(stockyard_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, unmanaged.toOpaque()))
        set(stockyard_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, { pointer, size, count, userdata in
            let sink = Unmanaged<ResponseSink>.fromOpaque(userdata!).takeUnretainedValue()
            let length = size * count
            if let pointer, length > 0 {
                sink.header(UnsafeRawBufferPointer(start: pointer, count: length))
            }
            return length
        }))
        set(stockyard_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, unmanaged.toOpaque()))

        let result: CURLcode = body.map { bytes in
            bytes.withUnsafeBytes { buffer in
                set(stockyard_curl_setopt_postfields(handle, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, buffer.count))
                return code == CURLE_OK ? curl_easy_perform(handle) : code
            }
        } ?? (code == CURLE_OK ? curl_easy_perform(handle) : code)

        guard result == CURLE_OK else {
            let message = String(cString: curl_easy_strerror(result))
            // Failures before anything was sent leave the server untouched.
            let known = [CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL]
                .contains(result)
            throw CurlError(code: Int(result.rawValue), message: message, outcomeKnown: known)
        }
        var status = 0
        _ = stockyard_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPClientResponse(status: status, headers: sink.headers, body: sink.body)
    }

    /// A GET request.
    public func get(_ url: String, headers: [(String, String)] = []) throws(CurlError) -> HTTPClientResponse {
        try request(method: "GET", url: url, headers: headers)
    }
}

/// Collects a response while libcurl delivers it.
private final class ResponseSink {
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []

    func header(_ line: UnsafeRawBufferPointer) {
        var end = line.count
        while end > 0, line[end - 1] == 0x0A || line[end - 1] == 0x0D { end -= 1 }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: line[0..<end]), as: UTF8.self)
        if text.hasPrefix("HTTP/") {
            // A new response (after a redirect or 100 Continue): keep only the last one's headers.
            headers.removeAll()
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return }
        let name = String(text[..<colon])
        let value = text[text.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
        headers.append((name, String(value)))
    }
}
