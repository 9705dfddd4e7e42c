import CQuantKernels

/// Freed tensors' pages stay in the process heap for the next run (see qf_keep_freed_memory). The C
/// constructor has already applied it when the program loaded; this reference is what makes every
/// program that runs inference link it, and calling it again changes nothing.
enum FreedMemoryRetention {
    static let enabled: Void = qf_keep_freed_memory()
}
