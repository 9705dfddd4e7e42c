import Foundation
import Inference

/// An ONNX file from outside (a pushed model, a downloaded candidate): it loads into a session or is
/// refused with an error, never a crash, and never by taking unbounded memory (libFuzzer's
/// -rss_limit_mb and -malloc_limit_mb catch that).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzONNX(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    _ = try? InferenceSession(modelData: Data(bytes: start, count: count))
    return 0
}
