//! Onboarding as an explicit state machine: organization → profile → sources → products →
//! billing. Pure logic (no I/O): given a record and one step's input it returns the next record
//! or says why the transition is refused. Steps may be redone (to edit an answer) but never
//! skipped; a finished or abandoned flow accepts no more steps.

use crow_core::Timestamp;
use crow_core::domain::{Onboarding, OnboardingStatus};
use crow_core::id::{OnboardingId, OrganizationId, UserId};
use serde::Deserialize;

/// Every step, in order.
pub const STEPS: [Step; 5] = [Step::Organization, Step::Profile, Step::Sources, Step::Products, Step::Billing];

/// One step of the flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Create or choose the organization.
    Organization,
    /// The user's own profile.
    Profile,
    /// Which channels to collect (web, cctv, social).
    Sources,
    /// Where the catalogue comes from.
    Products,
    /// The plan.
    Billing,
}

impl Step {
    /// 1-based position.
    pub const fn number(self) -> u8 {
        match self {
            Step::Organization => 1,
            Step::Profile => 2,
            Step::Sources => 3,
            Step::Products => 4,
            Step::Billing => 5,
        }
    }
}

/// A step's answer, tagged by `step`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum StepInput {
    /// The organization (the service checks membership).
    Organization {
        /// Which.
        organization_id: OrganizationId,
    },
    /// Profile.
    Profile {
        /// Display name.
        name: String,
    },
    /// Channels.
    Sources {
        /// Subset of `web`, `cctv`, `social`.
        sources: Vec<String>,
    },
    /// Catalogue source.
    Products {
        /// `crawl`, `manual` or `none`.
        source: String,
        /// Shop URL, for `crawl`.
        url: Option<String>,
    },
    /// Plan.
    Billing {
        /// `trial`, `starter`, `growth` or `enterprise`.
        plan: String,
    },
}

impl StepInput {
    /// The step this input answers.
    pub const fn step(&self) -> Step {
        match self {
            StepInput::Organization { .. } => Step::Organization,
            StepInput::Profile { .. } => Step::Profile,
            StepInput::Sources { .. } => Step::Sources,
            StepInput::Products { .. } => Step::Products,
            StepInput::Billing { .. } => Step::Billing,
        }
    }
}

/// Why a transition is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// A later step before the current one.
    #[error("step {requested} cannot be done before step {expected}")]
    Skipped {
        /// The step to do next.
        expected: u8,
        /// The step attempted.
        requested: u8,
    },
    /// The flow is completed or abandoned.
    #[error("onboarding is already {0}")]
    Finished(&'static str),
    /// The answer is not acceptable.
    #[error("{0}")]
    Invalid(String),
}

/// A new flow for `user`, at step 1.
pub fn start(user: UserId, now: Timestamp) -> Onboarding {
    Onboarding {
        id: OnboardingId::new(),
        better_auth_user_id: user.to_string(),
        better_auth_org_id: None,
        current_step: 1,
        completed_steps: Vec::new(),
        product_source: None,
        product_url: None,
        plan: None,
        sources: Vec::new(),
        status: OnboardingStatus::InProgress,
        created_at: now,
        completed_at: None,
    }
}

