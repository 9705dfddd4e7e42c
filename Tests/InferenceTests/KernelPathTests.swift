import CQuantKernels
import Inference
import ShadowEval
import XCTest

/// The C GEMM on every kernel path against an exact Swift reference, on odd and real shapes.
final class KernelPathTests: XCTestCase {
    private let shapes: [(m: Int, k: Int, n: Int)] = [
        (1, 1, 1), (1, 784, 256), (3, 5, 7), (4, 8, 8), (5, 17, 9), (7, 33, 10), (13, 2, 16), (32, 256, 128), (9, 127, 23),
    ]

    func testEverySupportedPathMatchesExactReference() throws {
        XCTAssertEqual(qf_kernel_path_is_supported("scalar"), 1)
        let paths = FloatKernelPath.supportedNames
        var generator = SeededGenerator(seed: 42)
        for (index, shape) in shapes.enumerated() {
            let a = (0..<(shape.m * shape.k)).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            // Odd shapes get pair-safe weights (|b[2r]| + |b[2r+1]| <= 128), which avx2 multiplies as raw bytes.
            let range: ClosedRange<Int8> = index % 3 == 1 ? -64...64 : .min ... .max
            let b = (0..<(shape.k * shape.n)).map { _ in Int8.random(in: range, using: &generator) }
            let aZero = UInt8.random(in: .min ... .max, using: &generator)
            let bZero: [Int8]? = index % 2 == 0 ? nil : (0..<shape.n).map { _ in Int8.random(in: -128...127, using: &generator) }
            let expected = reference(a, b, shape: shape, aZero: aZero, bZero: bZero)
            for path in paths {
                XCTAssertEqual(try gemm(on: path, a, b, shape: shape, aZero: aZero, bZero: bZero), expected,
                               "path \(path), shape \(shape)")
            }
        }
    }

    /// Float GEMM: every path against a double-precision reference, on shapes that hit the full
    /// 4 x 24 tile, its row and column edges, and shapes smaller than one tile.
    func testEveryFloatPathMatchesADoubleReference() {
        let paths = FloatKernelPath.supportedNames
        var generator = SeededGenerator(seed: 7)
        for shape in shapes + [(m: 8, k: 64, n: 48), (m: 6, k: 31, n: 50), (m: 32, k: 784, n: 256)] {
            let a = (0..<(shape.m * shape.k)).map { _ in Float.random(in: -1...1, using: &generator) }
            let b = (0..<(shape.k * shape.n)).map { _ in Float.random(in: -1...1, using: &generator) }
            let expected = (0..<(shape.m * shape.n)).map { index in
                (0..<shape.k).reduce(0.0) { $0 + Double(a[index / shape.n * shape.k + $1]) * Double(b[$1 * shape.n + index % shape.n]) }
            }
            var packed = [Float](repeating: .nan, count: qf_packed_f32_size(shape.k, shape.n))
            qf_pack_f32(b, shape.n, shape.k, shape.n, &packed)
            for path in paths {
                var c = [Float](repeating: .nan, count: shape.m * shape.n)
                XCTAssertEqual(qf_sgemm_on_path(path, a, shape.k, b, shape.n, &c, shape.n, shape.m, shape.k, shape.n), 1)
                var fromPacked = [Float](repeating: .nan, count: shape.m * shape.n)
                XCTAssertEqual(qf_sgemm_packed_on_path(path, a, shape.k, packed, shape.k, shape.n, &fromPacked, shape.n, shape.m), 1)
                for (name, result) in [("unpacked", c), ("packed", fromPacked)] {
                    let worst = zip(result, expected).map { abs(Double($0) - $1) }.max() ?? 0
                    XCTAssertLessThan(worst, 1e-5 * Double(shape.k), "path \(path) \(name), shape \(shape)")
                }
            }
        }
    }

    func testEnvironmentOverrideChoosesThePath() {
        let chosen = String(cString: qf_kernel_path_name())
        if let requested = ProcessInfo.processInfo.environment["QUANTFLEET_KERNELS"], qf_kernel_path_is_supported(requested) == 1 {
            XCTAssertEqual(chosen, requested)
        } else {
            let best = ["avx512-vnni", "avx2", "scalar"].first { (path: String) in qf_kernel_path_is_supported(path) == 1 }
            XCTAssertEqual(chosen, best)
        }
    }

    private func reference(_ a: [UInt8], _ b: [Int8], shape: (m: Int, k: Int, n: Int), aZero: UInt8, bZero: [Int8]?) -> [Int32] {
        (0..<(shape.m * shape.n)).map { index in
            let row = index / shape.n, column = index % shape.n
            let zb = Int64(bZero?[column] ?? 0)
            let sum = (0..<shape.k).reduce(Int64(0)) { partial, inner in
                partial + (Int64(a[row * shape.k + inner]) - Int64(aZero)) * (Int64(b[inner * shape.n + column]) - zb)
            }
            return Int32(sum)
        }
    }

    private func gemm(on path: String, _ a: [UInt8], _ b: [Int8], shape: (m: Int, k: Int, n: Int),
                      aZero: UInt8, bZero: [Int8]?) throws -> [Int32] {
        var packed = [Int8](repeating: 0, count: qf_packed_s8_size(shape.k, shape.n))
        var sums = [Int32](repeating: 0, count: shape.n)
        let pairsFitInt16 = qf_pack_s8(b, shape.n, shape.k, shape.n, &packed, &sums)
        var c = [Int32](repeating: 0, count: shape.m * shape.n)
        let ran = packed.withUnsafeBufferPointer { packedData in
            sums.withUnsafeBufferPointer { sumData in
                var view = qf_packed_s8(
                    data: packedData.baseAddress, column_sums: sumData.baseAddress, k: shape.k, n: shape.n, pairs_fit_int16: pairsFitInt16)
                guard let bZero else { return qf_gemm_u8s8_on_path(path, a, shape.k, shape.m, aZero, &view, nil, &c, shape.n) }
                return qf_gemm_u8s8_on_path(path, a, shape.k, shape.m, aZero, &view, bZero, &c, shape.n)
            }
        }
        XCTAssertEqual(ran, 1)
        return c
    }
}

/// A session can run its float products on a named path: the agent's noise floor compares the
/// reference with itself on another kernel path.
final class SessionKernelPathTests: XCTestCase {
    func testTheScalarPathRoundsDifferentlyButCloselyAndAnUnknownPathIsRefused() throws {
        let pixels = try TestSupport.trafficPixels(rows: 32)
        let chosen = try XCTUnwrap(InferenceSession(contentsOf: TestSupport.fp32Model).run(["pixels": pixels])["probabilities"]).floats
        let scalar = try XCTUnwrap(
            InferenceSession(contentsOf: TestSupport.fp32Model, floatKernelPath: "scalar").run(["pixels": pixels])["probabilities"]).floats
        let worst = zip(chosen, scalar).map { abs($0 - $1) }.max() ?? 1
        XCTAssertLessThan(worst, 1e-5)
        if qf_kernel_path_is_supported("avx2") == 1 {
            XCTAssertGreaterThan(worst, 0, "FMA rounds once, the scalar path twice: some output differs in the last bits")
        }
        XCTAssertThrowsError(try InferenceSession(contentsOf: TestSupport.fp32Model, floatKernelPath: "vnni")) {
            XCTAssertEqual("\($0)", "kernel path 'vnni' cannot run on this CPU (or does not exist): use \(FloatKernelPath.supportedNames.joined(separator: ", "))")
        }
    }
}
