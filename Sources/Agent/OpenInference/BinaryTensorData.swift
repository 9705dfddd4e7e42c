import Foundation
import Inference

/// One tensor's bytes in the binary tensor data extension: elements little-endian, row-major,
/// without padding, BOOL one byte each; BYTES as each element's length (4 bytes, little-endian)
/// followed by its bytes.
enum BinaryTensorData {
    /// The tensor of `shape` and element `type` in `bytes`; refused with what does not fit.
    static func tensor(named name: String, shape: [Int], type: ElementType, datatype: String, bytes: Data) throws -> Tensor {
        let count = shape.reduce(1, *)
        if type == .string {
            return Tensor(shape: shape, strings: try strings(named: name, shape: shape, from: bytes))
        }
        let needed = Tensor.packedByteCount(of: type, count: count)!
        guard bytes.count == needed else {
            throw InferenceRequestError(
                description: "input '\(name)': binary_data_size \(bytes.count) does not fit shape \(shape) of \(datatype), which takes \(needed) bytes")
        }
        return bytes.withUnsafeBytes { Tensor(shape: shape, type: type, littleEndianBytes: $0)! }
    }

    /// The bytes of `tensor`, whose element type must be one an OIP datatype names.
    static func bytes(of tensor: Tensor) -> Data {
        if let bytes = tensor.littleEndianBytes { return bytes }
        var data = Data()
        for text in tensor.strings! {
            let utf8 = Data(text.utf8)
            withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { data.append(contentsOf: $0) }
            data.append(utf8)
        }
        return data
    }

    private static func strings(named name: String, shape: [Int], from bytes: Data) throws -> [String] {
        let count = shape.reduce(1, *)
        var strings: [String] = []
        strings.reserveCapacity(count)
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            guard bytes.endIndex - offset >= 4 else {
                throw InferenceRequestError(
                    description: "input '\(name)': BYTES element \(strings.count) has \(bytes.endIndex - offset) bytes left for its 4-byte length")
            }
            let length = bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | Int($1) }
            offset += 4
            guard length <= bytes.endIndex - offset else {
                throw InferenceRequestError(
                    description: "input '\(name)': BYTES element \(strings.count) says \(length) bytes, only \(bytes.endIndex - offset) remain")
            }
            guard let text = String(validating: bytes[offset..<offset + length], as: UTF8.self) else {
                throw InferenceRequestError(
                    description: "input '\(name)': BYTES element \(strings.count) is not UTF-8, and the engine's strings are text")
            }
            strings.append(text)
            offset += length
        }
        guard strings.count == count else {
            throw InferenceRequestError(description: "input '\(name)': shape \(shape) needs \(count) BYTES elements, the binary data holds \(strings.count)")
        }
        return strings
    }
}
