import Foundation

/// Where `quantfleet-coordinator` and `quantfleet-agent` are: beside this executable, as `swift
/// build` and an install lay them out. The commands that start a fleet (demo, chaos) look there.
enum SiblingExecutables {
    static var folder: URL {
        // The running binary itself: argv[0] is a bare name when the shell found it on PATH.
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
    }
}
