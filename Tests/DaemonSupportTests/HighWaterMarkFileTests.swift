import Foundation
import XCTest

@testable import DaemonSupport

/// The agent's highest accepted assignment version survives restarts and never goes down.
final class HighWaterMarkFileTests: XCTestCase {
    private func scratchFile() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("high-water-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory.appendingPathComponent("accepted-assignment-version").path
    }

    func testTheValueSurvivesARestartAndNeverGoesDown() throws {
        let path = try scratchFile()
        let first = try HighWaterMarkFile(path: path)
        XCTAssertEqual(first.value, 0, "nothing accepted yet")
        try first.raise(to: 7)
        try first.raise(to: 3)
        XCTAssertEqual(first.value, 7)
        XCTAssertEqual(try HighWaterMarkFile(path: path).value, 7, "read back as a restarted agent would")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp"), "the temporary file was renamed into place")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int, 0o600)
    }

    func testAFileThatIsNotANumberIsRefusedWithItsPathAndContent() throws {
        let path = try scratchFile()
        try "seven\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try HighWaterMarkFile(path: path)) {
            XCTAssertEqual($0 as? HighWaterMarkFile.FileError, .notANumber(path: path, content: "seven\n"))
            XCTAssertTrue("\($0)".hasPrefix("\(path) should hold one unsigned decimal number"), "\($0)")
        }
    }
}
