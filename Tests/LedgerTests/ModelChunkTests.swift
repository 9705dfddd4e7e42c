import Foundation
import XCTest

@testable import Ledger

/// Models' bytes kept in the ledger for coordinators that share it: stored in chunks, copied back
/// whole, stored once however often registered.
final class ModelChunkTests: LedgerTestCase {
    func testAModelsBytesComeBackWholeFromItsChunks() throws {
        try onEachEngine { fixture in
            let bytes = Data((0..<(Ledger.modelChunkBytes * 2 + 12_345)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            let file = fixture.directory.appendingPathComponent("model.onnx")
            try bytes.write(to: file)
            try fixture.ledger.storeModelBytes(sha256: LedgerFixture.candidateSHA256, from: file)
            try fixture.ledger.storeModelBytes(sha256: LedgerFixture.candidateSHA256, from: file)
            XCTAssertEqual(try fixture.openReader().query("SELECT COUNT(*) FROM model_chunks").rows, [["3"]])

            let copy = fixture.directory.appendingPathComponent("copy.onnx")
            XCTAssertTrue(try fixture.reopen().copyModelBytes(sha256: LedgerFixture.candidateSHA256, to: copy))
            XCTAssertEqual(try Data(contentsOf: copy), bytes)
            XCTAssertFalse(try fixture.ledger.copyModelBytes(sha256: LedgerFixture.referenceSHA256, to: copy), "no bytes stored")
            XCTAssertEqual(fixture.ledger.sharesModels, fixture.engine == .postgres)
        }
    }
}
