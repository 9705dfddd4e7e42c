import Foundation

/// Where `quantfleet-coordinator` and `quantfleet-agent` are: beside this executable, as `swift
/// build` and an install lay them out. The commands that start a fleet (demo, chaos) look there.
enum SiblingExecutables {
    static var folder: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    }
}
