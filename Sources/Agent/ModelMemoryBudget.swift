/// The agent's `model-memory-budget-bytes`: the most the loaded models of every model name may hold
/// together. An assignment is judged twice: before its models are downloaded, on their files' sizes
/// (a lower bound: FP16 weights are held as FP32, and kernels pack weights); then, once loaded and
/// before it serves, on what its sessions hold.
struct ModelMemoryBudget: Sendable {
    /// nil: no budget.
    let bytes: Int?

    /// Why an assignment whose models take `needed` bytes cannot serve beside the `others` bytes of
    /// the other model names; nil when it fits. `estimated`: `needed` is the files' sizes.
    func refusal(needed: Int, others: Int, estimated: Bool) -> String? {
        guard let bytes, needed + others > bytes else { return nil }
        let what = estimated ? "its models' files alone take \(needed) bytes" : "its loaded models hold \(needed) bytes"
        return "over the agent's memory budget: \(what), the models of the agent's other model names hold \(others), "
            + "and model-memory-budget-bytes is \(bytes)"
    }
}
