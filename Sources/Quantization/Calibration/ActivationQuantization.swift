/// uint8 asymmetric quantization of a float range stretched to contain zero (so zero, ReLU's
/// floor and padding, is exact): scale = (upper - lower) / 255, zero point = round(-lower / scale).
struct ActivationQuantization: Equatable {
    let scale: Float
    let zeroPoint: UInt8

    init(range: ClosedRange<Float>) {
        let lower = min(range.lowerBound, 0), upper = max(range.upperBound, 0)
        guard upper > lower else {
            scale = 1
            zeroPoint = 0
            return
        }
        scale = (upper - lower) / 255
        zeroPoint = UInt8(min(max((-lower / scale).rounded(.toNearestOrEven), 0), 255))
    }

    /// `value` after QuantizeLinear then DequantizeLinear.
    func roundTrip(_ value: Float) -> Float {
        let level = min(max((value / scale).rounded(.toNearestOrEven) + Float(zeroPoint), 0), 255)
        return (level - Float(zeroPoint)) * scale
    }
}
