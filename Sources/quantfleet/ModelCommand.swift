import ArgumentParser
import FleetProtocol
import Foundation
import Operations

struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Models in the coordinator's content-addressed store.",
        subcommands: [Push.self, List.self])

    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Upload an ONNX model; prints its sha256, which rollouts name.")

        @OptionGroup var admin: AdminOptions

        @Argument(help: "The ONNX file.")
        var file: String

        @Option(help: "The name agents serve it under (Open Inference Protocol).")
        var name: String

        @Option(help: "fp32, fp16, int8 or int4.")
        var precision: String

        @OptionGroup var task: TaskOptions

        func run() async throws {
            let data = try await admin.client().pushModel(
                URL(fileURLWithPath: file), name: name, precision: precision, task: task.queryItems)
            try admin.show(data, as: AdminAPI.Model.self) { ModelTable.render([$0]) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every model the coordinator holds.")

        @OptionGroup var admin: AdminOptions

        func run() async throws {
            let data = try await admin.client().send(.get, "/v1/models")
            try admin.show(data, as: [AdminAPI.Model].self, render: ModelTable.render)
        }
    }
}

enum ModelTable {
    static func render(_ models: [AdminAPI.Model]) -> String {
        TextTable.render(
            columns: ["sha256", "name", "precision", "bytes", "registered", "signed", "task"],
            rows: models.map {
                [$0.sha256, $0.name, $0.precision, "\($0.sizeBytes)", $0.registeredAt.formatted(.iso8601),
                 $0.signed == true ? "yes" : "no", $0.task ?? "-"]
            })
    }
}
