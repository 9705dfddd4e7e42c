import Foundation
import Inference

/// An .npz from outside (calibration rows, replay inputs): its arrays or an error, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPZ(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    _ = try? NPZ.read(Data(bytes: start, count: count))
    return 0
}
