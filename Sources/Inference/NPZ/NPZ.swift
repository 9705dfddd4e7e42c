import Foundation

/// numpy .npz archives: a stored (uncompressed) zip of .npy arrays, keyed by member name without ".npy".
public enum NPZ {
    public static func read(contentsOf url: URL) throws -> [String: Tensor] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw NPZError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        return try read(data)
    }

    /// The arrays of an archive's bytes, keyed by member name without ".npy".
    public static func read(_ data: Data) throws -> [String: Tensor] {
        var arrays: [String: Tensor] = [:]
        for (name, contents) in try StoredZipArchive.members(of: data) {
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            arrays[key] = try NPYFormat.decode(contents, member: name)
        }
        return arrays
    }

    public static func write(_ arrays: [String: Tensor], to url: URL) throws {
        let members = arrays.sorted { $0.key < $1.key }.map { (name: $0.key + ".npy", contents: NPYFormat.encode($0.value)) }
        try StoredZipArchive.archive(members).write(to: url, options: .atomic)
    }
}
