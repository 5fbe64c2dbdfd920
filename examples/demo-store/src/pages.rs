//! The store's HTML. Every page embeds the tracker with one tag; product pages carry schema.org
//! Product JSON-LD; the cart lives in the browser (localStorage), so the server stays stateless.

use std::fmt::Write as _;

use crate::catalogue::{PRODUCTS, Product};

/// Where the tracker comes from and the shop's publishable key.
#[derive(Debug, Clone)]
pub struct Tracker {
    /// crow-server's public URL, e.g. `http://localhost:8080`.
    pub crow_url: String,
    /// `crow_pk_…`.
    pub key: String,
}

/// Escapes text for HTML bodies and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(tracker: &Tracker, title: &str, head: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title} — Rogue Store</title>
<style>
body{{font-family:system-ui,sans-serif;margin:0;color:#222}} header{{display:flex;gap:1.5rem;align-items:center;padding:1rem 2rem;background:#1d3557;color:#fff}}
header a{{color:#fff;text-decoration:none}} main{{padding:1.5rem 2rem;max-width:60rem}} .grid{{display:grid;grid-template-columns:repeat(3,1fr);gap:1rem}}
.card{{border:1px solid #ddd;border-radius:8px;padding:1rem}} .promo{{background:#ffd166;padding:.75rem 2rem;cursor:pointer}}
button{{padding:.5rem 1rem;border-radius:6px;border:0;background:#e63946;color:#fff;cursor:pointer}} .details{{min-height:2200px}}
</style>
<script src="{crow}/sdk/crow.js" data-key="{key}" async></script>
<script src="/static/store.js" defer></script>
{head}</head><body>
<header><a href="/"><strong>Rogue Store</strong></a><a href="/">Catalogue</a><a href="/cart" id="cart-link">Cart (<span id="cart-count">0</span>)</a></header>
<div class="promo" id="promo">Summer sale — up to 30% off selected items</div>
<main>{body}</main></body></html>"#,
        title = esc(title),
        crow = esc(&tracker.crow_url),
        key = esc(&tracker.key),
    )
}

fn add_button(p: &Product) -> String {
    let item = serde_json::json!({ "id": p.id, "sku": p.sku, "name": p.name, "price": p.price });
    format!(r#"<button class="add" data-add="{}">Add to cart</button>"#, esc(&item.to_string()))
}

/// `/`: the catalogue.
pub fn catalogue(tracker: &Tracker) -> String {
    let mut body = String::from("<h1>Catalogue</h1><div class=\"grid\">");
    for p in &PRODUCTS {
        let _ = write!(
            body,
            r#"<div class="card" data-crow-product="{id}" data-crow-sku="{sku}" data-crow-name="{name}"><h2><a href="/products/{id}">{name}</a></h2><p>{desc}</p><p>€{price:.2}</p>{button}</div>"#,
            id = esc(p.id),
            sku = esc(p.sku),
            name = esc(p.name),
            desc = esc(p.description),
            price = p.price,
            button = add_button(p),
        );
    }
    body.push_str("</div>");
    layout(tracker, "Catalogue", "", &body)
}

/// The schema.org Product description of a product page (also what the crawler reads).
pub fn json_ld(p: &Product) -> String {
    let ld = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "Product",
        "productID": p.id,
        "sku": p.sku,
        "name": p.name,
        "description": p.description,
        "category": p.category,
        "offers": { "@type": "Offer", "price": format!("{:.2}", p.price), "priceCurrency": "EUR",
                    "availability": "https://schema.org/InStock" },
    });
    // `<` escaped so no string can close the script element.
    ld.to_string().replace('<', "\\u003c")
}

/// `/products/{id}`.
pub fn product(tracker: &Tracker, p: &Product) -> String {
    let head = format!(r#"<script type="application/ld+json">{}</script>"#, json_ld(p));
    let body = format!(
        r#"<h1>{name}</h1><p>{desc}</p><p class="price">€{price:.2}</p>{button}
<button class="notify" type="button" id="notify">Notify me</button>
<section class="details"><h2>Details</h2><p>Category: {cat}. SKU {sku}.</p></section>
<p id="bottom"><a href="/">Back to the catalogue</a></p>"#,
        name = esc(p.name),
        desc = esc(p.description),
        price = p.price,
        button = add_button(p),
        cat = esc(p.category),
        sku = esc(p.sku),
    );
    layout(tracker, p.name, &head, &body)
}

/// `/cart`.
pub fn cart(tracker: &Tracker) -> String {
    let body = r#"<h1>Your cart</h1><ul id="lines"></ul><p>Total: €<span id="total">0.00</span></p>
<p><a href="/checkout" id="to-checkout">Proceed to checkout</a></p>"#;
    layout(tracker, "Cart", "", body)
}

/// `/checkout`: field values stay in the page; the tracker only counts the submit.
pub fn checkout(tracker: &Tracker) -> String {
    let body = r#"<h1>Checkout</h1><ul id="lines"></ul><p>Total: €<span id="total">0.00</span></p>
<form id="checkout-form"><input type="hidden" name="id" value="checkout-1">
<label>Name <input name="name" required></label>
<label>Email <input name="email" type="email" required></label>
<label>Address <input name="address" required></label>
<button type="submit" id="place-order">Place order</button></form>"#;
    layout(tracker, "Checkout", "", body)
}

/// `/thank-you`.
pub fn thank_you(tracker: &Tracker) -> String {
    layout(tracker, "Thank you", "", r#"<h1>Thank you!</h1><p>Your order <span id="order"></span> is on its way.</p>"#)
}

/// `/static/store.js`: the cart (localStorage) and the tracker calls a shop would make.
pub const STORE_JS: &str = r#"(function () {
  var KEY = "rogue_cart";
  // The tracker tag is async: until its loader has run there is no window.crow yet.
  function crowCall(method, arg, tries) {
    if (window.crow) return window.crow[method](arg);
    if ((tries || 0) < 100) setTimeout(function () { crowCall(method, arg, (tries || 0) + 1); }, 50);
  }
  function cart() { try { return JSON.parse(localStorage.getItem(KEY)) || []; } catch (e) { return []; } }
  function save(c) { localStorage.setItem(KEY, JSON.stringify(c)); render(); }
  function total(c) { return c.reduce(function (s, l) { return s + l.price * l.quantity; }, 0); }
  function render() {
    var c = cart();
    var n = document.getElementById("cart-count");
    if (n) n.textContent = c.reduce(function (s, l) { return s + l.quantity; }, 0);
    var lines = document.getElementById("lines");
    if (lines) {
      lines.innerHTML = "";
      c.forEach(function (l) {
        var li = document.createElement("li");
        li.textContent = l.quantity + " × " + l.name + " ";
        var b = document.createElement("button");
        b.textContent = "Remove"; b.setAttribute("data-remove", l.id);
        li.appendChild(b); lines.appendChild(li);
      });
      document.getElementById("total").textContent = total(c).toFixed(2);
    }
  }
  document.addEventListener("click", function (e) {
    var add = e.target.closest("[data-add]");
    if (add) {
      var item = JSON.parse(add.getAttribute("data-add"));
      var c = cart(), line = c.find(function (l) { return l.id === item.id; });
      if (line) line.quantity += 1; else c.push(Object.assign({ quantity: 1 }, item));
      save(c);
      crowCall("addToCart", Object.assign({ quantity: 1 }, item));
    }
    var rm = e.target.closest("[data-remove]");
    if (rm) {
      var id = rm.getAttribute("data-remove"), c2 = cart(), gone = c2.find(function (l) { return l.id === id; });
      save(c2.filter(function (l) { return l.id !== id; }));
      if (gone) crowCall("removeFromCart", gone);
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    render();
    var form = document.getElementById("checkout-form");
    if (!form) {
      var order = new URLSearchParams(location.search).get("order");
      if (order && document.getElementById("order")) document.getElementById("order").textContent = order;
      return;
    }
    var c = cart();
    crowCall("checkoutStarted", { items: c, value: total(c), currency: "EUR" });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var items = cart(), orderId = "order-" + Date.now();
      crowCall("purchase", { orderId: orderId, items: items, value: total(items), currency: "EUR" });
      localStorage.removeItem(KEY);
      location.href = "/thank-you?order=" + encodeURIComponent(orderId);
    });
  });
})();
"#;
