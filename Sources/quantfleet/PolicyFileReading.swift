import ArgumentParser
import Foundation
import ShadowEval

extension Policy {
    /// The policy file a command was given, or an error that names the file and the problem.
    static func read(file path: String) throws -> Policy {
        guard let text = FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self) }) else {
            throw ValidationError("cannot read the policy file \(path)")
        }
        do {
            return try Policy(yaml: text)
        } catch {
            throw ValidationError("\(path): \(error)")
        }
    }
}
