import Crypto
import Foundation

/// HMAC-SHA256 signatures over raw webhook bodies, checked in constant time.
///
/// The key's inner and outer pads (RFC 2104) are hashed once, when the secret is made; each
/// check then hashes only the body and the inner digest.
public struct WebhookSecret: Sendable {
    fileprivate let bytes: [UInt8]
    /// SHA-256 after the key XOR the inner pad (0x36) and the outer pad (0x5C).
    private let inner: SHA256
    private let outer: SHA256

    public init(_ text: String) {
        self.init(bytes: Array(text.utf8))
    }

    public init(bytes: [UInt8]) {
        self.bytes = bytes
        var key = bytes.count > SHA256.blockByteCount ? Array(SHA256.hash(data: bytes)) : bytes
        key += [UInt8](repeating: 0, count: SHA256.blockByteCount - key.count)
        var inner = SHA256()
        inner.update(data: key.map { $0 ^ 0x36 })
        var outer = SHA256()
        outer.update(data: key.map { $0 ^ 0x5C })
        self.inner = inner
        self.outer = outer
    }

    public var isEmpty: Bool { bytes.isEmpty }

    /// Whether `mac` is the HMAC-SHA256 of `body` under this secret, compared in constant time.
    public func isValid(mac: [UInt8], for body: UnsafeRawBufferPointer) -> Bool {
        WebhookSignature.constantTimeEquals(authenticationCode(for: body), mac)
    }

    /// The HMAC-SHA256 of `body` under this secret.
    public func mac(for body: some DataProtocol) -> [UInt8] {
        let contiguous = Array(body)
        return contiguous.withUnsafeBytes { Array(authenticationCode(for: $0)) }
    }

    private func authenticationCode(for body: UnsafeRawBufferPointer) -> SHA256Digest {
        var innerHash = inner
        innerHash.update(bufferPointer: body)
        let innerDigest = innerHash.finalize()
        var outerHash = outer
        innerDigest.withUnsafeBytes { outerHash.update(bufferPointer: $0) }
        return outerHash.finalize()
    }
}

/// The signature schemes of the webhooks Stockyard takes.
public enum WebhookSignature {
    /// Shopify: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body. Any of the
    /// secrets may match (the current one and, during a rotation, the previous one).
    public static func verifyShopify(header: String?, body: UnsafeRawBufferPointer, secrets: [WebhookSecret]) -> Bool {
        guard let header else { return false }
        if let mac = canonicalBase64MAC(header) { return anyValid(mac, body: body, secrets: secrets) }
        guard let mac = Data(base64Encoded: header.trimmingCharacters(in: .whitespaces)) else { return false }
        return anyValid(Array(mac), body: body, secrets: secrets)
    }

    /// The 32 bytes of a header that is exactly what Shopify sends (44 base64 characters, one
    /// `=`, unused bits zero, perhaps spaces or tabs around), read without Foundation; nil for
    /// anything else, which the general decoder then reads.
    static func canonicalBase64MAC(_ header: String) -> [UInt8]? {
        var header = header
        return header.withUTF8 { utf8 -> [UInt8]? in
            var start = 0
            var end = utf8.count
            while start < end, utf8[start] == 0x20 || utf8[start] == 0x09 { start += 1 }
            while end > start, utf8[end - 1] == 0x20 || utf8[end - 1] == 0x09 { end -= 1 }
            guard end - start == 44, utf8[end - 1] == UInt8(ascii: "=") else { return nil }
            var mac = [UInt8](repeating: 0, count: 32)
            var accumulator: UInt32 = 0
            var bits = 0
            var count = 0
            for index in start..<(end - 1) {
                guard let value = base64Value(utf8[index]) else { return nil }
                accumulator = accumulator << 6 | UInt32(value)
                bits += 6
                if bits >= 8 {
                    bits -= 8
                    mac[count] = UInt8(truncatingIfNeeded: accumulator >> UInt32(bits))
                    count += 1
                    accumulator &= (1 << UInt32(bits)) - 1
                }
            }
            guard count == 32, accumulator == 0 else { return nil }
            return mac
        }
    }

    private static func base64Value(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x41...0x5A: byte - 0x41
        case 0x61...0x7A: byte - 0x61 + 26
        case 0x30...0x39: byte - 0x30 + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }

    /// The Amazon bridge: `X-Stockyard-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.
    public static func verifyHex(header: String?, body: UnsafeRawBufferPointer, secrets: [WebhookSecret]) -> Bool {
        guard var text = header?.trimmingCharacters(in: .whitespaces) else { return false }
        if text.lowercased().hasPrefix("sha256=") { text.removeFirst(7) }
        guard let mac = hexBytes(text) else { return false }
        return anyValid(mac, body: body, secrets: secrets)
    }

    /// The header value the Amazon bridge sends for `body`.
    public static func hexHeader(for body: some DataProtocol, secret: WebhookSecret) -> String {
        "sha256=" + secret.mac(for: body).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// The header value Shopify sends for `body`.
    public static func shopifyHeader(for body: some DataProtocol, secret: WebhookSecret) -> String {
        Data(secret.mac(for: body)).base64EncodedString()
    }

    /// Checks a secret sent as a header token (for senders that cannot sign), in constant time.
    public static func verifyToken(header: String?, secrets: [WebhookSecret]) -> Bool {
        guard let header, !header.isEmpty else { return false }
        let given = Array(header.trimmingCharacters(in: .whitespaces).utf8)
        var valid = false
        for secret in secrets {
            // Comparing keyed digests takes the same time whatever the bytes.
            let expected = secret.mac(for: secret.bytes)
            let matches = given.withUnsafeBytes { secret.isValid(mac: expected, for: $0) }
            valid = valid || matches
        }
        return valid
    }

    /// Compares a computed MAC with received bytes without stopping at the first difference.
    static func constantTimeEquals(_ computed: some ContiguousBytes, _ received: [UInt8]) -> Bool {
        computed.withUnsafeBytes { bytes in
            guard bytes.count == received.count else { return false }
            var difference: UInt8 = 0
            for index in 0..<received.count { difference |= bytes[index] ^ received[index] }
            return difference == 0
        }
    }

    private static func anyValid(_ mac: [UInt8], body: UnsafeRawBufferPointer, secrets: [WebhookSecret]) -> Bool {
        // Every secret is tried, so the time taken does not tell which one matched.
        var valid = false
        for secret in secrets where !secret.isEmpty {
            if secret.isValid(mac: mac, for: body) { valid = true }
        }
        return valid
    }

    private static func hexBytes(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = hexValue(utf8[index]), let low = hexValue(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}

extension String {
    /// Zeros on the left up to `width` characters.
    package func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
