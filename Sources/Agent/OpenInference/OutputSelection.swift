/// The outputs an infer request asks for, and how each travels: all of the model's outputs when it
/// names none; as binary data when the output's `binary_data` parameter says so, else as the
/// request's `binary_data_output` says, else JSON. The classification and shared memory extensions
/// are not served, and asking for them is refused rather than answered with something else.
struct OutputSelection {
    /// Output name to whether it travels as binary data.
    let binary: [String: Bool]

    init(_ request: InferenceRequestBody, outputs: [String]) throws {
        let binaryByDefault = request.parameters?["binary_data_output"]?.flag ?? false
        guard let requested = request.outputs else {
            binary = Dictionary(uniqueKeysWithValues: outputs.map { ($0, binaryByDefault) })
            return
        }
        var binary: [String: Bool] = [:]
        for output in requested {
            guard outputs.contains(output.name) else {
                throw InferenceRequestError(description: "unknown output '\(output.name)'; the model gives \(outputs)")
            }
            let parameters = output.parameters ?? [:]
            if parameters["classification"] != nil {
                throw InferenceRequestError(description: "output '\(output.name)': the classification extension is not supported")
            }
            if parameters["shared_memory_region"] != nil {
                throw InferenceRequestError(description: "output '\(output.name)': the shared memory extension is not supported")
            }
            binary[output.name] = parameters["binary_data"]?.flag ?? binaryByDefault
        }
        self.binary = binary
    }
}
