extension Quantfleet_V1_Envelope {
    /// The envelope a side sends just before it closes a connection because of `reason`.
    public static func protocolError(reason: String) -> Quantfleet_V1_Envelope {
        var error = Quantfleet_V1_ProtocolError()
        error.reason = reason
        return Quantfleet_V1_Envelope(.error(error))
    }
}
