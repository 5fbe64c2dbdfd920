//! The embedded analyser: deterministic rules from the interaction kind (and product names),
//! so the default deployment gives every interaction a sentiment and an intent with no model.
//! An LLM analyser with the organization's context replaces it behind the same call later.

use crow_core::domain::{Analysis, Intent, InteractionKind, NewInteraction, Sentiment};

/// The analyser's name, stored with each analysis.
pub const MODEL: &str = "rules-v1";

/// Reads one interaction.
pub fn analyse(item: &NewInteraction) -> Analysis {
    use InteractionKind as K;
    let (sentiment, intent, confidence, what) = match item.kind {
        K::Purchase => (Sentiment::Positive, Intent::Converted, 0.9, "completed a purchase"),
        K::AddToCart => (Sentiment::Positive, Intent::Purchase, 0.7, "added a product to the cart"),
        K::CheckoutStarted => (Sentiment::Positive, Intent::Purchase, 0.75, "started checkout"),
        K::RemoveFromCart => (Sentiment::Neutral, Intent::Abandon, 0.6, "removed a product from the cart"),
        K::RageClick => {
            (Sentiment::Negative, Intent::Support, 0.8, "clicked repeatedly in one spot, a sign of frustration")
        }
        K::DeadClick => (Sentiment::Negative, Intent::Support, 0.6, "clicked something that did nothing"),
        K::JsError => (Sentiment::Negative, Intent::Support, 0.5, "hit a page error"),
        K::ProductView => (Sentiment::Neutral, Intent::Research, 0.6, "looked at a product"),
        K::FormSubmit => (Sentiment::Neutral, Intent::Browse, 0.4, "submitted a form"),
        K::SocialMention => (Sentiment::Neutral, Intent::Unknown, 0.3, "mentioned a product"),
        K::InStoreObservation => (Sentiment::Neutral, Intent::Research, 0.4, "was seen with a product"),
        _ => (Sentiment::Neutral, Intent::Browse, 0.4, "browsed"),
    };
    let product =
        item.products.iter().find_map(|p| p.name.clone().or_else(|| p.external_id.clone()).or_else(|| p.sku.clone()));
    let summary = match product {
        Some(p) => format!("The visitor {what} ({p})."),
        None => format!("The visitor {what}."),
    };
    Analysis { sentiment, intent, summary, confidence, model: MODEL.into() }
}
