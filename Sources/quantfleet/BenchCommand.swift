import ArgumentParser
import CHeapRetention
import Foundation
import Inference

/// `quantfleet bench MODEL [--data IN.npz] [--threads N] [--batch N] [--json]`
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure a model's latency per run: warm-up runs, then the median and 99th percentile.",
        discussion: """
            Inputs are the first --batch rows of each array in --data, or, without --data, deterministic \
            values in [0, 1) shaped by the model's inputs (a dynamic leading dimension becomes --batch).
            """)

    @Argument(help: "The ONNX model to measure.")
    var model: String

    @Option(help: "An .npz file with one array per model input (leading batch axis).")
    var data: String?

    @Option(help: "Rows per run.")
    var batch = 1

    @Option(help: "Threads one run may use (intra-op: matrix products and convolutions are shared out).")
    var threads = 1

    @Option(help: "Runs before measuring.")
    var warmup = 10

    @Option(help: "Measured runs.")
    var iterations = 100

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Flag(help: "Also time every node and print the time per operator type (adds a clock read per node).")
    var profile = false

    func validate() throws {
        guard batch > 0, threads > 0, warmup >= 0, iterations > 0 else {
            throw ValidationError("--batch, --threads and --iterations must be positive, --warmup not negative")
        }
    }

    func run() async throws {
        let session = try InferenceSession(contentsOf: URL(fileURLWithPath: model), threads: threads)
        let feeds = try data.map { try session.feeds(from: NPZ.read(contentsOf: URL(fileURLWithPath: $0))).mapValues { try $0.leadingRows(batch) } }
            ?? Self.syntheticFeeds(for: session.inputs, batch: batch)
        for _ in 0..<warmup {
            _ = try session.run(feeds)
        }
        let clock = ContinuousClock()
        var latencies: [Double] = []
        var operatorProfile = OperatorProfile()
        for _ in 0..<iterations {
            let elapsed = try clock.measure {
                _ = profile ? try session.run(feeds, profile: &operatorProfile) : try session.run(feeds)
            }
            latencies.append(elapsed.milliseconds)
        }
        let report = BenchReport(model: model, batch: batch, threads: threads, iterations: iterations,
                                 latenciesMilliseconds: latencies, kernelPath: session.kernelPath,
                                 heapRetention: qf_heap_retention_applied() == 1,
                                 operators: profile ? operatorProfile.entries.map { OperatorTime($0, runs: iterations) } : nil)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("model:       \(model) (batch \(batch), \(iterations) runs after \(warmup) warm-up)")
            print("threads:     \(threads)")
            print("median:      \(String(format: "%.3f", report.medianMilliseconds)) ms")
            print("p99:         \(String(format: "%.3f", report.p99Milliseconds)) ms")
            print("kernel path: \(report.kernelPath)")
            print("heap:        freed memory \(report.heapRetention ? "kept for the next run" : "returned to the system")")
            if let operators = report.operators {
                let total = operators.reduce(0) { $0 + $1.millisecondsPerRun }
                print("\nop type                         nodes   ms/run   share")
                for entry in operators {
                    print(entry.opType.padding(toLength: 30, withPad: " ", startingAt: 0)
                          + String(format: " %6d %8.3f  %5.1f %%", entry.nodes, entry.millisecondsPerRun,
                                   100 * entry.millisecondsPerRun / max(total, .leastNonzeroMagnitude)))
                }
            }
        }
    }

    /// Deterministic values in [0, 1) converted to each input's type, for models benchmarked without data.
    private static func syntheticFeeds(for inputs: [TensorInfo], batch: Int) throws -> [String: Tensor] {
        var feeds: [String: Tensor] = [:]
        for input in inputs {
            let shape = try input.shape.enumerated().map { axis, size -> Int in
                if let size { return size }
                guard axis == 0 else {
                    throw ValidationError("input '\(input.name)' has a dynamic dimension at axis \(axis); pass --data to fix its size")
                }
                return batch
            }
            let count = shape.reduce(1, *)
            let values = (0..<count).map { Float(($0 * 7919) % 1000) / 1000 }
            feeds[input.name] = try Tensor(shape: shape, floats: values).converted(to: input.elementType)
        }
        return feeds
    }
}

/// What `bench --json` prints; latencies in milliseconds.
struct BenchReport: Encodable {
    let model: String
    let batch: Int
    let threads: Int
    let iterations: Int
    let medianMilliseconds: Double
    let p99Milliseconds: Double
    let meanMilliseconds: Double
    let kernelPath: String
    /// Whether freed memory stays in the heap between runs (CHeapRetention, linked by this program).
    let heapRetention: Bool
    /// With --profile: time per operator type, the most expensive first.
    let operators: [OperatorTime]?

    init(model: String, batch: Int, threads: Int, iterations: Int, latenciesMilliseconds: [Double], kernelPath: String,
         heapRetention: Bool, operators: [OperatorTime]? = nil) {
        let sorted = latenciesMilliseconds.sorted()
        self.model = model
        self.batch = batch
        self.threads = threads
        self.iterations = iterations
        medianMilliseconds = sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        // Nearest-rank percentile: the smallest latency at or above 99 % of the runs.
        p99Milliseconds = sorted[min(sorted.count - 1, Int((0.99 * Double(sorted.count)).rounded(.up)) - 1)]
        meanMilliseconds = sorted.reduce(0, +) / Double(sorted.count)
        self.kernelPath = kernelPath
        self.heapRetention = heapRetention
        self.operators = operators
    }

    enum CodingKeys: String, CodingKey {
        case model, batch, threads, iterations
        case medianMilliseconds = "median_ms"
        case p99Milliseconds = "p99_ms"
        case meanMilliseconds = "mean_ms"
        case kernelPath = "kernel_path"
        case heapRetention = "heap_retention"
        case operators
    }
}

/// One operator type's share of `bench --profile`.
struct OperatorTime: Encodable {
    let opType: String
    let nodes: Int
    let millisecondsPerRun: Double

    init(_ entry: OperatorProfile.Entry, runs: Int) {
        opType = entry.opType
        nodes = entry.nodes
        millisecondsPerRun = entry.total.milliseconds / Double(runs)
    }

    enum CodingKeys: String, CodingKey {
        case opType = "op_type"
        case nodes
        case millisecondsPerRun = "ms_per_run"
    }
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1e3 + Double(components.attoseconds) / 1e15 }
}
