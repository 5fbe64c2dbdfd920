//! Offline AI: extractive and statistical methods behind the AI ports.
//!
//! - [`HashingEmbedder`]: feature hashing of word unigrams and bigrams into a fixed-size,
//!   L2-normalised vector. Texts sharing words get a high cosine similarity; it is a real (if
//!   modest) embedding, good enough for retrieval over short texts without a model.
//! - [`OfflineExtractor`]: fills a JSON schema from the input: strings named like summaries get
//!   the leading sentences, string arrays get the most frequent content words, other fields get
//!   neutral values. It never invents facts that are not in the input.

use std::collections::HashMap;

use async_trait::async_trait;
use crow_core::ports::ai::{AiError, Embedder, StructuredExtractor};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is", "it", "its", "of", "on",
    "or", "our", "that", "the", "their", "this", "to", "was", "we", "were", "with", "you", "your", "null", "true",
    "false",
];

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Feature-hashing embedder.
#[derive(Clone, Debug)]
pub struct HashingEmbedder {
    dimensions: usize,
}

impl HashingEmbedder {
    /// Vectors of `dimensions` floats.
    pub fn new(dimensions: usize) -> Self {
        Self { dimensions: dimensions.max(8) }
    }

    fn embed_one(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dimensions];
        let ws = words(text);
        let grams =
            ws.iter().map(String::as_str).map(str::to_owned).chain(ws.windows(2).map(|w| format!("{} {}", w[0], w[1])));
        for gram in grams {
            let h = Sha256::digest(gram.as_bytes());
            let index = (u64::from_le_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]) % self.dimensions as u64)
                as usize;
            // The sign bit spreads collisions around zero instead of piling them up.
            v[index] += if h[8] & 1 == 0 { 1.0 } else { -1.0 };
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        v
    }
}

#[async_trait]
impl Embedder for HashingEmbedder {
    fn dimensions(&self) -> usize {
        self.dimensions
    }

    fn model(&self) -> &str {
        "crow-offline-hashing-v1"
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, AiError> {
        Ok(texts.iter().map(|t| self.embed_one(t)).collect())
    }
}

/// Schema-shaped extractive answers.
#[derive(Clone, Copy, Debug, Default)]
pub struct OfflineExtractor;

fn keywords(input: &str, n: usize) -> Vec<String> {
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    for (position, w) in words(input).into_iter().enumerate() {
        if w.len() < 3 || STOPWORDS.contains(&w.as_str()) || w.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let entry = counts.entry(w).or_insert((0, position));
        entry.0 += 1;
    }
    let mut ranked: Vec<(String, (usize, usize))> = counts.into_iter().collect();
    // Most frequent first; ties by first appearance, so the answer is deterministic.
    ranked.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.1.1.cmp(&b.1.1)));
    ranked.into_iter().take(n).map(|(w, _)| w).collect()
}

fn leading_sentences(input: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for sentence in input.split_inclusive(['.', '!', '?', '\n']) {
        let s = sentence.trim();
        if s.is_empty() {
            continue;
        }
        if !out.is_empty() && out.len() + s.len() + 1 > max_chars {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(s);
    }
    out.chars().take(max_chars).collect()
}

fn fill(name: &str, schema: &Value, input: &str) -> Result<Value, AiError> {
    let kind = schema.get("type").and_then(Value::as_str).unwrap_or("string");
    Ok(match kind {
        "object" => {
            let mut out = Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (key, sub) in props {
                    out.insert(key.clone(), fill(key, sub, input)?);
                }
            }
            Value::Object(out)
        }
        "array" => {
            let n = schema.get("maxItems").and_then(Value::as_u64).unwrap_or(8) as usize;
            Value::Array(keywords(input, n).into_iter().map(Value::String).collect())
        }
        "string" => {
            let max = schema.get("maxLength").and_then(Value::as_u64).unwrap_or(400) as usize;
            let lower = name.to_lowercase();
            if lower.contains("summary") || lower.contains("description") || lower.contains("context") {
                Value::String(leading_sentences(input, max))
            } else {
                Value::String(keywords(input, 1).into_iter().next().unwrap_or_default())
            }
        }
        "number" | "integer" => Value::from(0),
        "boolean" => Value::Bool(false),
        other => {
            return Err(AiError::InvalidInput(format!("unsupported schema type `{other}`")));
        }
    })
}

#[async_trait]
impl StructuredExtractor for OfflineExtractor {
    async fn extract(&self, _instruction: &str, input: &str, schema: &Value) -> Result<Value, AiError> {
        if input.len() > 1_000_000 {
            return Err(AiError::InvalidInput("input longer than 1 MB".into()));
        }
        fill("", schema, input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[tokio::test]
    async fn similar_texts_embed_close_together() {
        let e = HashingEmbedder::new(256);
        let v = e
            .embed(&[
                "blue ceramic coffee mug".into(),
                "a blue coffee mug in ceramic".into(),
                "wireless gaming headset".into(),
            ])
            .await
            .unwrap();
        assert!((cosine(&v[0], &v[0]) - 1.0).abs() < 1e-5, "unit length");
        assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.3);
        assert_eq!(
            v,
            e.embed(&[
                "blue ceramic coffee mug".into(),
                "a blue coffee mug in ceramic".into(),
                "wireless gaming headset".into()
            ])
            .await
            .unwrap()
        );
    }

    #[tokio::test]
    async fn extraction_follows_the_schema_and_the_input() {
        let schema = serde_json::json!({
            "type": "object",
            "properties": { "summary": { "type": "string", "maxLength": 60 }, "keywords": { "type": "array", "maxItems": 3 } }
        });
        let input = "Acme sells ceramic mugs. Our mugs are handmade. We ship mugs worldwide.";
        let out = OfflineExtractor.extract("summarise", input, &schema).await.unwrap();
        assert_eq!(out["summary"], "Acme sells ceramic mugs. Our mugs are handmade.");
        assert_eq!(out["keywords"], serde_json::json!(["mugs", "acme", "sells"]));
    }
}
