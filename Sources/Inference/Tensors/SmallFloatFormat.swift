import Foundation

/// The 8- and 4-bit floating-point formats ONNX defines (float8 e4m3fn, e4m3fnuz, e5m2, e5m2fnuz,
/// e8m0 and float4 e2m1). Tensors hold their values in FP32, each exactly representable; this type
/// rounds FP32 values into a format (to nearest, ties to even, as ml_dtypes and onnxruntime do) and
/// converts between values and the bit codes files carry.
public enum SmallFloatFormat: String, Sendable, CaseIterable {
    case e4m3fn, e4m3fnuz, e5m2, e5m2fnuz, e8m0, e2m1

    var exponentBits: Int {
        switch self {
        case .e4m3fn, .e4m3fnuz: 4
        case .e5m2, .e5m2fnuz: 5
        case .e8m0: 8
        case .e2m1: 2
        }
    }

    var mantissaBits: Int {
        switch self {
        case .e4m3fn, .e4m3fnuz: 3
        case .e5m2, .e5m2fnuz: 2
        case .e8m0: 0
        case .e2m1: 1
        }
    }

    var bias: Int {
        switch self {
        case .e4m3fn: 7
        case .e4m3fnuz: 8
        case .e5m2: 15
        case .e5m2fnuz: 16
        case .e8m0: 127
        case .e2m1: 1
        }
    }

    var bitWidth: Int { self == .e2m1 ? 4 : 8 }
    /// e8m0 is a scale: no sign bit.
    private var isSigned: Bool { self != .e8m0 }
    /// The "uz" formats have no negative zero; their one NaN is the code negative zero would have.
    private var hasNegativeZero: Bool { self != .e4m3fnuz && self != .e5m2fnuz }
    private var hasInfinity: Bool { self == .e5m2 }
    private var hasNaN: Bool { self != .e2m1 }

    /// The value of a code (NaN for the NaN codes).
    func value(ofCode code: UInt8) -> Float {
        let magnitudeBits = exponentBits + mantissaBits
        let negative = isSigned && (code >> magnitudeBits) & 1 == 1
        let exponent = Int(code >> mantissaBits) & ((1 << exponentBits) - 1)
        let mantissa = Int(code) & ((1 << mantissaBits) - 1)
        switch self {
        case .e4m3fn where exponent == 15 && mantissa == 7, .e8m0 where code == 0xFF: return .nan
        case .e4m3fnuz, .e5m2fnuz: if code == 0x80 { return .nan }
        case .e5m2 where exponent == 31: return mantissa == 0 ? (negative ? -.infinity : .infinity) : .nan
        default: break
        }
        let magnitude: Float = self == .e8m0 ? Foundation.pow(2, Float(exponent - bias))
            : exponent == 0 ? Float(mantissa) * Foundation.pow(2, Float(1 - bias - mantissaBits))
            : (1 + Float(mantissa) / Float(1 << mantissaBits)) * Foundation.pow(2, Float(exponent - bias))
        return negative ? -magnitude : magnitude
    }

    /// The finite non-negative values by ascending value, with their codes.
    private var finiteMagnitudes: [(value: Float, code: UInt8)] {
        let codes = (0..<(1 << (bitWidth - (isSigned ? 1 : 0)))).map { UInt8($0) }
        return codes.map { (value(ofCode: $0), $0) }.filter { $0.value.isFinite }.sorted { $0.value < $1.value }
    }

    private static let magnitudeTables: [SmallFloatFormat: [(value: Float, code: UInt8)]] =
        Dictionary(uniqueKeysWithValues: allCases.map { ($0, $0.finiteMagnitudes) })

    private static let magnitudeCodes: [SmallFloatFormat: [UInt32: UInt8]] = magnitudeTables.mapValues { table in
        Dictionary(table.map { ($0.value.bitPattern, $0.code) }, uniquingKeysWith: { first, _ in first })
    }

    /// `value` rounded into the format. With `saturating` (ONNX Cast's default) values beyond the
    /// largest finite one, infinities included, become it; without, they become infinity or NaN as
    /// the format has them. e8m0 rounds its exponent up unless `roundingDown`/`toNearest`.
    func rounded(_ value: Float, saturating: Bool = true, e8m0Rounding: E8M0Rounding = .up) -> Float {
        if self == .e8m0 { return roundedScale(value, saturating: saturating, rounding: e8m0Rounding) }
        // float4 has no NaN; ml_dtypes and onnxruntime give negative zero.
        if value.isNaN { return hasNaN ? .nan : -0.0 }
        let table = Self.magnitudeTables[self]!, magnitude = abs(value), largest = table.last!
        let sign: Float = value.sign == .minus ? -1 : 1
        if magnitude > largest.value {
            // Past the largest value by less than half its step it still rounds to it (ties to even);
            // a format without NaN always saturates.
            let step = largest.value - table[table.count - 2].value
            let overflows = magnitude.isInfinite || magnitude > largest.value + step / 2 || (magnitude == largest.value + step / 2 && largest.code & 1 == 1)
            if saturating || !hasNaN || !overflows { return sign * largest.value }
            return hasInfinity ? sign * .infinity : .nan
        }
        var low = 0, high = table.count - 1
        while high - low > 1 {
            let middle = (low + high) / 2
            if table[middle].value <= magnitude { low = middle } else { high = middle }
        }
        let below = table[low], above = table[high]
        let nearest = magnitude - below.value < above.value - magnitude ? below
            : magnitude - below.value > above.value - magnitude ? above
            : (below.code & 1 == 0 ? below : above)
        if nearest.value == 0, !hasNegativeZero { return 0 }
        return sign * nearest.value
    }

    /// How a value rounds to e8m0's power of two (Cast's round_mode).
    public enum E8M0Rounding: String, Sendable, CaseIterable { case up, down, nearest }

    /// e8m0 keeps an FP32's exponent: its fraction rounds the exponent up, down or to nearest.
    private func roundedScale(_ scale: Float, saturating: Bool, rounding: E8M0Rounding) -> Float {
        let bits = scale.bitPattern
        var exponent = Int((bits >> 23) & 0xFF)
        if exponent == 0xFF { return .nan }
        let roundsUp = switch rounding {
        case .up: bits & 0x7F_FFFF != 0
        case .down: false
        case .nearest: bits & 0x40_0000 != 0 && (bits & 0x3F_FFFF != 0 || exponent > 0 || bits & 0x20_0000 != 0)
        }
        if roundsUp, !(saturating && exponent == 0xFE) { exponent += 1 }
        return value(ofCode: UInt8(truncatingIfNeeded: exponent))
    }

    /// The code of a value already in the format (NaN to the format's NaN code).
    func code(of value: Float) -> UInt8 {
        let signBit: UInt8 = isSigned && value.sign == .minus && (value != 0 || hasNegativeZero) ? UInt8(1) << (bitWidth - 1) : 0
        if value.isNaN {
            switch self {
            case .e4m3fn: return 0x7F
            case .e5m2: return 0x7E
            case .e8m0: return 0xFF
            case .e2m1: return 0
            case .e4m3fnuz, .e5m2fnuz: return 0x80
            }
        }
        if value.isInfinite { return signBit | 0x7C }
        return signBit | (Self.magnitudeCodes[self]![abs(value).bitPattern] ?? 0)
    }
}
