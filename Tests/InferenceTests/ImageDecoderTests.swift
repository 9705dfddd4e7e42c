import Foundation
import Inference
import XCTest

/// ImageDecoder refuses bytes it cannot decode with an error that names the problem, instead of
/// crashing or returning an empty image.
final class ImageDecoderTests: XCTestCase {
    /// An 8×8 baseline JPEG (Pillow, quality 50) that decodes whole.
    private static let jpeg = Data(base64Encoded: [
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeX",
        "BkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAI",
        "AAgDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhBy",
        "JxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKT",
        "lJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAA",
        "AAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRom",
        "JygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExc",
        "bHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwCIW9mn7qG2023mR8OJ7oPjHUYG0g5ooopiP//Z",
    ].joined())!

    func testTheWholeJPEGDecodesToRGB() throws {
        let image = try decode(Self.jpeg)
        XCTAssertEqual(image.shape, [8, 8, 3])
    }

    func testATruncatedJPEGIsRefusedAsTruncated() {
        XCTAssertThrowsError(try decode(Self.jpeg.prefix(Self.jpeg.count / 2))) { error in
            XCTAssertTrue("\(error)".contains("the JPEG data is corrupt or truncated"), "\(error)")
        }
    }

    func testBytesThatAreNoImageAreRefusedAsAnUnknownFormat() {
        XCTAssertThrowsError(try decode(Data("this is plain text, not an image".utf8))) { error in
            XCTAssertTrue("\(error)".contains("not a BMP, JPEG, JPEG 2000, PNG, PNM, TIFF or WebP image"), "\(error)")
        }
    }

    private func decode(_ bytes: Data) throws -> Tensor {
        var builder = ONNXModelBuilder()
        builder.opsets = ["": 20]
        builder.inputs = [TensorInfo(name: "encoded", elementType: .uint8, shape: [nil])]
        builder.outputs = [TensorInfo(name: "image", elementType: .uint8, shape: [nil, nil, 3])]
        builder.addNode("ImageDecoder", name: "decode", inputs: ["encoded"], outputs: ["image"])
        let session = try InferenceSession(modelData: builder.serialized())
        let encoded = Tensor(shape: [bytes.count], uint8s: Array(bytes))
        let results = try session.run(["encoded": encoded])
        return try XCTUnwrap(results["image"])
    }
}
