import StrictYAML

/// A policy file's error: its line, key and reason, as every QuantFleet YAML file reports them.
public typealias PolicyFileError = ConfigurationError

extension Policy {
    /// Reads and validates a policy file's text through the one strict YAML parser: an unknown or
    /// misspelt key is refused, and errors name the line and the key to fix:
    /// `line 9: ship-below is 2.0; it is a fraction ...`.
    public init(yaml: String) throws(PolicyFileError) {
        self = try StrictYAML.decode(Policy.self, from: yaml)
    }
}
