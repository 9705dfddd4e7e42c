import CQuantKernels
import Foundation
import XCTest

/// The C kernels' own tests (Tools/test-c-kernels.sh, Tests/CKernels): every path this CPU runs, and
/// the arm64 paths, cross-compiled and run under qemu-user on a CPU with the dot-product extension
/// and on one without, so no path ships untested because this machine is x86.
final class CrossArchitectureKernelTests: XCTestCase {
    private let kernels = ["gemm_u8s8", "sgemm", "sgemm_packed", "range_f32", "quantize_u8"]

    func testEveryNativePathPasses() throws {
        let paths = ["avx512-vnni", "avx2", "neon-dotprod", "neon", "scalar"].filter { (path: String) in qf_kernel_path_is_supported(path) == 1 }
        try assertEveryKernelPasses(mode: "native", on: paths)
    }

    func testBothArm64PathsPassUnderEmulation() throws {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        let missing = ["aarch64-linux-gnu-gcc", "qemu-aarch64"].filter { tool in
            !directories.contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
        }
        if !missing.isEmpty {
            let message = "\(missing.joined(separator: " and ")) not on PATH: Tools/install-dependencies.sh --test-oracles installs them"
            // CI installs them, and a skipped check there would prove nothing.
            guard ProcessInfo.processInfo.environment["CI"] != nil else { throw XCTSkip(message) }
            XCTFail(message)
            return
        }
        try assertEveryKernelPasses(mode: "aarch64", on: ["neon-dotprod", "neon", "scalar"])
    }

    private func assertEveryKernelPasses(mode: String, on paths: [String]) throws {
        let process = Process()
        process.executableURL = TestSupport.packageRoot.appendingPathComponent("Tools/test-c-kernels.sh")
        process.arguments = [mode]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, output)
        for path in paths {
            for kernel in kernels {
                XCTAssertTrue(output.contains("PASS \(path) \(kernel) ("), "\(mode): no PASS for \(path) \(kernel) in\n\(output)")
            }
        }
    }
}
