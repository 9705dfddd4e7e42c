import Foundation

extension Policy {
    /// Reads and validates a policy file's text. Errors name the line and the key to fix:
    /// `line 9: ship-below is 2.0; it is a fraction ...`.
    public init(yaml: String) throws(PolicyFileError) {
        let document = try PolicyDocument(parsing: yaml)
        // Decoding ignores keys it does not know, so a misspelt optional key would silently do nothing.
        for (key, line) in document.lineOfKey.sorted(by: { $0.value < $1.value }) where !Self.knownKeys.contains(key) {
            throw PolicyFileError(
                line: line, key: key, reason: "is not a policy key; known keys: \(Self.knownKeys.sorted().joined(separator: ", "))")
        }
        let json: Data
        do {
            json = try JSONSerialization.data(withJSONObject: document.jsonObject())
        } catch {
            throw PolicyFileError(line: nil, reason: "cannot be represented as JSON: \(error)")
        }
        do {
            self = try JSONDecoder().decode(Policy.self, from: json)
        } catch let error as PolicyError {
            // PolicyError speaks of "policy: ..."; here the file and line already say where.
            let reason = error.description.hasPrefix("policy: ") ? String(error.description.dropFirst(8)) : error.description
            throw PolicyFileError(line: error.key.flatMap { document.lineOfKey[$0] }, key: error.key, reason: reason)
        } catch let error as DecodingError {
            throw Self.fileError(error, lines: document.lineOfKey)
        } catch {
            throw PolicyFileError(line: nil, reason: "\(error)")
        }
    }

    private static let knownKeys: Set<String> = Set(
        CodingKeys.allCases.map(\.rawValue)
            + SlicePolicy.CodingKeys.allCases.map { "\(CodingKeys.slices.rawValue).\($0.rawValue)" }
            + PolicyGuards.CodingKeys.allCases.map { "\(CodingKeys.guards.rawValue).\($0.rawValue)" })

    private static func fileError(_ error: DecodingError, lines: [String: Int]) -> PolicyFileError {
        // Keys only: a list index ("slices.dimensions[0]") lies on its key's line or the lines below it.
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.filter { $0.intValue == nil }.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return PolicyFileError(
                line: lines[parent], key: parent.isEmpty ? key.stringValue : parent + "." + key.stringValue,
                reason: "is missing")
        case .typeMismatch(let type, let context):
            let key = path(context.codingPath)
            return PolicyFileError(line: lines[key], key: key, reason: "must be \(describe(type))")
        case .valueNotFound(_, let context), .dataCorrupted(let context):
            let key = path(context.codingPath)
            return PolicyFileError(line: lines[key], key: key, reason: context.debugDescription)
        @unknown default:
            return PolicyFileError(line: nil, reason: "\(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "text (quote it if it looks like a number, e.g. \"2026-11-29.1\")"
        case is Int.Type: return "a whole number"
        case is Double.Type: return "a number"
        default: return "a \(type)"
        }
    }
}
