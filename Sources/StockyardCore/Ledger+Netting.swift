/// A net change of one item at one location, to be sent to Zoho as one adjustment line.
public struct NetLine: Sendable, Hashable {
    public var itemID: String
    public var locationID: String
    public var quantity: Int64

    public init(itemID: String, locationID: String, quantity: Int64) {
        self.itemID = itemID
        self.locationID = locationID
        self.quantity = quantity
    }
}

extension Ledger {
    /// The open (unsealed) nets, without changing anything. Zero nets are left out.
    public func openNets() -> [NetLine] {
        netRows.compactMap { row in
            let open = rowStates[Int(row)].working.open
            guard open != 0 else { return nil }
            return NetLine(itemID: items[rowItem[Int(row)]], locationID: locations[rowLocation[Int(row)]], quantity: open)
        }
    }

    /// Number of item × location rows with an open net (an upper bound: some may have netted to zero).
    public var openNetRowCount: Int { netRows.count }

    /// Seals up to `maxLines` open nets into a batch for Zoho: each moves from open to in flight.
    /// Bundles need nothing special here: their sales already consumed the components' rows.
    public func sealNets(maxLines: Int) -> [NetLine] {
        precondition(inBatch, "sealNets needs a batch")
        var sealed: [NetLine] = []
        var kept: [UInt32] = []
        for row in netRows {
            let open = rowStates[Int(row)].working.open
            if open == 0 {
                rowStates[Int(row)].netListed = false
                continue
            }
            if sealed.count >= maxLines {
                kept.append(row)
                continue
            }
            rowStates[Int(row)].netListed = false
            updateRow(row) {
                $0.inFlight += open
                $0.open = 0
            }
            sealed.append(NetLine(itemID: items[rowItem[Int(row)]], locationID: locations[rowLocation[Int(row)]], quantity: open))
        }
        netRows = kept
        return sealed
    }

    /// Records the outcome of a sealed batch: confirmed lines move from in flight into Zoho's
    /// figure; failed lines go back to open, to be sent again.
    public func resolveNets(_ sealed: [NetLine], confirmed: Bool) {
        precondition(inBatch, "resolveNets needs a batch")
        for line in sealed {
            guard let item = items[line.itemID], let location = locations[line.locationID],
                let row = rowIndex[UInt64(item) << 32 | UInt64(location)]
            else { continue }
            updateRow(row) {
                $0.inFlight -= line.quantity
                if confirmed {
                    $0.zohoOnHand += line.quantity
                } else {
                    $0.open += line.quantity
                }
            }
        }
    }
}
