import Foundation

/// Everything a quantization run may be told; only `scheme` is always needed.
public struct QuantizationOptions: Sendable {
    public var scheme: QuantizationScheme
    /// Rows to calibrate activation ranges on (int8-static): one array per model input, named like
    /// it (a single-input model also accepts its one array under any name); `label`/`target` are ignored.
    public var calibration: URL?
    public var method: CalibrationMethod
    /// One weight scale per output channel instead of one per tensor.
    public var perChannel: Bool
    /// Operator types (e.g. "Gemm") and node names left in float.
    public var excludedOpTypes: Set<String>
    public var excludedNodes: Set<String>
    /// Weights per int4 block along the reduction axis (int4-weight): 32, 64 or 128.
    public var blockSize: Int
    /// Rows per calibration run of the engine.
    public var calibrationBatchRows: Int
    /// Also run the float and quantized models on the calibration rows to report each layer's
    /// output SQNR (int8-static); costs one more pass.
    public var measureLayerOutputs: Bool
    /// How many int8 levels weights use; the default keeps saturating int16 kernels exact.
    public var weightRange: WeightRange
    /// int8-static: uint8 asymmetric or int8 symmetric activations.
    public var activations: ActivationType
    /// int8-static: which ops between quantized nodes carry quantized tensors too.
    public var between: OpsBetweenQuantizedNodes

    public static let supportedBlockSizes = [32, 64, 128]

    public init(
        scheme: QuantizationScheme, calibration: URL? = nil, method: CalibrationMethod = .minmax,
        perChannel: Bool = true, excludedOpTypes: Set<String> = [], excludedNodes: Set<String> = [],
        blockSize: Int = 32, calibrationBatchRows: Int = 256, measureLayerOutputs: Bool = false, weightRange: WeightRange = .pairSafe,
        activations: ActivationType = .uint8, between: OpsBetweenQuantizedNodes = .exact
    ) {
        self.scheme = scheme
        self.calibration = calibration
        self.method = method
        self.perChannel = perChannel
        self.excludedOpTypes = excludedOpTypes
        self.excludedNodes = excludedNodes
        self.blockSize = blockSize
        self.calibrationBatchRows = calibrationBatchRows
        self.measureLayerOutputs = measureLayerOutputs
        self.weightRange = weightRange
        self.activations = activations
        self.between = between
    }
}

/// How far calibration has got, reported after each batch.
public struct CalibrationProgress: Sendable, Equatable {
    /// 1 while finding value ranges, 2 while building histograms (histogram methods only).
    public let pass: Int
    public let passes: Int
    public let rowsDone: Int
    public let rows: Int

    public init(pass: Int, passes: Int, rowsDone: Int, rows: Int) {
        self.pass = pass
        self.passes = passes
        self.rowsDone = rowsDone
        self.rows = rows
    }
}
