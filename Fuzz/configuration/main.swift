import Agent
import Coordinator
import ShadowEval
import StrictYAML

/// The YAML files an operator writes (policy, coordinator.yaml, agent.yaml), each read by the one
/// strict parser: the same text is tried as all three, so a key valid in one is unknown in another.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfiguration(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    _ = try? Policy(yaml: text)
    _ = try? StrictYAML.decode(CoordinatorConfiguration.self, from: text)
    _ = try? StrictYAML.decode(AgentConfiguration.self, from: text)
    return 0
}
