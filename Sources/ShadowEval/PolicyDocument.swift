import Foundation

/// The policy file's YAML, read without a YAML library so that ShadowEval stays dependency-free and
/// every key keeps the line it came from, for errors that point at the line to fix.
///
/// It reads the subset a policy needs: `key: value` mappings nested by indentation, block
/// (`- item`) and flow (`[a, b]`) sequences of scalars, plain, single- and double-quoted scalars,
/// and `#` comments. Anything else (anchors, multi-line strings, tabs) is rejected with its line.
struct PolicyDocument {
    indirect enum Node {
        case scalar(String, quoted: Bool)
        case mapping([(key: String, value: Node)])
        case sequence([Node])
    }

    var root: Node
    /// Line (1-based) of each key, by its path of keys joined with dots ("guards.latency-ratio").
    var lineOfKey: [String: Int]

    private struct Line {
        var number: Int
        var indent: Int
        var content: String
        var isSequenceItem: Bool { content == "-" || content.hasPrefix("- ") }
    }

    init(parsing text: String) throws(PolicyFileError) {
        var lines: [Line] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let withoutComment = try Self.strippingComment(String(raw), line: number)
            let content = withoutComment.trimmingCharacters(in: .whitespaces)
            if content.isEmpty { continue }
            let leading = withoutComment.prefix { $0 == " " || $0 == "\t" }
            if leading.contains("\t") {
                throw PolicyFileError(line: number, reason: "indentation uses a tab; YAML indents with spaces")
            }
            if content == "---" && lines.isEmpty { continue }
            lines.append(Line(number: number, indent: leading.count, content: content))
        }
        var reader = Reader(lines: lines)
        guard let first = lines.first else {
            throw PolicyFileError(line: nil, reason: "the file is empty; a policy needs at least its version and thresholds")
        }
        guard first.indent == 0 else { throw PolicyFileError(line: first.number, reason: "the first key is indented") }
        root = try reader.block(indent: 0, path: "")
        if let extra = reader.current {
            throw PolicyFileError(line: extra.number, reason: "unexpected indentation")
        }
        lineOfKey = reader.lineOfKey
    }

    /// The document as Foundation JSON objects, for `JSONDecoder` to decode with the Codable rules.
    /// Unquoted scalars that read as numbers, booleans or null become those; everything else is a string.
    func jsonObject() -> Any { Self.json(root) }

    private static func json(_ node: Node) -> Any {
        switch node {
        case .mapping(let members):
            return Dictionary(members.map { ($0.key, json($0.value)) }, uniquingKeysWith: { first, _ in first })
        case .sequence(let items):
            return items.map(json)
        case .scalar(let text, let quoted):
            if quoted { return text }
            switch text {
            case "true": return true
            case "false": return false
            case "null", "~": return NSNull()
            default: break
            }
            if let integer = Int(text) { return integer }
            if let number = Double(text), number.isFinite { return number }
            return text
        }
    }

    /// Removes a `#` comment: one at the start of the line or after a space, outside quotes.
    private static func strippingComment(_ line: String, line number: Int) throws(PolicyFileError) -> String {
        var quote: Character?
        var previous: Character = " "
        for (offset, character) in line.enumerated() {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "#" && (previous == " " || previous == "\t") {
                return String(line.prefix(offset))
            }
            previous = character
        }
        return line
    }

    private struct Reader {
        let lines: [Line]
        var position = 0
        var lineOfKey: [String: Int] = [:]

        init(lines: [Line]) { self.lines = lines }

        var current: Line? { position < lines.count ? lines[position] : nil }

        /// A mapping or a sequence whose lines all start at `indent`.
        mutating func block(indent: Int, path: String) throws(PolicyFileError) -> Node {
            guard let first = current else { return .mapping([]) }
            return first.isSequenceItem ? try sequence(indent: indent) : try mapping(indent: indent, path: path)
        }

        private mutating func sequence(indent: Int) throws(PolicyFileError) -> Node {
            var items: [Node] = []
            while let line = current, line.indent == indent, line.isSequenceItem {
                let item = line.content.dropFirst().trimmingCharacters(in: .whitespaces)
                if item.isEmpty || item.hasSuffix(":") || item.contains(": ") {
                    throw PolicyFileError(
                        line: line.number, reason: "a list item here must be a single value, e.g. `- class`")
                }
                items.append(try PolicyDocument.value(item, line: line.number))
                position += 1
            }
            return .sequence(items)
        }

        private mutating func mapping(indent: Int, path: String) throws(PolicyFileError) -> Node {
            var members: [(key: String, value: Node)] = []
            while let line = current, line.indent == indent {
                if line.isSequenceItem {
                    throw PolicyFileError(line: line.number, reason: "a list item where a `key: value` line was expected")
                }
                guard let colon = PolicyDocument.keySeparator(in: line.content) else {
                    throw PolicyFileError(line: line.number, reason: "expected `key: value`, found `\(line.content)`")
                }
                let key = String(line.content[..<colon]).trimmingCharacters(in: .whitespaces)
                let rest = line.content[line.content.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                let keyPath = path.isEmpty ? key : path + "." + key
                if members.contains(where: { $0.key == key }) {
                    throw PolicyFileError(line: line.number, key: keyPath, reason: "appears twice")
                }
                lineOfKey[keyPath] = line.number
                position += 1
                let value: Node
                if !rest.isEmpty {
                    value = try PolicyDocument.value(rest, line: line.number)
                } else if let next = current, next.indent > indent || (next.indent == indent && next.isSequenceItem) {
                    value = try block(indent: next.indent, path: keyPath)
                } else {
                    throw PolicyFileError(line: line.number, key: keyPath, reason: "has no value")
                }
                members.append((key, value))
            }
            if let line = current, line.indent > indent {
                throw PolicyFileError(line: line.number, reason: "unexpected indentation")
            }
            return .mapping(members)
        }
    }

    /// Index of the `:` that ends a key: followed by a space or the end of the line.
    private static func keySeparator(in content: String) -> String.Index? {
        var index = content.startIndex
        while index < content.endIndex {
            let next = content.index(after: index)
            if content[index] == ":" && (next == content.endIndex || content[next] == " ") { return index }
            index = next
        }
        return nil
    }

    /// A scalar or a flow sequence of scalars.
    private static func value(_ text: String, line: Int) throws(PolicyFileError) -> Node {
        if text.hasPrefix("[") {
            guard text.hasSuffix("]") else { throw PolicyFileError(line: line, reason: "`[` without a closing `]`") }
            let inner = text.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
            if inner.isEmpty { return .sequence([]) }
            var items: [Node] = []
            for item in inner.split(separator: ",") {
                items.append(try scalar(item.trimmingCharacters(in: .whitespaces), line: line))
            }
            return .sequence(items)
        }
        return try scalar(text, line: line)
    }

    private static func scalar(_ text: String, line: Int) throws(PolicyFileError) -> Node {
        if let first = text.first, first == "\"" || first == "'" {
            guard text.count >= 2, text.last == first else {
                throw PolicyFileError(line: line, reason: "unterminated quoted value \(text)")
            }
            return .scalar(String(text.dropFirst().dropLast()), quoted: true)
        }
        if let first = text.first, "&*!|>{".contains(first) {
            throw PolicyFileError(
                line: line, reason: "`\(first)` starts a YAML feature policy files do not use; quote the value if it is text")
        }
        return .scalar(text, quoted: false)
    }
}

/// A policy file that could not be read, with the line (and key) to fix when known.
public struct PolicyFileError: Error, Equatable, CustomStringConvertible {
    /// 1-based line in the file.
    public var line: Int?
    /// The offending key's path, dot-separated ("guards.latency-ratio").
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
}
