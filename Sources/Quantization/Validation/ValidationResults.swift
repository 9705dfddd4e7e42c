/// One model's outputs on a data set, per sample, with its ground truth and metrics: what
/// `quantfleet validate` writes as JSON and `quantfleet compare` reads back.
public struct ValidationResults: Codable, Sendable, Equatable {
    public enum Task: String, Codable, Sendable {
        /// Rows of class scores; labels are class indices.
        case classification
        /// One or more predicted values per row; labels are targets.
        case regression
    }

    public struct Metrics: Codable, Sendable, Equatable {
        /// Top-1 accuracy against the labels (classification with labels).
        public var accuracy: Double?
        /// Coefficient of determination against the targets (regression with targets).
        public var rSquared: Double?

        public init(accuracy: Double? = nil, rSquared: Double? = nil) {
            self.accuracy = accuracy
            self.rSquared = rSquared
        }
    }

    public var model: String
    public var data: String
    /// The model output recorded per sample.
    public var output: String
    public var task: Task
    /// One row per sample.
    public var outputs: [[Float]]
    /// Ground truth per sample when the data carried `label` or `target`.
    public var labels: [Double]?
    public var metrics: Metrics

    public init(model: String, data: String, output: String, task: Task, outputs: [[Float]], labels: [Double]?, metrics: Metrics) {
        self.model = model
        self.data = data
        self.output = output
        self.task = task
        self.outputs = outputs
        self.labels = labels
        self.metrics = metrics
    }

    /// The top-1 class of each sample (classification).
    public var predictedClasses: [Int] {
        outputs.map { row in row.indices.max { row[$0] < row[$1] } ?? 0 }
    }
}
