//! The store's products: fixed, so tests and the crawler know what to expect.

/// One product.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Product {
    /// The shop's id (`data-crow-product`, schema.org `productID`).
    pub id: &'static str,
    /// SKU.
    pub sku: &'static str,
    /// Name.
    pub name: &'static str,
    /// Price in EUR.
    pub price: f64,
    /// One line.
    pub description: &'static str,
    /// Category.
    pub category: &'static str,
}

/// Everything the store sells.
pub const PRODUCTS: [Product; 6] = [
    Product {
        id: "mug-blue",
        sku: "RS-001",
        name: "Blue Enamel Mug",
        price: 14.5,
        description: "A camping mug that survives the dishwasher.",
        category: "Kitchen",
    },
    Product {
        id: "kettle-steel",
        sku: "RS-002",
        name: "Steel Gooseneck Kettle",
        price: 49.0,
        description: "Pour-over precision, 1 litre.",
        category: "Kitchen",
    },
    Product {
        id: "tote-canvas",
        sku: "RS-003",
        name: "Canvas Tote",
        price: 22.0,
        description: "Heavy canvas, leather handles.",
        category: "Bags",
    },
    Product {
        id: "lamp-desk",
        sku: "RS-004",
        name: "Brass Desk Lamp",
        price: 89.9,
        description: "Warm light, adjustable arm.",
        category: "Home",
    },
    Product {
        id: "socks-wool",
        sku: "RS-005",
        name: "Merino Socks (2 pairs)",
        price: 18.0,
        description: "Soft, warm, hard-wearing.",
        category: "Clothing",
    },
    Product {
        id: "notebook-dot",
        sku: "RS-006",
        name: "Dotted Notebook",
        price: 12.0,
        description: "A5, 160 pages, lies flat.",
        category: "Stationery",
    },
];

/// A product by id.
pub fn find(id: &str) -> Option<&'static Product> {
    PRODUCTS.iter().find(|p| p.id == id)
}
