import Foundation
@testable import Inference
import XCTest

final class NPZTests: XCTestCase {
    func testRoundTripOfEveryElementType() throws {
        let arrays: [String: Tensor] = [
            "f32": Tensor(shape: [2, 3], floats: [0, 1.5, -2, .infinity, 1e-30, 7]),
            "f16": try Tensor(shape: [3], floats: [0.1, 65504, -1]).converted(to: .float16),
            "i8": Tensor(shape: [2], int8s: [-128, 127]),
            "u8": Tensor(shape: [1, 1, 2], uint8s: [0, 255]),
            "i32": Tensor(shape: [2], int32s: [.min, .max]),
            "i64": Tensor(shape: [], int64s: [-42]),
            "b": Tensor(shape: [3], bools: [true, false, true]),
            "empty": Tensor(shape: [0, 4], floats: []),
            "f64": try Tensor(shape: [2], floats: [0.25, -3]).converted(to: .float64),
            "i16": try Tensor(shape: [2], int64s: [-32768, 32767]).converted(to: .int16),
            "u16": try Tensor(shape: [1], int64s: [65535]).converted(to: .uint16),
            "u32": try Tensor(shape: [1], int64s: [4_294_967_295]).converted(to: .uint32),
            "u64": try Tensor(shape: [1], int64s: [-1]).converted(to: .uint64),
            "text": Tensor(shape: [2, 2], strings: ["", "fünf", "a b", "🙂"]),
        ]
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("all.npz")
        try NPZ.write(arrays, to: file)
        XCTAssertEqual(try NPZ.read(contentsOf: file), arrays)
    }

    func testNumpyReadsTheStringsWeWrite() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("text.npz")
        try NPZ.write(["text": Tensor(shape: [3], strings: ["", "fünf", "🙂 ok"])], to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import numpy, sys; print(numpy.load(sys.argv[1])['text'].tolist() == ['', 'fünf', '🙂 ok'])", file.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self), "True\n")
    }

    func testReadsTheTrafficFixtureWrittenByNumpy() throws {
        let arrays = try NPZ.read(contentsOf: TestSupport.traffic)
        let input = try XCTUnwrap(arrays["input"]), label = try XCTUnwrap(arrays["label"])
        XCTAssertEqual(input.elementType, .uint8)
        XCTAssertEqual(input.shape.count, 2)
        XCTAssertEqual(input.shape[1], 784)
        XCTAssertEqual(label.elementType, .int64)
        XCTAssertEqual(label.shape, [input.shape[0]])
        XCTAssertTrue(label.int64s.allSatisfy { (0..<10).contains($0) })
    }

    func testCompressedArchiveGetsAClearError() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("compressed.npz")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import numpy, sys; numpy.savez_compressed(sys.argv[1], x=numpy.zeros(100))", file.path]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "python3 with numpy is required")
        XCTAssertThrowsError(try NPZ.read(contentsOf: file)) { error in
            XCTAssertEqual(error as? NPZError, .compressedMember(name: "x.npy", method: 8))
            XCTAssertTrue(String(describing: error).contains("savez_compressed"))
        }
    }

    func testTruncatedArchiveIsRefused() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("truncated.npz")
        try Data(contentsOf: TestSupport.traffic).prefix(100_000).write(to: file)
        XCTAssertThrowsError(try NPZ.read(contentsOf: file)) { XCTAssertNotNil($0 as? NPZError) }
    }

    /// The check value of the CRC-32 catalogue, and lengths around the 8-byte steps against the
    /// bit-by-bit definition.
    func testChecksumMatchesTheDefinition() {
        XCTAssertEqual(CRC32.checksum(Data("123456789".utf8)), 0xCBF4_3926)
        func bitwise(_ bytes: [UInt8]) -> UInt32 {
            var crc = ~UInt32(0)
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            return ~crc
        }
        var generator = SystemRandomNumberGenerator()
        for count in [0, 1, 7, 8, 9, 15, 16, 17, 1000] {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            XCTAssertEqual(CRC32.checksum(Data(bytes)), bitwise(bytes), "\(count) bytes")
        }
    }

    func testAFlippedByteFailsTheChecksum() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("flipped.npz")
        try NPZ.write(["x": Tensor(shape: [64], floats: (0..<64).map(Float.init))], to: file)
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count / 3] ^= 0x10  // inside the array's values
        try bytes.write(to: file)
        XCTAssertThrowsError(try NPZ.read(contentsOf: file)) { error in
            XCTAssertTrue(String(describing: error).contains("CRC-32"), "\(error)")
        }
    }
}
