//! Scroll depth milestones: a page reports 25, 50, 75 and 100 % once each, not every scroll event.

/// The deepest milestone (0, 25, 50, 75 or 100) reached when `pct` % of the page has been seen;
/// half a percent short counts (a page rarely scrolls to the exact pixel). NaN counts as 0.
pub fn milestone(pct: f64) -> u8 {
    // A saturating cast, and at most 4 quarters.
    ((pct.clamp(0.0, 100.0) + 0.5) / 25.0) as u8 * 25
}

#[cfg(test)]
mod tests {
    use super::milestone;

    #[test]
    fn quarters_with_half_a_percent_of_slack() {
        let cases = [(0.0, 0), (24.4, 0), (24.5, 25), (49.9, 50), (74.0, 50), (99.5, 100), (100.0, 100)];
        for (pct, expected) in cases {
            assert_eq!(milestone(pct), expected, "{pct}");
        }
        for pct in [-5.0, f64::NAN, f64::NEG_INFINITY] {
            assert_eq!(milestone(pct), 0, "{pct}");
        }
        assert_eq!(milestone(250.0), 100);
        assert_eq!(milestone(f64::INFINITY), 100);
    }
}
