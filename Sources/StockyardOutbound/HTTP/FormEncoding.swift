import Foundation

/// `application/x-www-form-urlencoded` bodies, query strings and path segments: everything but
/// the unreserved ASCII characters is percent-encoded.
public enum FormEncoding {
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// One value (or path segment), percent-encoded.
    public static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    /// `name=value&…`, each side encoded.
    public static func query(_ fields: [(String, String)]) -> String {
        fields.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }

    /// A form body.
    public static func body(_ fields: [(String, String)]) -> [UInt8] {
        Array(query(fields).utf8)
    }

    /// A base URL without its trailing slashes, so that a path can follow.
    public static func base(_ url: String) -> String {
        var text = url
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
