import Foundation

extension CurlHTTPClient {
    /// Performs a request for an API client: a failed exchange becomes an `OutboundError`
    /// (`network`, its outcome unknown when a request that changes something may have been
    /// sent); any answer, whatever its status, is returned.
    public func exchange(
        _ method: String, _ url: String, headers: [(String, String)], body: [UInt8]? = nil
    ) throws(OutboundError) -> HTTPClientResponse {
        do {
            return try request(method: method, url: url, headers: headers, body: body)
        } catch {
            throw OutboundError.network(error, idempotent: Self.isIdempotent(method))
        }
    }

    /// GET, HEAD, PUT and DELETE change nothing when repeated; POST and PATCH may.
    public static func isIdempotent(_ method: String) -> Bool {
        ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"].contains(method.uppercased())
    }
}

extension HTTPClientResponse {
    /// Seconds the vendor asked us to wait: `Retry-After` (seconds or an HTTP date), else
    /// `X-Rate-Limit-Reset` (seconds until the window resets, or the reset time itself).
    public func retryAfter(now: Date = Date()) -> Double? {
        if let value = header("Retry-After"), let seconds = RetryAfter.seconds(value, now: now) { return seconds }
        if let reset = header("X-Rate-Limit-Reset").flatMap(Double.init) {
            return reset > 1_000_000_000 ? max(0, reset - now.timeIntervalSince1970) : reset
        }
        return nil
    }
}
