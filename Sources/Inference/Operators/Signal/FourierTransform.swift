import Foundation

/// Discrete Fourier transforms of complex vectors in double precision, by the direct sum over a
/// twiddle table (every length, not only powers of two).
struct FourierTransform {
    let length: Int
    let inverse: Bool
    private let cosines: [Double]
    private let sines: [Double]

    init(length: Int, inverse: Bool) {
        self.length = length
        self.inverse = inverse
        let turn = (inverse ? 2 : -2) * Double.pi / Double(max(length, 1))
        cosines = (0..<length).map { cos(turn * Double($0)) }
        sines = (0..<length).map { sin(turn * Double($0)) }
    }

    /// The transform of `real` + i `imaginary` (each `length` long), unscaled.
    func callAsFunction(_ real: [Double], _ imaginary: [Double]) -> (real: [Double], imaginary: [Double]) {
        var outReal = [Double](repeating: 0, count: length), outImaginary = outReal
        for k in 0..<length {
            var sumReal = 0.0, sumImaginary = 0.0, twiddle = 0
            for n in 0..<length {
                let (c, s) = (cosines[twiddle], sines[twiddle])
                sumReal += real[n] * c - imaginary[n] * s
                sumImaginary += real[n] * s + imaginary[n] * c
                twiddle += k
                if twiddle >= length { twiddle -= length }
            }
            (outReal[k], outImaginary[k]) = (sumReal, sumImaginary)
        }
        return (outReal, outImaginary)
    }
}

/// A signal of shape [..., n, 1 or 2] (real, or interleaved real and imaginary parts), read as
/// complex vectors along one axis.
struct ComplexSignal {
    let shape: [Int]
    let values: [Double]
    let isComplex: Bool

    init(_ tensor: Tensor) throws {
        guard let last = tensor.shape.last, last == 1 || last == 2, tensor.elementType.isFloatingPoint else {
            throw InferenceError.invalidOperand("a signal must be floating point with a last axis of 1 (real) or 2 (complex), got \(tensor.elementType.rawValue) \(tensor.shape)")
        }
        shape = Array(tensor.shape.dropLast())
        values = tensor.storage.doubles
        isComplex = last == 2
    }

    /// The vector along `axis` through the given position (its index at `axis` ignored), zero-padded
    /// or truncated to `length`.
    func vector(along axis: Int, at index: [Int], length: Int) -> (real: [Double], imaginary: [Double]) {
        var real = [Double](repeating: 0, count: length), imaginary = real
        let strides = rowMajorStrides(shape), width = isComplex ? 2 : 1
        var base = 0
        for (dimension, value) in index.enumerated() where dimension != axis { base += value * strides[dimension] }
        for n in 0..<min(length, shape[axis]) {
            let element = (base + n * strides[axis]) * width
            real[n] = values[element]
            if isComplex { imaginary[n] = values[element + 1] }
        }
        return (real, imaginary)
    }
}

/// DFT (opsets 17 and 20): along one axis of a real or complex signal, forward (onesided: the
/// first n/2 + 1 bins) or inverse (scaled by 1/n; onesided: a Hermitian half to a real signal).
struct DiscreteFourierTransform: SingleOutputOperator {
    let inverse: Bool
    let onesided: Bool
    /// Opset 17 names the axis as an attribute; from 20 it is input 2.
    let attributeAxis: Int?

    init(_ context: OperatorContext) throws {
        inverse = try context.attributes.int("inverse", default: 0) != 0
        onesided = try context.attributes.int("onesided", default: 0) != 0
        attributeAxis = context.opset < 20 ? try context.attributes.int("axis", default: 1) : nil
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), signal = try ComplexSignal(x)
        let axis = try normalizedAxis(attributeAxis ?? inputs.integers(2)?.first ?? -2, rank: x.shape.count)
        guard axis < signal.shape.count else { throw InferenceError.invalidOperand("axis \(axis) is the real/imaginary axis") }
        let defaultLength = inverse && onesided ? 2 * (signal.shape[axis] - 1) : signal.shape[axis]
        let length = inputs.integers(1)?.first ?? defaultLength
        guard length > 0 else { throw InferenceError.invalidOperand("dft_length must be positive, got \(length)") }
        let transform = FourierTransform(length: length, inverse: inverse)
        let bins = !inverse && onesided ? length / 2 + 1 : length
        let realOutput = inverse && onesided
        var shape = signal.shape
        shape[axis] = bins
        var output = [Double](repeating: 0, count: shape.reduce(1, *) * (realOutput ? 1 : 2))
        let strides = rowMajorStrides(shape)
        var lineShape = shape
        lineShape[axis] = 1
        forEachIndex(of: lineShape) { index in
            var (real, imaginary) = signal.vector(along: axis, at: index, length: realOutput ? length / 2 + 1 : length)
            if realOutput { (real, imaginary) = Self.hermitianCompletion(real, imaginary, length: length) }
            var (outReal, outImaginary) = transform(real, imaginary)
            if inverse { (outReal, outImaginary) = (outReal.map { $0 / Double(length) }, outImaginary.map { $0 / Double(length) }) }
            for k in 0..<bins {
                var target = index
                target[axis] = k
                let element = position(of: target, strides: strides)
                if realOutput {
                    output[element] = outReal[k]
                } else {
                    (output[element * 2], output[element * 2 + 1]) = (outReal[k], outImaginary[k])
                }
            }
        }
        return try Tensor(shape: shape + [realOutput ? 1 : 2], storage: TensorStorage.float64(output).converted(to: x.elementType))
    }

    /// The full spectrum of a real signal from its first n/2 + 1 bins: X[n - k] = conj(X[k]); the
    /// imaginary parts of the bins that are their own mirror are dropped, as numpy's irfft does.
    static func hermitianCompletion(_ real: [Double], _ imaginary: [Double], length: Int) -> ([Double], [Double]) {
        var fullReal = [Double](repeating: 0, count: length), fullImaginary = fullReal
        for k in 0..<length {
            let mirrored = k <= length / 2 ? k : length - k
            guard mirrored < real.count else { continue }
            fullReal[k] = real[mirrored]
            let ownMirror = mirrored == 0 || 2 * mirrored == length
            fullImaginary[k] = ownMirror ? 0 : (k <= length / 2 ? imaginary[mirrored] : -imaginary[mirrored])
        }
        return (fullReal, fullImaginary)
    }
}

