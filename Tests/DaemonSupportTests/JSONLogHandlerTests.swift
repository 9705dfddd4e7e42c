import Foundation
import Logging
import NIOConcurrencyHelpers
import XCTest

@testable import DaemonSupport

final class JSONLogHandlerTests: XCTestCase {
    func testEachEventIsOneJSONObjectWithItsMetadata() throws {
        let lines = NIOLockedValueBox<[Data]>([])
        let output = LineOutput { line in lines.withLockedValue { $0.append(line) } }
        var logger = Logger(label: "quantfleet.test") { JSONLogHandler(label: $0, output: output) }
        logger[metadataKey: "agent"] = "agent-7"
        logger.notice("rollout decided", metadata: ["n": "2007", "bounds": .array(["-0.43 %", "0.65 %"])])
        logger.debug("below the level, not written")

        let written = lines.withLockedValue { $0 }
        XCTAssertEqual(written.count, 1)
        XCTAssertEqual(written[0].last, UInt8(ascii: "\n"), "one object per line")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: written[0]) as? [String: Any])
        XCTAssertEqual(object["level"] as? String, "notice")
        XCTAssertEqual(object["label"] as? String, "quantfleet.test")
        XCTAssertEqual(object["message"] as? String, "rollout decided")
        let metadata = try XCTUnwrap(object["metadata"] as? [String: Any])
        XCTAssertEqual(metadata["agent"] as? String, "agent-7")
        XCTAssertEqual(metadata["n"] as? String, "2007")
        XCTAssertEqual(metadata["bounds"] as? [String], ["-0.43 %", "0.65 %"])
        let timestamp = try XCTUnwrap(object["ts"] as? String)
        XCTAssertNotNil(try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(timestamp), timestamp)
    }
}