/// Applies one step.
pub fn advance(current: &Onboarding, input: &StepInput, now: Timestamp) -> Result<Onboarding, TransitionError> {
    match current.status {
        OnboardingStatus::InProgress => {}
        OnboardingStatus::Completed => return Err(TransitionError::Finished("completed")),
        OnboardingStatus::Abandoned => return Err(TransitionError::Finished("abandoned")),
    }
    let step = input.step().number();
    if step > current.current_step {
        return Err(TransitionError::Skipped { expected: current.current_step, requested: step });
    }
    let mut next = current.clone();
    let invalid = |m: &str| Err(TransitionError::Invalid(m.into()));
    match input {
        StepInput::Organization { organization_id } => next.better_auth_org_id = Some(organization_id.to_string()),
        StepInput::Profile { name } => {
            if name.trim().is_empty() || name.chars().count() > 200 {
                return invalid("name must be 1-200 characters");
            }
        }
        StepInput::Sources { sources } => {
            if sources.is_empty() || sources.iter().any(|s| !matches!(s.as_str(), "web" | "cctv" | "social")) {
                return invalid("sources must be a non-empty subset of web, cctv, social");
            }
            let mut unique = sources.clone();
            unique.sort();
            unique.dedup();
            next.sources = unique;
        }
        StepInput::Products { source, url } => {
            match (source.as_str(), url) {
                ("crawl", Some(u)) if u.starts_with("https://") || u.starts_with("http://") => {}
                ("crawl", _) => return invalid("crawl needs the shop's http(s) url"),
                ("manual" | "none", _) => {}
                _ => return invalid("source must be crawl, manual or none"),
            }
            next.product_source = Some(source.clone());
            next.product_url = url.clone().filter(|_| source == "crawl");
        }
        StepInput::Billing { plan } => {
            if !matches!(plan.as_str(), "trial" | "starter" | "growth" | "enterprise") {
                return invalid("plan must be trial, starter, growth or enterprise");
            }
            next.plan = Some(plan.clone());
        }
    }
    if !next.completed_steps.contains(&step) {
        next.completed_steps.push(step);
        next.completed_steps.sort_unstable();
    }
    next.current_step = next.current_step.max(step + 1).min(STEPS.len() as u8);
    if STEPS.iter().all(|s| next.completed_steps.contains(&s.number())) {
        next.status = OnboardingStatus::Completed;
        next.completed_at = Some(now);
    }
    Ok(next)
}

/// Gives up the flow.
pub fn abandon(current: &Onboarding) -> Result<Onboarding, TransitionError> {
    if current.status != OnboardingStatus::InProgress {
        return Err(TransitionError::Finished("finished"));
    }
    Ok(Onboarding { status: OnboardingStatus::Abandoned, ..current.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Vec<StepInput> {
        vec![
            StepInput::Organization { organization_id: OrganizationId::new() },
            StepInput::Profile { name: "Ada".into() },
            StepInput::Sources { sources: vec!["web".into(), "cctv".into(), "web".into()] },
            StepInput::Products { source: "crawl".into(), url: Some("https://shop.example".into()) },
            StepInput::Billing { plan: "trial".into() },
        ]
    }

    #[test]
    fn walks_every_step_in_order_to_completion() {
        let now = Timestamp::from_millis(1);
        let mut o = start(UserId::new(), now);
        for input in inputs() {
            assert_eq!(o.status, OnboardingStatus::InProgress);
            o = advance(&o, &input, now).unwrap();
        }
        assert_eq!(o.status, OnboardingStatus::Completed);
        assert_eq!(o.completed_steps, vec![1, 2, 3, 4, 5]);
        assert_eq!(o.sources, vec!["cctv", "web"]);
        assert_eq!(o.completed_at, Some(now));
        assert!(matches!(advance(&o, &inputs()[0], now), Err(TransitionError::Finished(_))));
    }

    #[test]
    fn steps_cannot_be_skipped_but_can_be_redone() {
        let now = Timestamp::EPOCH;
        let o = start(UserId::new(), now);
        let err = advance(&o, &inputs()[2], now).unwrap_err();
        assert_eq!(err, TransitionError::Skipped { expected: 1, requested: 3 });
        let o = advance(&o, &inputs()[0], now).unwrap();
        let o = advance(&o, &inputs()[1], now).unwrap();
        let again = advance(&o, &StepInput::Profile { name: "Ada L.".into() }, now).unwrap();
        assert_eq!(again.current_step, 3, "redoing a step does not move backwards");
        assert_eq!(again.completed_steps, vec![1, 2]);
    }

    #[test]
    fn bad_answers_and_abandoned_flows_are_refused() {
        let now = Timestamp::EPOCH;
        let mut o = start(UserId::new(), now);
        for input in inputs().into_iter().take(2) {
            o = advance(&o, &input, now).unwrap();
        }
        for bad in [StepInput::Sources { sources: vec![] }, StepInput::Sources { sources: vec!["fax".into()] }] {
            assert!(matches!(advance(&o, &bad, now), Err(TransitionError::Invalid(_))));
        }
        let o = abandon(&o).unwrap();
        assert!(matches!(advance(&o, &inputs()[2], now), Err(TransitionError::Finished("abandoned"))));
    }
}
