import FleetProtocol
import Foundation
import StrictYAML

/// Reading the daemons' YAML configuration files through the one strict parser: an unknown or
/// misspelt key stops the daemon before it starts, and errors name the file and the line.
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
            return try StrictYAML.decode(Configuration.self, from: String(decoding: data, as: UTF8.self))
        } catch {
            throw LoadError(path: path, reason: error.description)
        }
    }

    public static func folder(of path: String) -> String {
        URL(fileURLWithPath: path).deletingLastPathComponent().path
    }

    /// Relative paths in a configuration file are relative to the file, not to the working directory.
    public static func resolve(_ path: String, against folder: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: folder).appendingPathComponent(path).standardizedFileURL.path
    }
}

extension TLSFiles {
    public func resolved(against folder: String) -> TLSFiles {
        var files = self
        files.certificate = ConfigurationFile.resolve(certificate, against: folder)
        files.privateKey = ConfigurationFile.resolve(privateKey, against: folder)
        files.trustRoots = ConfigurationFile.resolve(trustRoots, against: folder)
        files.crl = crl.map { ConfigurationFile.resolve($0, against: folder) }
        return files
    }
}
