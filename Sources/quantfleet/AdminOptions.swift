import ArgumentParser
import Foundation
import Operations

/// How the CLI reaches the coordinator's admin API: its URL and this operator's certificate
/// (`Deploy/pki/make-pki.sh DIR --operator NAME` writes DIR/operators/operator.pem and .key).
/// Each option falls back to an environment variable (QUANTFLEET_COORDINATOR, QUANTFLEET_CERT,
/// QUANTFLEET_KEY, QUANTFLEET_CA), so a shell set up once needs no flags.
struct AdminOptions: ParsableArguments {
    @Option(help: "The coordinator's admin API, e.g. https://localhost:7444 (a DNS name in its certificate). Env: QUANTFLEET_COORDINATOR.")
    var coordinator: String?

    @Option(help: "This operator's certificate (CN operator:<name>), PEM. Env: QUANTFLEET_CERT.")
    var cert: String?

    @Option(help: "The private key of --cert, PEM. Env: QUANTFLEET_KEY.")
    var key: String?

    @Option(help: "The fleet CA certificate the coordinator's certificate is checked against, PEM. Env: QUANTFLEET_CA.")
    var ca: String?

    @Flag(help: "Print the API's JSON instead of tables.")
    var json = false

    func client() throws -> AdminClient {
        let coordinator = try setting(coordinator, flag: "coordinator", environment: "QUANTFLEET_COORDINATOR")
        guard let url = URL(string: coordinator) else { throw ValidationError("--coordinator \(coordinator) is not a URL") }
        return try AdminClient(
            coordinator: url, certificate: try setting(cert, flag: "cert", environment: "QUANTFLEET_CERT"),
            privateKey: try setting(key, flag: "key", environment: "QUANTFLEET_KEY"),
            trustRoots: try setting(ca, flag: "ca", environment: "QUANTFLEET_CA"))
    }

    private func setting(_ value: String?, flag: String, environment: String) throws -> String {
        if let value { return value }
        if let value = ProcessInfo.processInfo.environment[environment], !value.isEmpty { return value }
        throw ValidationError("give --\(flag) (or set \(environment)) to reach the coordinator's admin API")
    }

    /// Prints the raw JSON with --json, else the table `render` makes of the decoded value.
    func show<Value: Decodable>(_ data: Data, as type: Value.Type, render: (Value) -> String) throws {
        if json {
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        print(render(try decoder.decode(type, from: data)))
    }
}
