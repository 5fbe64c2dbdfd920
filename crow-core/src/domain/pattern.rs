//! Patterns discovered over interactions on a schedule.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::id::{InteractionId, OrganizationId, PatternId};
use crate::time::Timestamp;

/// The analysis window a pattern run covers (hourly … yearly, as the original's cron triggers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// Every hour.
    Hourly,
    /// Daily at 02:00 UTC.
    Daily,
    /// Mondays at 03:00 UTC.
    Weekly,
    /// The 1st at 04:00 UTC.
    Monthly,
    /// January 1st at 05:00 UTC.
    Yearly,
}

/// What sort of regularity was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternKind {
    /// A rise or fall over time.
    Trend,
    /// Something unusual against the baseline.
    Anomaly,
    /// Products or behaviours that go together.
    Association,
    /// Where shoppers drop out of the funnel.
    FunnelDropOff,
    /// A recurring time-of-day/week effect.
    Seasonality,
    /// A group of similar visitors or sessions.
    Segment,
}

/// One piece of support for a pattern.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// What was measured.
    pub metric: String,
    /// Its value.
    pub value: f64,
    /// The baseline it was compared with, if any.
    pub baseline: Option<f64>,
    /// Example interactions.
    pub interaction_ids: Vec<InteractionId>,
}

/// A pattern discovered for one organization over one window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatternResult {
    /// Id.
    pub id: PatternId,
    /// Tenant.
    pub organization_id: OrganizationId,
    /// Schedule that produced it.
    pub period: Period,
    /// Kind.
    pub kind: PatternKind,
    /// Short title.
    pub title: String,
    /// Explanation.
    pub description: String,
    /// 0..=1.
    pub confidence: f32,
    /// Support.
    pub evidence: Vec<Evidence>,
    /// Window start (inclusive).
    pub window_start: Timestamp,
    /// Window end (exclusive).
    pub window_end: Timestamp,
    /// Created.
    pub created_at: Timestamp,
}
