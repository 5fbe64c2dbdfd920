//! Whether the tracker may send anything.

/// A visitor's opt-out always wins; otherwise an explicit consent decision by the site (its
/// consent banner) decides; without one, Do Not Track or Global Privacy Control mean no.
pub fn allowed(opted_out: bool, consent: Option<bool>, do_not_track: bool, gpc: bool) -> bool {
    !opted_out && consent.unwrap_or(!(do_not_track || gpc))
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn opt_out_then_consent_then_browser_signals() {
        assert!(allowed(false, None, false, false));
        assert!(!allowed(false, None, true, false), "DNT");
        assert!(!allowed(false, None, false, true), "GPC");
        assert!(allowed(false, Some(true), true, true), "site consent overrides the signals");
        assert!(!allowed(false, Some(false), false, false));
        assert!(!allowed(true, Some(true), false, false), "the visitor's opt-out wins");
    }
}
