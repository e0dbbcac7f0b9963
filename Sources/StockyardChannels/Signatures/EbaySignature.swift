import Crypto
import Foundation

/// eBay Notification API authentication: `X-EBAY-SIGNATURE` is base64 of a JSON object
/// `{alg, kid, signature, digest}`; `signature` is a base64 DER ECDSA P-256 signature over the
/// raw body with a SHA-1 digest, by the public key eBay publishes under `kid`.
public struct EbaySignature: Sendable, Hashable {
    public var algorithm: String
    public var keyID: String
    public var signature: [UInt8]
    public var digest: String

    /// Why a signature header does not verify.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case missingHeader
        case malformedHeader(String)
        case unsupported(String)
        case invalidKey
        case mismatch

        public var description: String {
            switch self {
            case .missingHeader: "the X-EBAY-SIGNATURE header is required"
            case .malformedHeader(let why): "X-EBAY-SIGNATURE is malformed: \(why)"
            case .unsupported(let what): "X-EBAY-SIGNATURE uses \(what), not ECDSA with SHA1"
            case .invalidKey: "the public key for this kid is not a P-256 key"
            case .mismatch: "X-EBAY-SIGNATURE does not match the body"
            }
        }
    }

    /// Reads the header.
    public init(header: String?) throws(Failure) {
        guard let header, !header.isEmpty else { throw .missingHeader }
        guard let decoded = Data(base64Encoded: header.trimmingCharacters(in: .whitespaces)),
            let object = (try? JSONSerialization.jsonObject(with: decoded)) as? [String: Any]
        else { throw .malformedHeader("not base64 of a JSON object") }
        guard let kid = object["kid"] as? String, !kid.isEmpty else { throw .malformedHeader("kid is missing") }
        // The key id goes into the path of a call to eBay's API: `..` or `/` would move that call
        // elsewhere, with the app's token. Nothing else is fetched or logged first.
        guard Self.isKeyID(kid) else {
            throw .malformedHeader("kid must be 1 to \(Self.maxKeyIDLength) letters, digits, '-' or '_', as eBay's key ids are")
        }
        guard let text = object["signature"] as? String, let signature = Data(base64Encoded: text), !signature.isEmpty else {
            throw .malformedHeader("signature is missing or not base64")
        }
        algorithm = (object["alg"] as? String) ?? "ECDSA"
        digest = (object["digest"] as? String) ?? "SHA1"
        keyID = kid
        self.signature = Array(signature)
    }

    /// The longest key id taken; eBay's are UUIDs, 36 characters.
    public static let maxKeyIDLength = 64

    /// Whether `kid` is made only of the characters eBay's key ids use (ASCII letters, digits,
    /// `-` and `_`), and is not too long: safe in a URL path and in a log line as it is.
    public static func isKeyID(_ kid: String) -> Bool {
        let utf8 = kid.utf8
        return !utf8.isEmpty && utf8.count <= maxKeyIDLength
            && utf8.allSatisfy { ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }
    }

    /// Verifies the body with eBay's public key for `keyID` (PEM, as eBay's key endpoint returns
    /// it, or the bare base64 of its DER).
    public func verify(body: UnsafeRawBufferPointer, publicKey: String) throws(Failure) {
        guard algorithm.uppercased() == "ECDSA" else { throw .unsupported(algorithm) }
        guard digest.uppercased() == "SHA1" else { throw .unsupported(digest) }
        guard let key = Self.publicKey(publicKey) else { throw .invalidKey }
        guard let signature = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { throw .mismatch }
        let hash = Insecure.SHA1.hash(data: body)
        guard key.isValidSignature(signature, for: hash) else { throw .mismatch }
    }

    /// Whether `text` is a P-256 public key as `verify` takes it.
    public static func isPublicKey(_ text: String) -> Bool { publicKey(text) != nil }

    static func publicKey(_ text: String) -> P256.Signing.PublicKey? {
        // eBay's key endpoint returns the PEM on one line (markers and base64 run together), so
        // the markers are cut off and the rest read as DER rather than trusting line breaks.
        var body = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if body.hasPrefix("-----BEGIN PUBLIC KEY-----") && body.hasSuffix("-----END PUBLIC KEY-----") {
            body = String(body.dropFirst("-----BEGIN PUBLIC KEY-----".count).dropLast("-----END PUBLIC KEY-----".count))
        } else if body.hasPrefix("-----") {
            return nil
        }
        body = body.replacingOccurrences(of: "\\n", with: "")
        body.removeAll { $0.isWhitespace }
        guard let der = Data(base64Encoded: body) else { return nil }
        return try? P256.Signing.PublicKey(derRepresentation: der)
    }

    /// The answer to eBay's endpoint validation `GET ?challenge_code=…`:
    /// hex(SHA-256(challengeCode + verificationToken + endpointURL)).
    public static func challengeResponse(challengeCode: String, verificationToken: String, endpointURL: String) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(challengeCode.utf8))
        hasher.update(data: Array(verificationToken.utf8))
        hasher.update(data: Array(endpointURL.utf8))
        return hasher.finalize().map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// A header for a body signed with `key` (for sandboxes and tests).
    public static func header(for body: some DataProtocol, key: P256.Signing.PrivateKey, keyID: String) throws -> String {
        let signature = try key.signature(for: Insecure.SHA1.hash(data: body))
        let object: [String: String] = [
            "alg": "ECDSA", "kid": keyID, "signature": signature.derRepresentation.base64EncodedString(), "digest": "SHA1",
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).base64EncodedString()
    }
}
