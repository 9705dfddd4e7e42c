import FleetProtocol
import ShadowEval
import SwiftProtobuf
import XCTest

@testable import DaemonSupport

/// A model's task travels to agents in its assignment and must arrive as it was registered.
final class TaskSpecConversionTests: XCTestCase {
    func testEveryKindSurvivesTheWire() throws {
        let kinds: [TaskKind] = [
            .topOneClassification, .classification(ClassificationDifference(maximumProbabilityShift: 0.2)),
            .regression(RegressionTolerance(absolute: 0, relative: 0.05)), .embedding(EmbeddingFloor(minimumCosine: 0.9)),
            .detection(DetectionMatching(boxFormat: .yolox, minimumIoU: 0.6, minimumScore: 0.3, nmsIoU: 0.5)),
            .detection(DetectionMatching(boxFormat: .xyxyScoreClass, minimumIoU: 0.5, minimumScore: 0, nmsIoU: nil)),
            .ctc(CTCTextDifference(blankIndex: 6624, maximumCharacterErrorRate: nil, sequenceLayout: .timeFirst)),
            .ctc(CTCTextDifference(blankIndex: 0, maximumCharacterErrorRate: 0.05, sequenceLayout: .auto)),
        ]
        for kind in kinds {
            let received = try TaskSpec(serializedBytes: try TaskSpec(kind).serializedBytes() as [UInt8])
            XCTAssertEqual(try TaskKind(received), kind)
        }
    }

    /// The fields of the later kinds are `optional`: absent ones take the registration's defaults,
    /// and a detection without its box format is refused as a registration without one would be.
    func testAbsentOptionalFieldsTakeTheRegistrationsDefaults() throws {
        var spec = TaskSpec()
        spec.kind = .ctc
        XCTAssertEqual(try TaskKind(spec), .ctc(CTCTextDifference()))
        spec.kind = .detection
        XCTAssertThrowsError(try TaskKind(spec)) {
            XCTAssertEqual($0 as? TaskKind.RegistrationError, .missingParameter(kind: "detection", expected: "box-format (yolo, yolox, xyxy-score-class)"))
        }
        spec.boxFormat = .yolo
        XCTAssertEqual(try TaskKind(spec), try TaskKind(name: "detection", parameters: ["box-format": "yolo"]))
    }
}
