import ArgumentParser
import Foundation
import Quantization

extension QuantizationScheme: ExpressibleByArgument {}

/// `quantfleet quantize MODEL -o OUT --scheme int8-dynamic`
public struct QuantizeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize an FP32 or FP16 ONNX model into a standard ONNX file that onnxruntime also runs.")

    @Argument(help: "The ONNX model to quantize.")
    var model: String

    @Option(name: [.short, .customLong("output")], help: "Where to write the quantized model.")
    var output: String

    @Option(help: "The quantization scheme.")
    var scheme: QuantizationScheme

    public init() {}

    public func run() async throws {
        let report = try ModelQuantizer.quantize(
            modelAt: URL(fileURLWithPath: model), to: URL(fileURLWithPath: output), scheme: scheme)
        let quantized = report.quantizedNodes.isEmpty ? "none" : report.quantizedNodes.joined(separator: ", ")
        print("scheme:    \(report.scheme.rawValue)\(report.widenedFromFloat16 ? " (FP16 input widened to FP32 first)" : "")")
        print("quantized: \(report.quantizedNodes.count) node(s): \(quantized)")
        for skipped in report.skippedNodes {
            print("skipped:   \(skipped.name) (\(skipped.opType)): \(skipped.reason)")
        }
        let ratio = report.bytesBefore > 0 ? Double(report.bytesAfter) / Double(report.bytesBefore) * 100 : 0
        print("size:      \(report.bytesBefore) -> \(report.bytesAfter) bytes (\(String(format: "%.1f", ratio)) %)")
        print("written:   \(output)")
    }
}
