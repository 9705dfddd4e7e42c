import Foundation
import Inference

/// Symmetric int4 quantization of a 2-D weight in blocks of `blockSize` consecutive elements along
/// `blockAxis`, one scale per block (and per position on the other axis): scale = max |w| / 7,
/// q = round_half_even(w / scale) in [-7, 7], zero point 0. This is the layout of opset-21
/// DequantizeLinear with `block_size`: the scale tensor has the weight's shape with the blocked
/// dimension divided by the block size, rounded up.
struct SymmetricInt4BlockQuantization {
    let values: [Int8]
    let scales: [Float]
    let scaleShape: [Int]
    /// `values` times their block scales: what DequantizeLinear gives back.
    let dequantized: [Float]

    init(_ weights: [Float], shape: [Int], blockAxis: Int, blockSize: Int) {
        precondition(shape.count == 2 && (blockAxis == 0 || blockAxis == 1), "int4 blocks need a 2-D weight, got \(shape)")
        precondition(weights.count == shape[0] * shape[1], "weights hold \(weights.count) values, not shape \(shape)")
        var scaleShape = shape
        scaleShape[blockAxis] = (shape[blockAxis] + blockSize - 1) / blockSize
        let columns = shape[1], scaleColumns = scaleShape[1]
        let scaleIndex = { (index: Int) in
            let row = index / columns, column = index % columns
            return blockAxis == 0 ? (row / blockSize) * scaleColumns + column : row * scaleColumns + column / blockSize
        }
        var largest = [Float](repeating: 0, count: scaleShape[0] * scaleShape[1])
        for index in weights.indices {
            largest[scaleIndex(index)] = max(largest[scaleIndex(index)], abs(weights[index]))
        }
        let scales = largest.map { $0 > 0 ? $0 / 7 : 1 }
        self.scales = scales
        self.scaleShape = scaleShape
        let values = weights.indices.map { index in
            let scaled = (weights[index] / scales[scaleIndex(index)]).rounded(.toNearestOrEven)
            return scaled.isNaN ? 0 : Int8(min(max(scaled, -7), 7))
        }
        self.values = values
        dequantized = values.indices.map { Float(values[$0]) * scales[scaleIndex($0)] }
    }

    /// The values as an ONNX INT4 initializer: two per byte, the first in the low nibble.
    func onnxTensor(named name: String, shape: [Int]) -> Onnx_TensorProto {
        var packed = [UInt8](repeating: 0, count: (values.count + 1) / 2)
        for (index, value) in values.enumerated() {
            let nibble = UInt8(bitPattern: value) & 0x0F
            packed[index / 2] |= index % 2 == 0 ? nibble : nibble << 4
        }
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = shape.map { Int64($0) }
        proto.dataType = Self.onnxInt4DataType
        proto.rawData = Data(packed)
        return proto
    }

    /// `TensorProto.DataType.INT4` (IR version 10, opset 21).
    static let onnxInt4DataType: Int32 = 22
}
