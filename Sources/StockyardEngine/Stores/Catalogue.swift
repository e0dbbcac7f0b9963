/// The item catalogue: each item's SKU and default locations, found by id or by SKU (listings
/// map themselves through it).
package struct Catalogue {
    package var items: [String: CatalogueItem] = [:]
    package var itemsBySKU: [String: String] = [:]

    package init() {}

    package func item(sku: String) -> CatalogueItem? { itemsBySKU[sku].flatMap { items[$0] } }

    package func item(id: String) -> CatalogueItem? { items[id] }

    /// Stores items; an item's old SKU no longer finds it.
    package mutating func apply(_ stored: [CatalogueItem]) {
        for item in stored {
            if let old = items[item.itemID], itemsBySKU[old.sku] == item.itemID {
                itemsBySKU[old.sku] = nil
            }
            items[item.itemID] = item
            itemsBySKU[item.sku] = item.itemID
        }
    }
}
