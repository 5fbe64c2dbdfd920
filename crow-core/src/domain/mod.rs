//! Domain types for every entity in the specification, in their wire (JSON, camelCase) form.
//!
//! These are plain data. Rules that span entities (tenancy, state transitions) live in the
//! services; rules about one value (an event's size limits, a queue's backoff) live beside the type.

mod account;
mod catalogue;
mod chat;
mod interaction;
mod operations;
mod organization;
mod pattern;

pub use account::{Account, JwksKey, Session, User};
pub use catalogue::{CrawlerJob, CrawlerJobStatus, Product};
pub use chat::{ChatMessage, ChatRole, Conversation};
pub use interaction::{
    Analysis, Bucket, Channel, Count, CountBy, Intent, Interaction, InteractionBatch, InteractionKind,
    InteractionQuery, NewInteraction, Page, ProductRef, Sentiment,
};
pub use operations::{
    Notification, NotificationChannel, NotificationStatus, Subscription, SubscriptionStatus, UsageEvent,
};
pub use organization::{
    ApiKey, ApiKeyKind, AuthOrganization, Invitation, InvitationStatus, Member, Onboarding, OnboardingStatus,
    Organization,
};
pub use pattern::{Evidence, PatternKind, PatternResult, Period};
