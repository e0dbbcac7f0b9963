/// The stock of one item at one location.
public struct StockFigures: Sendable, Hashable {
    /// The last figure Zoho confirmed.
    public var zohoOnHand: Int64
    /// Accepted local changes not yet sealed into a Zoho batch.
    public var open: Int64
    /// Changes sealed into a Zoho batch whose outcome is not recorded yet.
    public var inFlight: Int64

    public init(zohoOnHand: Int64 = 0, open: Int64 = 0, inFlight: Int64 = 0) {
        self.zohoOnHand = zohoOnHand
        self.open = open
        self.inFlight = inFlight
    }

    /// The net of accepted changes Zoho has not confirmed (open and in flight).
    public var unsynced: Int64 { open + inFlight }
    /// What can still be sold; negative is an oversell.
    public var available: Int64 { zohoOnHand + open + inFlight }
}
