/// Every operator the engine runs, by domain and type. A node outside this table is refused at load.
enum OperatorRegistry {
    private typealias Key = OperatorKey

    private typealias Factory = @Sendable (OperatorContext) throws -> any Operator

    private static let factories: [Key: Factory] = {
        var table: [Key: Factory] = [
            Key(domain: "", opType: "MatMul"): { MatMul($0) },
            Key(domain: "", opType: "Relu"): { _ in Relu() },
            Key(domain: "", opType: "Identity"): { _ in Identity() },
            Key(domain: "", opType: "Softmax"): { try Softmax($0) },
            Key(domain: "", opType: "LogSoftmax"): { try Softmax($0, logarithm: true) },
            Key(domain: "", opType: "LayerNormalization"): { try LayerNormalization($0) },
            Key(domain: "", opType: "TopK"): { try TopK($0) },
            Key(domain: "", opType: "ArgMax"): { try ArgExtremum($0) },
            Key(domain: "", opType: "ArgMin"): { try ArgExtremum($0) },
            Key(domain: "", opType: "Cast"): { try Cast($0) },
            Key(domain: "", opType: "CastLike"): { try Cast($0) },
            Key(domain: "", opType: "Hardmax"): { try Hardmax($0) },
            Key(domain: "", opType: "Dropout"): { _ in Dropout() },
            Key(domain: "", opType: "IsNaN"): { try FloatClassification($0) },
            Key(domain: "", opType: "IsInf"): { try FloatClassification($0) },
            Key(domain: "", opType: "InstanceNormalization"): { try GroupNormalization($0) },
            Key(domain: "", opType: "GroupNormalization"): { try GroupNormalization($0) },
            Key(domain: "", opType: "MeanVarianceNormalization"): { try MeanVarianceNormalization($0) },
            Key(domain: "", opType: "LpNormalization"): { try LpNormalization($0) },
            Key(domain: "", opType: "LRN"): { try LocalResponseNormalization($0) },
            Key(domain: "", opType: "Pad"): { try Pad($0) },
            Key(domain: "", opType: "Tile"): { _ in Tile() },
            Key(domain: "", opType: "DepthToSpace"): { try DepthToSpace($0) },
            Key(domain: "", opType: "SpaceToDepth"): { try DepthToSpace($0) },
            Key(domain: "", opType: "ReverseSequence"): { try ReverseSequence($0) },
            Key(domain: "", opType: "GatherElements"): { try GatherElements($0) },
            Key(domain: "", opType: "GatherND"): { try GatherND($0) },
            Key(domain: "", opType: "ScatterElements"): { try ScatterElements($0) },
            Key(domain: "", opType: "Scatter"): { try ScatterElements($0) },
            Key(domain: "", opType: "ScatterND"): { try ScatterND($0) },
            Key(domain: "", opType: "TensorScatter"): { try TensorScatter($0) },
            Key(domain: "", opType: "Trilu"): { try Trilu($0) },
            Key(domain: "", opType: "EyeLike"): { try EyeLike($0) },
            Key(domain: "", opType: "CumSum"): { try CumulativeSum($0) },
            Key(domain: "", opType: "CumProd"): { try CumulativeSum($0) },
            Key(domain: "", opType: "OneHot"): { try OneHot($0) },
            Key(domain: "", opType: "NonZero"): { _ in NonZero() },
            Key(domain: "", opType: "Compress"): { try Compress($0) },
            Key(domain: "", opType: "If"): { try If($0) },
            Key(domain: "", opType: "RandomUniform"): { try RandomTensor($0) },
            Key(domain: "", opType: "RandomNormal"): { try RandomTensor($0) },
            Key(domain: "", opType: "RandomUniformLike"): { try RandomTensor($0) },
            Key(domain: "", opType: "RandomNormalLike"): { try RandomTensor($0) },
            Key(domain: "", opType: "Bernoulli"): { try Bernoulli($0) },
            Key(domain: "", opType: "Multinomial"): { try Multinomial($0) },
            Key(domain: "", opType: "SequenceConstruct"): { _ in SequenceConstruct() },
            Key(domain: "", opType: "SequenceEmpty"): { try SequenceEmpty($0) },
            Key(domain: "", opType: "SplitToSequence"): { try SplitToSequence($0) },
            Key(domain: "", opType: "ConcatFromSequence"): { try ConcatFromSequence($0) },
            Key(domain: "", opType: "SequenceMap"): { try SequenceMap($0) },
            Key(domain: "", opType: "Loop"): { try Loop($0) },
            Key(domain: "", opType: "Scan"): { try Scan($0) },
            Key(domain: "", opType: "Unique"): { try Unique($0) },
            Key(domain: "", opType: "StringConcat"): { _ in StringConcat() },
            Key(domain: "", opType: "StringSplit"): { try StringSplit($0) },
            Key(domain: "", opType: "StringNormalizer"): { try StringNormalizer($0) },
            Key(domain: "", opType: "RegexFullMatch"): { try RegexFullMatch($0) },
            Key(domain: "", opType: "TfIdfVectorizer"): { try TfIdfVectorizer($0) },
            Key(domain: "", opType: "CenterCropPad"): { try CenterCropPad($0) },
            Key(domain: "", opType: "BitCast"): { try BitCast($0) },
            Key(domain: "", opType: "Det"): { _ in Determinant() },
            Key(domain: "", opType: "DFT"): { try DiscreteFourierTransform($0) },
            Key(domain: "", opType: "STFT"): { try ShortTimeFourierTransform($0) },
            Key(domain: "", opType: "MelWeightMatrix"): { try MelWeightMatrix($0) },
            Key(domain: "", opType: "HannWindow"): { try Window($0) },
            Key(domain: "", opType: "HammingWindow"): { try Window($0) },
            Key(domain: "", opType: "BlackmanWindow"): { try Window($0) },
            Key(domain: "", opType: "MaxUnpool"): { try MaxUnpool($0) },
            Key(domain: "", opType: "Upsample"): { try Upsample($0) },
            Key(domain: "", opType: "RMSNormalization"): { try RMSNormalization($0) },
            Key(domain: "", opType: "Attention"): { try Attention($0) },
            Key(domain: "", opType: "RotaryEmbedding"): { try RotaryEmbedding($0) },
            Key(domain: "", opType: "LinearAttention"): { try LinearAttention($0) },
            Key(domain: "ai.onnx.preview", opType: "FlexAttention"): { try FlexAttention($0) },
            Key(domain: "", opType: "NonMaxSuppression"): { try NonMaxSuppression($0) },
            Key(domain: "", opType: "RoiAlign"): { try RoiAlign($0) },
            Key(domain: "", opType: "GridSample"): { try GridSample($0) },
            Key(domain: "", opType: "AffineGrid"): { try AffineGrid($0) },
            Key(domain: "", opType: "Reshape"): { try Reshape($0) },
            Key(domain: "", opType: "DynamicQuantizeLinear"): { _ in DynamicQuantizeLinear() },
            Key(domain: "", opType: "MatMulInteger"): { try IntegerMatMul($0, form: .integer) },
            Key(domain: "", opType: "QLinearMatMul"): { try IntegerMatMul($0, form: .quantized) },
            Key(domain: "com.microsoft", opType: "MatMulIntegerToFloat"): { try IntegerMatMul($0, form: .toFloat) },
            Key(domain: "", opType: "ConvInteger"): { try IntegerConv($0, form: .integer) },
            Key(domain: "", opType: "QLinearConv"): { try IntegerConv($0, form: .quantized) },
            Key(domain: QDQFusion.domain, opType: "ConvIntegerToFloat"): { try IntegerConv($0, form: .toFloat) },
            Key(domain: QDQFusion.domain, opType: "ConvIntegerToQuantized"): { try IntegerConv($0, form: .toFloat) },
            Key(domain: QDQFusion.domain, opType: "GatherDequantized"): { _ in GatherDequantized() },
            Key(domain: QDQFusion.domain, opType: "MatMulBlockDequantized"): { try BlockDequantizedMatMul($0) },
            Key(domain: QDQFusion.domain, opType: "HeadMatMul"): { try HeadMatMul($0) },
            Key(domain: QDQFusion.domain, opType: "HeadAttention"): { try HeadAttention($0) },
            Key(domain: "", opType: "QuantizeLinear"): { try QuantizeLinear($0) },
            Key(domain: "", opType: "DequantizeLinear"): { try DequantizeLinear($0) },
            Key(domain: "", opType: "Clip"): { try Clip($0) },
            Key(domain: "", opType: "Gemm"): { try Gemm($0) },
            Key(domain: "", opType: "Einsum"): { try Einsum($0) },
            Key(domain: "", opType: "LSTM"): { try LSTM($0) },
            Key(domain: "", opType: "GRU"): { try GRU($0) },
            Key(domain: "", opType: "RNN"): { try RNN($0) },
            Key(domain: "", opType: "NegativeLogLikelihoodLoss"): { try NegativeLogLikelihoodLoss($0) },
            Key(domain: "", opType: "SoftmaxCrossEntropyLoss"): { try NegativeLogLikelihoodLoss($0) },
            Key(domain: "", opType: "Conv"): { try Conv($0) },
            Key(domain: "", opType: "ConvTranspose"): { try ConvTranspose($0) },
            Key(domain: "", opType: "CausalConvWithState"): { try CausalConvWithState($0) },
            Key(domain: "", opType: "Col2Im"): { try Col2Im($0) },
            Key(domain: "", opType: "DeformConv"): { try DeformConv($0) },
            Key(domain: "", opType: "Resize"): { try Resize($0) },
            Key(domain: "", opType: "ImageDecoder"): { try ImageDecoder($0) },
            Key(domain: "", opType: "BatchNormalization"): { try BatchNormalization($0) },
            Key(domain: "", opType: "MaxPool"): { try Pooling($0, kind: .max) },
            Key(domain: "", opType: "AveragePool"): { try Pooling($0, kind: .average) },
            Key(domain: "", opType: "LpPool"): { try Pooling($0, kind: .lp) },
            Key(domain: "", opType: "GlobalAveragePool"): { try GlobalPooling($0, kind: .average) },
            Key(domain: "", opType: "GlobalMaxPool"): { try GlobalPooling($0, kind: .max) },
            Key(domain: "", opType: "GlobalLpPool"): { try GlobalPooling($0, kind: .lp) },
            Key(domain: "", opType: "Where"): { _ in Where() },
            Key(domain: "", opType: "Transpose"): { try Transpose($0) },
            Key(domain: "", opType: "Flatten"): { try Flatten($0) },
            Key(domain: "", opType: "Squeeze"): { try Squeeze($0) },
            Key(domain: "", opType: "Unsqueeze"): { try Unsqueeze($0) },
            Key(domain: "", opType: "Concat"): { try Concat($0) },
            Key(domain: "", opType: "Split"): { try Split($0) },
            Key(domain: "", opType: "Slice"): { try Slice($0) },
            Key(domain: "", opType: "Gather"): { try Gather($0) },
            Key(domain: "", opType: "Shape"): { try ShapeOf($0) },
            Key(domain: "", opType: "Size"): { _ in SizeOf() },
            Key(domain: "", opType: "ConstantOfShape"): { try ConstantOfShape($0) },
            Key(domain: "", opType: "Expand"): { _ in Expand() },
            Key(domain: "", opType: "Range"): { _ in RangeSequence() },
            Key(domain: "ai.onnx.ml", opType: "ArrayFeatureExtractor"): { _ in ArrayFeatureExtractor() },
            Key(domain: "ai.onnx.ml", opType: "LinearClassifier"): { try LinearClassifier($0) },
            Key(domain: "ai.onnx.ml", opType: "LinearRegressor"): { try LinearRegressor($0) },
            Key(domain: "ai.onnx.ml", opType: "SVMClassifier"): { try SVMClassifier($0) },
            Key(domain: "ai.onnx.ml", opType: "SVMRegressor"): { try SVMRegressor($0) },
            Key(domain: "ai.onnx.ml", opType: "Scaler"): { try Scaler($0) },
            Key(domain: "ai.onnx.ml", opType: "Normalizer"): { try Normalizer($0) },
            Key(domain: "ai.onnx.ml", opType: "Binarizer"): { try Binarizer($0) },
            Key(domain: "ai.onnx.ml", opType: "Imputer"): { try Imputer($0) },
            Key(domain: "ai.onnx.ml", opType: "FeatureVectorizer"): { try FeatureVectorizer($0) },
            Key(domain: "ai.onnx.ml", opType: "OneHotEncoder"): { try OneHotEncoder($0) },
            Key(domain: "ai.onnx.ml", opType: "LabelEncoder"): { try LabelEncoder($0) },
            Key(domain: "ai.onnx.ml", opType: "CategoryMapper"): { try CategoryMapper($0) },
            Key(domain: "ai.onnx.ml", opType: "ZipMap"): { try ZipMap($0) },
            Key(domain: "ai.onnx.ml", opType: "DictVectorizer"): { try DictVectorizer($0) },
            Key(domain: "ai.onnx.ml", opType: "CastMap"): { try CastMap($0) },
            Key(domain: "ai.onnx.ml", opType: "TreeEnsembleClassifier"): { try TreeEnsembleClassifier($0) },
            Key(domain: "ai.onnx.ml", opType: "TreeEnsembleRegressor"): { try TreeEnsembleRegressor($0) },
            Key(domain: "ai.onnx.ml", opType: "TreeEnsemble"): { try TreeEnsembleRegressor(treeEnsemble: $0) },
            Key(domain: "com.microsoft", opType: "QLinearAdd"): { _ in QLinearBinary(kind: .add) },
            Key(domain: "com.microsoft", opType: "QLinearMul"): { _ in QLinearBinary(kind: .multiply) },
            Key(domain: "com.microsoft", opType: "QLinearSigmoid"): { try QLinearLookup($0) },
            Key(domain: "com.microsoft", opType: "QLinearLeakyRelu"): { try QLinearLookup($0) },
            Key(domain: "com.microsoft", opType: "QLinearConcat"): { try QLinearConcat($0) },
            Key(domain: "com.microsoft", opType: "QLinearGlobalAveragePool"): { try QLinearPooling($0, global: true) },
            Key(domain: "com.microsoft", opType: "QLinearAveragePool"): { try QLinearPooling($0, global: false) },
            Key(domain: "com.microsoft", opType: "QGemm"): { try QGemm($0) },
            Key(domain: "com.microsoft", opType: "MatMulNBits"): { try MatMulNBits($0) },
            Key(domain: "com.microsoft", opType: "DynamicQuantizeLSTM"): { try LSTM($0, weightFormat: .dynamicallyQuantized) },
            Key(domain: "com.microsoft", opType: "FusedMatMul"): { try FusedMatMul($0) },
            Key(domain: "com.microsoft", opType: "FusedConv"): { try Conv($0) },
            Key(domain: "com.microsoft", opType: "Gelu"): { try GeluActivation($0) },
            Key(domain: "com.microsoft", opType: "BiasGelu"): { try GeluActivation($0) },
            Key(domain: "com.microsoft", opType: "FastGelu"): { try GeluActivation($0) },
            Key(domain: "com.microsoft", opType: "QuickGelu"): { try GeluActivation($0) },
            Key(domain: "com.microsoft", opType: "SkipLayerNormalization"): { try SkipLayerNormalization($0) },
        ]
        for kind in ElementwiseArithmetic.Kind.allCases {
            table[Key(domain: "", opType: kind.rawValue)] = { _ in ElementwiseArithmetic(kind: kind) }
        }
        for kind in Reduction.Kind.allCases {
            table[Key(domain: "", opType: kind.rawValue)] = { try Reduction($0, kind: kind) }
        }
        for kind in SequenceEdit.Kind.allCases {
            table[Key(domain: "", opType: kind.rawValue)] = { _ in SequenceEdit(kind: kind) }
        }
        for kind in OptionalOperator.Kind.allCases {
            table[Key(domain: "", opType: kind.rawValue)] = { _ in OptionalOperator(kind: kind) }
        }
        for kind in Comparison.Kind.allCases {
            table[Key(domain: "", opType: kind.rawValue)] = { _ in Comparison(kind: kind) }
        }
        for opType in BinaryFunction.catalogue.keys {
            table[Key(domain: "", opType: opType)] = { try BinaryElementwise($0) }
        }
        for opType in ["Max", "Min", "Sum", "Mean"] {
            table[Key(domain: "", opType: opType)] = { try Variadic($0) }
        }
        for opType in UnaryFunction.catalogue.keys {
            table[Key(domain: "", opType: opType)] = { try ElementwiseFunction($0) }
        }
        return table
    }()

    /// True when a node of this type loads: it has an operator, or (Constant) the decoder folds it.
    static func supports(opType: String, domain: String) -> Bool {
        (domain.isEmpty && opType == "Constant") || factories[Key(domain: domain, opType: opType)] != nil
    }

    static func makeOperator(
        for node: NodeDefinition, opsets: [String: Int], constants: [String: Tensor], floatPath: FloatKernelPath = .chosen, threads: Int = 1
    ) throws -> any Operator {
        let opset = opsets[node.domain] ?? 0
        guard let factory = factories[Key(domain: node.domain, opType: node.opType)] else {
            throw InferenceError.unsupportedOperator(opType: node.opType, domain: node.domain, node: node.name, opset: opset)
        }
        return try factory(OperatorContext(node: node, opset: opset, constants: constants, floatPath: floatPath, threads: threads))
    }
}
