import Yams

/// The one parser for QuantFleet's YAML files (coordinator and agent configuration, the rollout
/// policy): Yams reads the YAML, and decoding is strict where `YAMLDecoder` is lenient. A key the
/// type never reads (a misspelt threshold that would silently keep its default) is an error, as is a
/// key given twice; every error names the line and the key's path.
public enum StrictYAML {
    /// Decodes `T` from `text`, refusing unknown and repeated keys.
    public static func decode<T: Decodable>(_ type: T.Type, from text: String) throws(ConfigurationError) -> T {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw ConfigurationError(line: nil, reason: "the file is empty") }
            root = node
        } catch let error as ConfigurationError {
            throw error
        } catch let error as YamlError {
            throw ConfigurationError(error, text: text)
        } catch {
            throw ConfigurationError(line: nil, reason: "\(error)")
        }
        let reads = KeyReads()
        let value: T
        do {
            value = try T(from: NodeDecoder(node: root, codingPath: [], reads: reads))
        } catch let error as ConfigurationError {
            throw error
        } catch let error as any ConfigurationKeyError {
            let path = error.key.map { $0.split(separator: ".").map(String.init) } ?? []
            throw ConfigurationError(line: root.line(at: path), key: error.key, reason: error.reason)
        } catch let DecodingError.keyNotFound(key, context) {
            // A required key misspelt reads as missing: name the misspelling instead, where there is one.
            let path = NodeDecoder.path(context.codingPath)
            if let misspelt = root.node(at: path)?.mapping?.keys.first(where: { candidate in
                candidate.string.map { KeyReads.isTypo($0, of: key.stringValue) } ?? false
            }) {
                throw ConfigurationError(line: misspelt.mark?.line, key: KeyReads.dotted(path + [misspelt.string ?? ""]),
                                         reason: "is not a known key; did you mean \(key.stringValue)?")
            }
            throw ConfigurationError(DecodingError.keyNotFound(key, context), root: root)
        } catch let error as DecodingError {
            throw ConfigurationError(error, root: root)
        } catch {
            throw ConfigurationError(line: nil, reason: "\(error)")
        }
        try reads.refuseUnread(in: root, path: [])
        return value
    }
}

/// An error a decoded type throws about one of its keys (a value out of range): the parser adds
/// the key's line.
public protocol ConfigurationKeyError: Error {
    /// The key's dotted path ("guards.latency-ratio"), nil when the error is about no one key.
    var key: String? { get }
    var reason: String { get }
}

/// A configuration file's error: the 1-based line, the key's dotted path, and why.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public var line: Int?
    public var key: String?
    public var reason: String

    public init(line: Int?, key: String? = nil, reason: String) {
        self.line = line
        self.key = key
        self.reason = reason
    }

    /// "line 3: ship-below is 2.0; ...": the key is named once, even when the reason starts with it.
    public var description: String {
        let place = line.map { "line \($0): " } ?? ""
        guard let key, !reason.hasPrefix(key) else { return place + reason }
        return place + key + " " + reason
    }

    /// A syntax error at the line where the construct it is in starts (libyaml marks the problem
    /// itself where it noticed it, often the next line).
    init(_ error: YamlError, text: String) {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            self.init(line: context?.mark.line ?? mark.line, reason: "is not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, _):
            // Yams names the keys, not where they repeat: the last line that sets the first one.
            let key = duplicates.sorted()[0]
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let line = lines.lastIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix(key + ":") }.map { $0 + 1 }
            self.init(line: line, key: key, reason: "is given twice")
        default:
            self.init(line: nil, reason: "is not valid YAML: \(error)")
        }
    }

    init(_ error: DecodingError, root: Node) {
        let (path, dotted) = (NodeDecoder.path, KeyReads.dotted)
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            self.init(line: root.line(at: parent), key: dotted(parent + [key.stringValue]), reason: "is missing")
        case .typeMismatch(let type, let context):
            self.init(line: root.line(at: path(context.codingPath)), key: dotted(path(context.codingPath)), reason: "must be \(Self.describe(type))")
        case .valueNotFound(_, let context), .dataCorrupted(let context):
            self.init(line: root.line(at: path(context.codingPath)), key: dotted(path(context.codingPath)), reason: context.debugDescription)
        @unknown default:
            self.init(line: nil, reason: "\(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "text (quote it if it looks like a number, e.g. \"2026-11-29.1\")"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt.Type, is UInt64.Type, is UInt32.Type, is UInt16.Type, is UInt8.Type: "a whole number"
        case is Double.Type, is Float.Type: "a number"
        case is Bool.Type: "true or false"
        default: "a \(type)"
        }
    }
}

/// The keys a decoding read, by path ("rollouts[0].reference"): anything else in the file is unknown.
final class KeyReads {
    private var read: Set<[String]> = []

    func note(_ path: [String]) { read.insert(path) }

    func refuseUnread(in node: Node, path: [String]) throws(ConfigurationError) {
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                let name = key.string ?? "?"
                guard read.contains(path + [name]) else {
                    let known = read.filter { $0.count == path.count + 1 && Array($0.dropLast()) == path }.compactMap(\.last).sorted()
                    let hint = if let meant = known.first(where: { Self.isTypo(name, of: $0) }) {
                        "; did you mean \(meant)?"
                    } else {
                        known.isEmpty ? "" : "; known here: \(known.joined(separator: ", "))"
                    }
                    throw ConfigurationError(line: key.mark?.line, key: Self.dotted(path + [name]), reason: "is not a known key" + hint)
                }
                try refuseUnread(in: value, path: path + [name])
            }
        case .sequence(let items):
            for (index, item) in items.enumerated() { try refuseUnread(in: item, path: path + ["[\(index)]"]) }
        default:
            break
        }
    }

    /// Whether `written` is `meant` with one or two letters wrong, missing, extra or swapped.
    static func isTypo(_ written: String, of meant: String) -> Bool {
        let a = Array(written), b = Array(meant)
        guard a != b, abs(a.count - b.count) <= 2 else { return false }
        // Levenshtein distance, one row at a time.
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() { current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))) }
            previous = current
        }
        return previous[b.count] <= 2
    }

    static func dotted(_ parts: [String]) -> String { parts.reduce("") { $0.isEmpty || $1.hasPrefix("[") ? $0 + $1 : $0 + "." + $1 } }
}

extension Node {
    /// The node at `path` (keys and "[index]"), if the file has it.
    func node(at path: [String]) -> Node? {
        let steps = descent(path)
        return steps.count == path.count + 1 ? steps.last?.node : nil
    }

    /// The line of the value at `path` (a key's own line), or of its nearest ancestor present.
    func line(at path: [String]) -> Int? {
        descent(path).last { $0.line != nil }?.line
    }

    /// The nodes along `path` as far as the file has them, from this one, each with the line that
    /// names it: a key's line for a mapping's value, its first line for a list's item.
    private func descent(_ path: [String]) -> [(node: Node, line: Int?)] {
        var steps: [(node: Node, line: Int?)] = [(self, mark?.line)]
        for part in path {
            let current = steps[steps.count - 1].node
            if part.hasPrefix("["), let index = Int(part.dropFirst().dropLast()), let items = current.sequence, index < items.count {
                steps.append((items[index], items[index].mark?.line))
            } else if let entry = current.mapping?.first(where: { $0.key.string == part }) {
                steps.append((entry.value, entry.key.mark?.line))
            } else {
                break
            }
        }
        return steps
    }
}
