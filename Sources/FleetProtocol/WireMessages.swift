/// Short names for the generated `quantfleet.v1` messages, so daemon code reads as protocol prose.
public typealias Envelope = Quantfleet_V1_Envelope
public typealias Hello = Quantfleet_V1_Hello
public typealias Welcome = Quantfleet_V1_Welcome
public typealias ModelRef = Quantfleet_V1_ModelRef
public typealias Assignment = Quantfleet_V1_Assignment
public typealias ModelRequest = Quantfleet_V1_ModelRequest
public typealias ModelChunk = Quantfleet_V1_ModelChunk
public typealias ModelReady = Quantfleet_V1_ModelReady
public typealias ShadowWindow = Quantfleet_V1_ShadowWindow
public typealias ClassSlice = Quantfleet_V1_ClassSlice
public typealias TaskSpec = Quantfleet_V1_TaskSpec
public typealias WindowAck = Quantfleet_V1_WindowAck
public typealias Heartbeat = Quantfleet_V1_Heartbeat
public typealias ProtocolError = Quantfleet_V1_ProtocolError
public typealias ModelManifest = Quantfleet_V1_ModelManifest
public typealias SignedManifest = Quantfleet_V1_SignedManifest
public typealias SignedAssignment = Quantfleet_V1_SignedAssignment
public typealias SignedMetadataReport = Quantfleet_V1_SignedMetadataReport
public typealias ServingMode = Quantfleet_V1_ServingMode
public typealias ServingChanged = Quantfleet_V1_ServingChanged
public typealias ModelRejected = Quantfleet_V1_ModelRejected

extension Envelope {
    public init(_ payload: OneOf_Payload) {
        self.init()
        self.payload = payload
    }
}
