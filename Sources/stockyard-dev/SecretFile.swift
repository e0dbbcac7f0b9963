import Foundation

/// The secret a sandbox option names by file, without the line break an editor leaves; nil
/// when no file is given.
func readSecretFile(_ path: String?) throws -> String? {
    try path.map { try String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
}
