@testable import Inference
import XCTest

final class RunArenaTests: XCTestCase {
    func testTakesTheSmallestShelvedBufferThatFitsResizedToTheRequest() throws {
        let arena = RunArena()
        let large = [Float](repeating: 1, count: 100), small = [Float](repeating: 2, count: 50)
        let smallAddress = small.withUnsafeBufferPointer { $0.baseAddress }
        arena.recycle(large)
        arena.recycle(small)
        let taken = try XCTUnwrap(arena.take(Float.self, count: 60))
        XCTAssertEqual(taken.count, 60)
        XCTAssertNotEqual(taken.withUnsafeBufferPointer { $0.baseAddress }, smallAddress, "50 elements cannot hold 60")
        let again = try XCTUnwrap(arena.take(Float.self, count: 40))
        XCTAssertEqual(again.count, 40)
        XCTAssertNil(arena.take(Float.self, count: 10), "both buffers are out")
        XCTAssertNil(arena.take(Int32.self, count: 10), "buffers are shelved by element type")
    }

    func testABufferNoRunTookIsFreedAfterAWholeRun() {
        let arena = RunArena()
        arena.recycle([Int8](repeating: 0, count: 64))
        arena.endRun()  // shelved during this run: kept for the next
        XCTAssertNotNil(arena.take(Int8.self, count: 64))
        arena.recycle([Int8](repeating: 0, count: 64))
        arena.endRun()
        arena.endRun()  // a whole run passed without it
        XCTAssertNil(arena.take(Int8.self, count: 64))
    }

    func testOutsideARunBuffersComeFromTheHeap() {
        XCTAssertNil(RunArena.current)
        let values = [Float](recycledCapacity: 8) { buffer, written in
            buffer.initialize(repeating: 3)
            written = 8
        }
        XCTAssertEqual(values, Array(repeating: 3, count: 8))
    }

    /// `r` dies after its readers while the graph output `y` is still a view of its buffer: the
    /// recycled buffer must be copied before anyone writes into it, so outputs a caller keeps from
    /// one run never change in the next.
    func testOutputsKeptFromOneRunSurviveTheNextRunsRecycling() throws {
        var builder = ONNXModelBuilder()
        builder.inputs = [TensorInfo(name: "x", elementType: .float32, shape: [2, 3])]
        builder.outputs = [TensorInfo(name: "y", elementType: .float32, shape: [6]),
                           TensorInfo(name: "z", elementType: .float32, shape: [2, 3])]
        builder.initializers["flat"] = Tensor(shape: [1], int64s: [6])
        builder.addNode("Relu", name: "relu", inputs: ["x"], outputs: ["r"])
        builder.addNode("Reshape", name: "flatten", inputs: ["r", "flat"], outputs: ["y"])
        builder.addNode("Neg", name: "negate", inputs: ["r"], outputs: ["s"])
        builder.addNode("Add", name: "double", inputs: ["s", "s"], outputs: ["z"])
        let session = try InferenceSession(modelData: builder.serialized())

        let first = try session.run(["x": Tensor(shape: [2, 3], floats: [1, -2, 3, -4, 5, -6])])
        for round in 1...3 {
            let later = try session.run(["x": Tensor(shape: [2, 3], floats: Array(repeating: Float(10 * round), count: 6))])
            XCTAssertEqual(later["z"]?.floats, Array(repeating: Float(-20 * round), count: 6))
            XCTAssertEqual(later["y"]?.floats, Array(repeating: Float(10 * round), count: 6))
        }
        XCTAssertEqual(first["y"]?.floats, [1, 0, 3, 0, 5, 0])
        XCTAssertEqual(first["z"]?.floats, [-2, 0, -6, 0, -10, 0])
    }

    func testAViewsBufferGoesBackOnlyOnceTheViewAndItsSourceAreDead() throws {
        var builder = ONNXModelBuilder()
        builder.inputs = [TensorInfo(name: "x", elementType: .float32, shape: [2, 3])]
        builder.outputs = [TensorInfo(name: "z", elementType: .float32, shape: [6])]
        builder.initializers["flat"] = Tensor(shape: [1], int64s: [6])
        builder.addNode("Relu", name: "relu", inputs: ["x"], outputs: ["r"])
        builder.addNode("Reshape", name: "flatten", inputs: ["r", "flat"], outputs: ["v"])
        builder.addNode("Neg", name: "negate", inputs: ["v"], outputs: ["w"])
        builder.addNode("Add", name: "double", inputs: ["w", "w"], outputs: ["z"])
        let plan = try ExecutionPlan(ONNXModelDecoder.decode(builder.serialized()))
        let steps = Dictionary(uniqueKeysWithValues: plan.steps.map { ($0.node, $0) })
        let (x, r, v, w) = (steps["relu"]!.inputSlots[0]!, steps["flatten"]!.inputSlots[0]!,
                            steps["negate"]!.inputSlots[0]!, steps["double"]!.inputSlots[0]!)
        XCTAssertEqual(steps["relu"]!.releasedSlots, [x], "the caller's feed is dropped, never recycled")
        XCTAssertEqual(steps["flatten"]!.releasedSlots, [r], "r dies while its view v lives: dropped")
        XCTAssertEqual(steps["flatten"]!.recycledSlots, [])
        XCTAssertEqual(steps["negate"]!.recycledSlots, [v], "the view dies last and hands the buffer back")
        XCTAssertEqual(steps["double"]!.recycledSlots, [w])
        let z = try InferenceSession(modelData: builder.serialized()).run(["x": Tensor(shape: [2, 3], floats: [1, -2, 3, -4, 5, -6])])["z"]
        XCTAssertEqual(z?.floats, [-2, 0, -6, 0, -10, 0])
    }

    func testRepeatedRunsOfARealModelGiveTheSameOutputs() throws {
        let session = try InferenceSession(contentsOf: TestSupport.fp32Model)
        let pixels = try TestSupport.trafficPixels(rows: 8)
        let reference = try session.run(["pixels": pixels])
        for _ in 0..<3 {
            XCTAssertEqual(try session.run(["pixels": pixels]), reference)
        }
        let other = try TestSupport.trafficPixels(rows: 3)  // another shape between runs
        _ = try session.run(["pixels": other])
        XCTAssertEqual(try session.run(["pixels": pixels]), reference)
    }
}
