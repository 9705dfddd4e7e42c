import CQuantKernels

/// Keeps freed intermediate tensors' pages in the process heap for the next run instead of handing
/// them back to the kernel. glibc trims the heap top and unmaps large blocks as soon as they are
/// freed, so every run page-faulted its tensors in again: the text detector at batch 8 spent close
/// to half its time in page faults (1,470 ms a run against 818 ms with freed memory kept). Runs
/// reuse the same sizes, so after the first run the heap holds what they need: the effect of an
/// arena, for the price of a resident size that stays at the peak of a run. Once per process.
enum FreedMemoryRetention {
    static let enabled: Void = qf_keep_freed_memory()
}
