//! Rage-click detection: three or more clicks within one second and 30 px of each other.

use alloc::vec::Vec;

const WINDOW_MS: f64 = 1000.0;
const RADIUS_PX: f64 = 30.0;
/// Clicks that make a rage click.
pub const RAGE_CLICKS: u32 = 3;

/// Recent clicks.
#[derive(Debug, Default)]
pub struct RageDetector {
    recent: Vec<(f64, f64, f64)>,
    reported: bool,
}

impl RageDetector {
    /// Records a click at time `t` (ms) and position; returns the burst size once, when a burst
    /// reaches [`RAGE_CLICKS`]. Further clicks of the same burst report nothing more.
    pub fn click(&mut self, t: f64, x: f64, y: f64) -> Option<u32> {
        self.recent.retain(|&(rt, rx, ry)| {
            t - rt <= WINDOW_MS && (rx - x) * (rx - x) + (ry - y) * (ry - y) <= RADIUS_PX * RADIUS_PX
        });
        if self.recent.is_empty() {
            self.reported = false;
        }
        self.recent.push((t, x, y));
        let n = u32::try_from(self.recent.len()).unwrap_or(u32::MAX);
        if n >= RAGE_CLICKS && !self.reported {
            self.reported = true;
            return Some(n);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_quick_close_clicks_are_one_rage_click() {
        let mut r = RageDetector::default();
        assert_eq!(r.click(0.0, 10.0, 10.0), None);
        assert_eq!(r.click(200.0, 15.0, 12.0), None);
        assert_eq!(r.click(400.0, 12.0, 20.0), Some(3));
        assert_eq!(r.click(500.0, 12.0, 20.0), None, "same burst reported once");
    }

    #[test]
    fn slow_or_scattered_clicks_are_not() {
        let mut r = RageDetector::default();
        r.click(0.0, 0.0, 0.0);
        r.click(600.0, 0.0, 0.0);
        assert_eq!(r.click(1700.0, 0.0, 0.0), None, "the first fell out of the window");
        let mut r = RageDetector::default();
        r.click(0.0, 0.0, 0.0);
        r.click(100.0, 100.0, 0.0);
        assert_eq!(r.click(200.0, 200.0, 0.0), None, "too far apart");
        // After a burst ends, a new one is reported again.
        let mut r = RageDetector::default();
        for t in [0.0, 100.0, 200.0] {
            r.click(t, 0.0, 0.0);
        }
        r.click(5000.0, 0.0, 0.0);
        r.click(5100.0, 0.0, 0.0);
        assert_eq!(r.click(5200.0, 0.0, 0.0), Some(3));
    }
}
