//! Chat conversations with the analysis agent.

use alloc::string::String;

use serde::{Deserialize, Serialize};

use crate::id::{ConversationId, MessageId, OrganizationId, UserId};
use crate::time::Timestamp;

/// A conversation between a user and the agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    /// Id.
    pub id: ConversationId,
    /// Tenant.
    pub organization_id: OrganizationId,
    /// Who started it.
    pub user_id: UserId,
    /// Title.
    pub title: String,
    /// Created.
    pub created_at: Timestamp,
    /// Last message.
    pub updated_at: Timestamp,
}

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// The person.
    User,
    /// The agent.
    Assistant,
    /// A tool's result fed back to the agent.
    Tool,
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// Id.
    pub id: MessageId,
    /// Conversation.
    pub conversation_id: ConversationId,
    /// Author.
    pub role: ChatRole,
    /// Text.
    pub content: String,
    /// Tool calls the assistant made, or the tool result (JSON).
    pub tool_data: Option<serde_json::Value>,
    /// Created.
    pub created_at: Timestamp,
}
