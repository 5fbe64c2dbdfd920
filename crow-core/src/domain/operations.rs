//! Billing subscriptions, notifications and usage analytics.

use alloc::string::String;

use serde::{Deserialize, Serialize};

use crate::id::{NotificationId, OrganizationId, SubscriptionId, UsageEventId, UserId};
use crate::time::Timestamp;

/// Subscription state, as Stripe reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// In a trial.
    Trialing,
    /// Paid and current.
    Active,
    /// Payment failed; grace period.
    PastDue,
    /// Ended.
    Canceled,
    /// Checkout not completed.
    Incomplete,
}

/// An organization's plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// Id.
    pub id: SubscriptionId,
    /// Tenant.
    pub organization_id: OrganizationId,
    /// Plan name.
    pub plan: String,
    /// Status.
    pub status: SubscriptionStatus,
    /// Payment provider's customer id.
    pub provider_customer_id: Option<String>,
    /// Payment provider's subscription id.
    pub provider_subscription_id: Option<String>,
    /// End of the paid period.
    pub current_period_end: Option<Timestamp>,
    /// Ends at period end instead of renewing.
    pub cancel_at_period_end: bool,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// How a notification is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationChannel {
    /// Email.
    Email,
    /// Dashboard inbox.
    InApp,
    /// An HTTP callback.
    Webhook,
}

/// Delivery state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationStatus {
    /// Waiting to be sent.
    Pending,
    /// Handed to the channel.
    Sent,
    /// Gave up.
    Failed,
    /// Read by the user (in-app).
    Read,
}

/// A message to a user or organization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Id.
    pub id: NotificationId,
    /// Tenant.
    pub organization_id: OrganizationId,
    /// Recipient; `None` for the whole organization.
    pub user_id: Option<UserId>,
    /// Channel.
    pub channel: NotificationChannel,
    /// Subject line.
    pub subject: String,
    /// Body text.
    pub body: String,
    /// Status.
    pub status: NotificationStatus,
    /// Created.
    pub created_at: Timestamp,
    /// Sent.
    pub sent_at: Option<Timestamp>,
}

/// A metered use of the platform (API call, AI tokens, stored frame), for usage summaries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageEvent {
    /// Id.
    pub id: UsageEventId,
    /// Tenant.
    pub organization_id: OrganizationId,
    /// What was used (`api_request`, `ai_tokens`, `interactions_ingested`, …).
    pub metric: String,
    /// How much.
    pub quantity: i64,
    /// Which service recorded it.
    pub service: String,
    /// When.
    pub occurred_at: Timestamp,
}
