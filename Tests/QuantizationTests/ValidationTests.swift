import Foundation
import Inference
import Quantization
import XCTest

/// The offline pipeline: validate runs a model over labelled rows, compare pairs two runs.
final class ValidationTests: XCTestCase {
    func testValidateRecordsOutputsLabelsAndAccuracyOfTheFashionModel() throws {
        let directory = try QuantizationFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("rows.npz")
        let (pixels, labels) = try QuantizationFixtures.fashionRows(0..<400)
        try NPZ.write(["pixels": pixels, "label": Tensor(shape: [400], int64s: labels)], to: data)

        let results = try ModelValidator.validate(modelAt: QuantizationFixtures.fashionModel, dataAt: data)
        XCTAssertEqual(results.output, "probabilities")
        XCTAssertEqual(results.task, .classification)
        XCTAssertEqual(results.outputs.count, 400)
        XCTAssertEqual(results.outputs.first?.count, 10)
        let expected = Double(zip(results.predictedClasses, labels).filter { Int64($0) == $1 }.count) / 400
        XCTAssertEqual(results.metrics.accuracy, expected)
        XCTAssertGreaterThan(expected, 0.8)

        let decoded = try JSONDecoder().decode(ValidationResults.self, from: JSONEncoder().encode(results))
        XCTAssertEqual(decoded, results)
    }

    func testValidateScoresTheRegressionModelWithRSquared() throws {
        let results = try ModelValidator.validate(modelAt: QuantizationFixtures.diabetesModel, dataAt: QuantizationFixtures.diabetesTest)
        XCTAssertEqual(results.task, .regression)
        XCTAssertEqual(try XCTUnwrap(results.metrics.rSquared), 0.48, accuracy: 0.01)
    }

    func testComparePairsSamplesAndRanksClassesByDrop() throws {
        func results(_ classes: [Int]) -> ValidationResults {
            ValidationResults(
                model: "m", data: "d", output: "scores", task: .classification,
                outputs: classes.map { winner in (0..<3).map { $0 == winner ? 1 : 0 } },
                labels: [0, 0, 1, 1, 2, 2], metrics: .init())
        }
        let comparison = try ResultComparison(reference: results([0, 0, 1, 1, 2, 0]), candidate: results([0, 1, 1, 1, 2, 2]))
        XCTAssertEqual(comparison.samples, 6)
        XCTAssertEqual(comparison.disagreements, 2)
        XCTAssertEqual(comparison.referenceCorrect, 5)
        XCTAssertEqual(comparison.candidateCorrect, 5)
        XCTAssertEqual(comparison.referenceOnlyCorrect, 1)
        XCTAssertEqual(comparison.candidateOnlyCorrect, 1)
        XCTAssertEqual(comparison.classes.first?.label, 0, "class 0 loses a sample")
        XCTAssertEqual(comparison.classes.first?.drop, 0.5)

        var shorter = results([0, 0, 1, 1, 2, 2])
        shorter.outputs.removeLast()
        XCTAssertThrowsError(try ResultComparison(reference: results([0, 0, 1, 1, 2, 2]), candidate: shorter)) { error in
            XCTAssertTrue(String(describing: error).contains("different data"))
        }
    }
}

/// Accuracy-aware quantization: layers return to float until the drop goal holds.
final class AccuracyAwareTests: XCTestCase {
    func testANearZeroDropGoalReturnsTheMostHarmfulLayersToFloatAndWritesTheRecipe() throws {
        let directory = try QuantizationFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let calibration = directory.appendingPathComponent("calibration.npz")
        let validation = directory.appendingPathComponent("validation.npz")
        try NPZ.write(["pixels": QuantizationFixtures.fashionRows(0..<200).pixels], to: calibration)
        try NPZ.write(["pixels": QuantizationFixtures.fashionRows(200..<500).pixels], to: validation)
        let output = directory.appendingPathComponent("out.onnx")
        let options = QuantizationOptions(scheme: .int8Static, calibration: calibration)

        let (report, recipe) = try AccuracyAwareQuantizer.quantize(
            modelAt: QuantizationFixtures.fashionModel, to: output, options: options,
            goal: AccuracyGoal(metric: .cosine, maxDrop: 1e-6, validation: validation))
        XCTAssertLessThan(recipe.drop, 1e-6, "only float output meets a near-zero drop in cosine")
        XCTAssertEqual(Set(recipe.floatLayers), ["MatMul", "MatMul1", "MatMul2"])
        XCTAssertEqual(Set(recipe.sensitivity.keys), ["MatMul", "MatMul1", "MatMul2"])
        XCTAssertEqual(report.quantizedNodes, [])
        let written = try JSONDecoder().decode(
            AccuracyAwareQuantizer.Recipe.self, from: Data(contentsOf: output.appendingPathExtension("recipe.json")))
        XCTAssertEqual(written, recipe)

        let (_, relaxed) = try AccuracyAwareQuantizer.quantize(
            modelAt: QuantizationFixtures.fashionModel, to: output, options: options,
            goal: AccuracyGoal(metric: .top1, maxDrop: 0.05, validation: validation))
        XCTAssertEqual(relaxed.floatLayers, [], "a 5 % top-1 goal holds with every layer quantized")
    }
}