/// STFT: frames of `frame_length` every `frame_step` samples, each weighted by the window and
/// transformed (onesided by default): [batch, frames, bins, 2].
struct ShortTimeFourierTransform: SingleOutputOperator {
    let onesided: Bool

    init(_ context: OperatorContext) throws {
        onesided = try context.attributes.int("onesided", default: 1) != 0
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let x = try inputs.required(0), signal = try ComplexSignal(x)
        guard signal.shape.count == 2 else { throw InferenceError.invalidOperand("signal must be [batch, length, 1 or 2], got \(x.shape)") }
        let step = Int(try inputs.required(1).int64(at: 0))
        let window = inputs.optional(2)?.storage.doubles
        let frameLength = inputs.integers(3)?.first ?? window?.count ?? signal.shape[1]
        guard step > 0, frameLength > 0, frameLength <= signal.shape[1], window.map({ $0.count == frameLength }) ?? true else {
            throw InferenceError.invalidOperand("frame_step \(step), frame_length \(frameLength) and window do not fit a signal of \(signal.shape[1])")
        }
        let (batch, frames) = (signal.shape[0], 1 + (signal.shape[1] - frameLength) / step)
        let bins = onesided ? frameLength / 2 + 1 : frameLength
        let transform = FourierTransform(length: frameLength, inverse: false)
        var output: [Double] = []
        output.reserveCapacity(batch * frames * bins * 2)
        for sample in 0..<batch {
            let (real, imaginary) = signal.vector(along: 1, at: [sample, 0], length: signal.shape[1])
            for frame in 0..<frames {
                let start = frame * step
                let weights = window ?? Array(repeating: 1, count: frameLength)
                let spectrum = transform(
                    (0..<frameLength).map { real[start + $0] * weights[$0] }, (0..<frameLength).map { imaginary[start + $0] * weights[$0] })
                for k in 0..<bins { output += [spectrum.real[k], spectrum.imaginary[k]] }
            }
        }
        return try Tensor(shape: [batch, frames, bins, 2], storage: TensorStorage.float64(output).converted(to: x.elementType))
    }
}

/// MelWeightMatrix: [dft_length / 2 + 1, num_mel_bins] triangular filters evenly spaced on the mel
/// scale between the edge frequencies, each peaking at 1 (onnx's reference construction).
struct MelWeightMatrix: SingleOutputOperator {
    let type: ElementType

    init(_ context: OperatorContext) throws {
        type = try ElementType(onnxAttribute: context.attributes.int("output_datatype", default: 1), node: context.node.name, attribute: "output_datatype")
    }

    func run(_ inputs: [Tensor?]) throws -> Tensor {
        let melBins = Int(try inputs.required(0).int64(at: 0)), dftLength = Int(try inputs.required(1).int64(at: 0))
        let sampleRate = Int(try inputs.required(2).int64(at: 0))
        let (lower, upper) = (Double(try inputs.required(3).float(at: 0)), Double(try inputs.required(4).float(at: 0)))
        guard melBins > 0, dftLength > 0, sampleRate > 0 else {
            throw InferenceError.invalidOperand("num_mel_bins, dft_length and sample_rate must be positive")
        }
        let spectrogramBins = dftLength / 2 + 1
        let (lowMel, highMel) = (2595 * log10(1 + lower / 700), 2595 * log10(1 + upper / 700))
        let melStep = (highMel - lowMel) / Double(melBins + 2)
        let edges = (0..<(melBins + 2)).map { bin in
            let hertz = 700 * (pow(10, (Double(bin) * melStep + lowMel) / 2595) - 1)
            return Int((Double(dftLength + 1) * hertz / Double(sampleRate)).rounded(.down))
        }
        var output = [Double](repeating: 0, count: spectrogramBins * melBins)
        for bin in 0..<melBins {
            let (left, center, right) = (edges[bin], edges[bin + 1], edges[bin + 2])
            if center == left {
                output[center * melBins + bin] = 1
            } else {
                for j in left...center { output[j * melBins + bin] = Double(j - left) / Double(center - left) }
            }
            if right > center {
                for j in center..<right { output[j * melBins + bin] = Double(right - j) / Double(right - center) }
            }
        }
        return try Tensor(shape: [spectrogramBins, melBins], storage: TensorStorage.float64(output).converted(to: type))
    }
}
