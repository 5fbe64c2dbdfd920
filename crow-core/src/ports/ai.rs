//! AI ports: embeddings, a chat model that can call tools, a vision describer and a structured
//! extractor. The embedded default answers offline with deterministic methods; an
//! OpenAI-compatible endpoint can stand behind the same traits.

use alloc::string::String;
use alloc::vec::Vec;

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::BoxError;

/// Why an AI call failed.
#[derive(Debug, thiserror::Error)]
pub enum AiError {
    /// The input cannot be processed (too long, unsupported image type, schema invalid).
    #[error("invalid AI input: {0}")]
    InvalidInput(String),
    /// The model's answer did not fit the requested shape.
    #[error("the model's output did not match the expected shape: {0}")]
    BadOutput(String),
    /// The provider refused for load; retry after a while.
    #[error("AI provider is rate limiting")]
    RateLimited,
    /// The provider failed.
    #[error("AI provider failed")]
    Backend(#[source] BoxError),
}

/// Text embeddings.
#[async_trait]
pub trait Embedder: Send + Sync {
    /// Vector length; constant for one embedder.
    fn dimensions(&self) -> usize;
    /// Identifies the model, stored beside vectors so a model change triggers re-embedding.
    fn model(&self) -> &str;
    /// One unit-length vector per input text.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, AiError>;
}

/// Who wrote a chat turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions.
    System,
    /// The person.
    User,
    /// The model.
    Assistant,
    /// A tool result.
    Tool,
}

/// A tool the model may call, with a JSON-schema description of its arguments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Name the model uses.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON schema of the arguments object.
    pub parameters: serde_json::Value,
}

/// A call the model asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Correlates the result.
    pub id: String,
    /// Tool name.
    pub name: String,
    /// Arguments.
    pub arguments: serde_json::Value,
}

/// One chat turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Author.
    pub role: Role,
    /// Text.
    pub content: String,
    /// Calls the assistant made in this turn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For `Role::Tool`: the call this answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

/// A completion request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// Tools on offer.
    pub tools: Vec<ToolSpec>,
    /// Upper bound on generated tokens.
    pub max_tokens: Option<u32>,
}

/// Why the model stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// A complete answer.
    Stop,
    /// It wants tool results before continuing.
    ToolCalls,
    /// Hit `max_tokens`.
    Length,
}

/// The model's turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletion {
    /// The assistant message (possibly with tool calls).
    pub message: Message,
    /// Why it stopped.
    pub finish_reason: FinishReason,
}

/// A chat model with tool calling.
#[async_trait]
pub trait ChatModel: Send + Sync {
    /// One completion.
    async fn complete(&self, request: &ChatRequest) -> Result<ChatCompletion, AiError>;
}

/// An image to describe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    /// Encoded bytes.
    pub bytes: Bytes,
    /// `image/jpeg`, `image/png`, …
    pub mime: String,
}

/// Something recognised in an image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Label {
    /// What.
    pub name: String,
    /// 0..=1.
    pub confidence: f32,
}

/// A vision model's reading of an image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisionDescription {
    /// Prose description.
    pub text: String,
    /// Objects and actions recognised.
    pub labels: Vec<Label>,
}

/// Describes camera frames.
#[async_trait]
pub trait VisionDescriber: Send + Sync {
    /// Describes `image`, guided by `prompt` (e.g. the store's context).
    async fn describe(&self, image: &Image, prompt: &str) -> Result<VisionDescription, AiError>;
}

/// Extracts structured data (products from a page, fields from a post) matching a JSON schema.
#[async_trait]
pub trait StructuredExtractor: Send + Sync {
    /// Returns a JSON value valid against `schema`, following `instruction`, from `input`.
    async fn extract(
        &self,
        instruction: &str,
        input: &str,
        schema: &serde_json::Value,
    ) -> Result<serde_json::Value, AiError>;
}
