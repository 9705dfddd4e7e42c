import FleetProtocol
import Foundation
import Yams

/// Reading the daemons' YAML configuration files, with errors that name the file.
public enum ConfigurationFile {
    public struct LoadError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "configuration \(path): \(reason)" }
    }

    public static func decode<Configuration: Decodable>(_ path: String) throws -> Configuration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(path: path, reason: "cannot read the file")
        }
        do {
            return try YAMLDecoder().decode(Configuration.self, from: data)
        } catch let error as DecodingError {
            throw LoadError(path: path, reason: describe(error))
        } catch {
            throw LoadError(path: path, reason: "\(error)")
        }
    }

    public static func folder(of path: String) -> String {
        URL(fileURLWithPath: path).deletingLastPathComponent().path
    }

    /// Relative paths in a configuration file are relative to the file, not to the working directory.
    public static func resolve(_ path: String, against folder: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: folder).appendingPathComponent(path).standardizedFileURL.path
    }

    private static func describe(_ error: DecodingError) -> String {
        func keyPath(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = keyPath(context)
            return "missing key '\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "'\(keyPath(context))': \(context.debugDescription)"
        case .dataCorrupted(let context):
            return "\(keyPath(context).isEmpty ? "" : "'\(keyPath(context))': ")\(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

extension TLSFiles {
    public func resolved(against folder: String) -> TLSFiles {
        var files = self
        files.certificate = ConfigurationFile.resolve(certificate, against: folder)
        files.privateKey = ConfigurationFile.resolve(privateKey, against: folder)
        files.trustRoots = ConfigurationFile.resolve(trustRoots, against: folder)
        return files
    }
}
