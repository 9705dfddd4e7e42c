@testable import Inference
import XCTest

final class RunArenaTests: XCTestCase {
    /// A run's requests as operators make them: a buffer from the arena or, failing that, the heap.
    private func request(_ arena: RunArena, _ count: Int) -> [Float] {
        let (recycled, request) = arena.take(Float.self, count: count)
        let elements = recycled ?? [Float](repeating: 0, count: count)
        arena.served(request, by: elements)
        XCTAssertEqual(elements.count, count)
        return elements
    }

    private func address(_ elements: [Float]) -> UnsafePointer<Float>? {
        elements.withUnsafeBufferPointer { $0.baseAddress }
    }

    /// a (100) dies before c (80) is made, while b (50) lives across both: two buffers, 150 elements.
    /// Like the executor, the run gives a buffer back with its last reference, so the arena can
    /// resize it without a copy.
    private func runABC(_ arena: RunArena) -> (a: UnsafePointer<Float>?, b: UnsafePointer<Float>?, c: UnsafePointer<Float>?) {
        var a = Optional(request(arena, 100)), b = Optional(request(arena, 50))
        let addresses = (a: address(a!), b: address(b!))
        arena.recycle(a.take()!)
        var c = Optional(request(arena, 80))
        let cAddress = address(c!)
        arena.recycle(b.take()!)
        arena.recycle(c.take()!)
        arena.endRun()
        return (addresses.a, addresses.b, cAddress)
    }

    func testARunAtSeenShapesTakesTheBuffersItsPlanGivesAndNoOthers() {
        let arena = RunArena()
        let first = runABC(arena)
        XCTAssertEqual(first.c, first.a, "off any plan, c takes a's buffer by best fit")
        for _ in 0..<3 {
            let later = runABC(arena)
            XCTAssertEqual(later.a, first.a)
            XCTAssertEqual(later.b, first.b)
            XCTAssertEqual(later.c, first.a, "planned into a's buffer: their lifetimes do not overlap")
        }
    }

    func testARunThatLeavesThePlanTakesTheBestFittingBufferAndBecomesThePlan() {
        let arena = RunArena()
        _ = runABC(arena)
        var a = Optional(request(arena, 100)), b = Optional(request(arena, 50))
        let (aAddress, bAddress) = (address(a!), address(b!))
        arena.recycle(a.take()!)
        arena.recycle(b.take()!)
        var wider = Optional(request(arena, 60))  // the plan says 80 here
        XCTAssertEqual(address(wider!), aAddress, "the smallest spare that holds 60 elements: 50 cannot")
        var smaller = Optional(request(arena, 40))
        XCTAssertEqual(address(smaller!), bAddress)
        XCTAssertNil(arena.take(Float.self, count: 10).elements, "both buffers are out")
        XCTAssertNil(arena.take(Int32.self, count: 10).elements, "buffers are kept by element type")
        arena.recycle(wider.take()!)
        arena.recycle(smaller.take()!)
        arena.endRun()
        // The new plan is this run's: its two buffers serve the next run's 100 and 50 again.
        let again = (request(arena, 100), request(arena, 50))
        XCTAssertEqual(address(again.0), aAddress)
        XCTAssertEqual(address(again.1), bAddress)
    }

    func testSparesThePlanHasNoBufferForAreFreedWhenTheRunEnds() {
        let arena = RunArena()
        arena.recycle([Int32](repeating: 0, count: 64))  // made on the heap: a spare of this run
        XCTAssertNotNil(arena.take(Int32.self, count: 64).elements, "taken back within the run")
        arena.recycle([Int32](repeating: 0, count: 64))
        arena.endRun()  // the one request never came back: the plan has no buffer for it
        XCTAssertNil(arena.take(Int32.self, count: 64).elements)
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
