import FleetProtocol
import Foundation
import XCTest

/// Two unrelated fleets made by the real `Deploy/pki/make-pki.sh` in a temporary directory:
/// `fleet` (agents agent-1, agent-2) and `otherFleet` (agent-1, its own CA).
struct TestPKI {
    let root: URL
    var fleet: URL { self.root.appendingPathComponent("fleet") }
    var otherFleet: URL { self.root.appendingPathComponent("other") }

    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // FleetProtocolTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository
        .appendingPathComponent("Deploy/pki/make-pki.sh")

    static func make() throws -> TestPKI {
        let root = FileManager.default.temporaryDirectory
            .appendingPathComponent("fleet-pki-\(UUID().uuidString)")
        let pki = TestPKI(root: root)
        try runScript([pki.fleet.path, "agent-1", "agent-2"])
        try runScript([pki.otherFleet.path, "--ca-name", "Unrelated CA", "agent-1"])
        return pki
    }

    func remove() {
        try? FileManager.default.removeItem(at: self.root)
    }

    func coordinator(in fleet: URL) -> TLSFiles {
        TLSFiles(
            certificate: fleet.appendingPathComponent("coordinator.pem").path,
            privateKey: fleet.appendingPathComponent("coordinator.key").path,
            trustRoots: fleet.appendingPathComponent("ca.pem").path
        )
    }

    func agent(_ id: String, in fleet: URL) -> TLSFiles {
        TLSFiles(
            certificate: fleet.appendingPathComponent("agents/\(id).pem").path,
            privateKey: fleet.appendingPathComponent("agents/\(id).key").path,
            trustRoots: fleet.appendingPathComponent("ca.pem").path
        )
    }

    /// Runs make-pki.sh and returns its exit status and standard error.
    @discardableResult
    static func runScript(_ arguments: [String], expectSuccess: Bool = true) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script.path] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if expectSuccess && process.terminationStatus != 0 {
            throw ScriptFailure(arguments: arguments, status: process.terminationStatus, stderr: stderr)
        }
        return (process.terminationStatus, stderr)
    }

    struct ScriptFailure: Error, CustomStringConvertible {
        let arguments: [String]
        let status: Int32
        let stderr: String
        var description: String { "make-pki.sh \(arguments) exited \(status): \(stderr)" }
    }
}
