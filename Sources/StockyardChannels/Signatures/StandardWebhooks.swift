import Crypto
import Foundation

/// A Standard Webhooks signing secret (`whsec_` followed by base64), as Etsy issues them.
public struct StandardWebhookSecret: Sendable {
    fileprivate let key: [UInt8]

    /// Reads `whsec_<base64>` (the prefix is optional); nil when the rest is not base64.
    public init?(_ text: String) {
        var encoded = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if encoded.hasPrefix("whsec_") { encoded.removeFirst(6) }
        guard !encoded.isEmpty, let key = Data(base64Encoded: encoded), !key.isEmpty else { return nil }
        self.key = Array(key)
    }
}

/// Standard Webhooks authentication: `webhook-id`, `webhook-timestamp` and `webhook-signature`
/// (space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` entries).
public enum StandardWebhooks {
    /// Why a delivery does not authenticate.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case missingHeader(String)
        case invalidHeader(String)
        /// The timestamp is further than the tolerance from now (a replay, or a clock far off).
        case timestampOutOfTolerance
        case noSignatureMatches

        public var description: String {
            switch self {
            case .missingHeader(let name): "the \(name) header is required"
            case .invalidHeader(let name): "the \(name) header is malformed"
            case .timestampOutOfTolerance: "webhook-timestamp is outside the tolerance"
            case .noSignatureMatches: "no webhook-signature entry matches the body"
            }
        }

        /// The header to name in an error answer.
        public var header: String {
            switch self {
            case .missingHeader(let name), .invalidHeader(let name): name
            case .timestampOutOfTolerance: "webhook-timestamp"
            case .noSignatureMatches: "webhook-signature"
            }
        }
    }

    /// Checks a delivery against every secret (several during a rotation) and every `v1` entry of
    /// the signature header, in constant time per comparison. `now` and `tolerance` in seconds.
    public static func verify(
        id: String?, timestamp: String?, signature: String?, body: UnsafeRawBufferPointer, secrets: [StandardWebhookSecret],
        now: Int64, tolerance: Int64 = 300
    ) throws(Failure) {
        guard let id, !id.isEmpty else { throw .missingHeader("webhook-id") }
        // The signed content is delimited by full stops: an id or timestamp holding one could
        // move bytes between the parts.
        guard !id.contains("."), id.utf8.count <= 256 else { throw .invalidHeader("webhook-id") }
        guard let timestamp, !timestamp.isEmpty else { throw .missingHeader("webhook-timestamp") }
        guard timestamp.utf8.count <= 12, timestamp.allSatisfy(\.isASCII), let seconds = Int64(timestamp) else {
            throw .invalidHeader("webhook-timestamp")
        }
        guard abs(now - seconds) <= tolerance else { throw .timestampOutOfTolerance }
        guard let signature, !signature.isEmpty else { throw .missingHeader("webhook-signature") }
        var macs: [[UInt8]] = []
        for entry in signature.split(separator: " ") {
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1" else { continue }
            if let mac = Data(base64Encoded: String(parts[1])), mac.count == SHA256.byteCount { macs.append(Array(mac)) }
        }
        guard !macs.isEmpty else { throw .noSignatureMatches }
        let prefix = Array("\(id).\(timestamp).".utf8)
        var valid = false
        for secret in secrets {
            let key = SymmetricKey(data: secret.key)
            var hmac = HMAC<SHA256>(key: key)
            hmac.update(data: prefix)
            hmac.update(data: body)
            let expected = hmac.finalize()
            for mac in macs {
                let matches = WebhookSignature.constantTimeEquals(expected, mac)
                valid = valid || matches
            }
        }
        guard valid else { throw .noSignatureMatches }
    }

    /// The `webhook-signature` entry for a delivery (for sandboxes and tests).
    public static func sign(id: String, timestamp: Int64, body: some DataProtocol, secret: StandardWebhookSecret) -> String {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: secret.key))
        hmac.update(data: Array("\(id).\(timestamp).".utf8))
        hmac.update(data: body)
        return "v1," + Data(hmac.finalize()).base64EncodedString()
    }
}
