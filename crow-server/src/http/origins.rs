//! Trusted origins: the one matcher behind the auth service's CSRF check and (with the gateway)
//! CORS. Exact origins, anchored wildcard-subdomain patterns (`https://*.example.com` matches
//! `https://app.example.com`, never `https://example.com.evil.com` or `https://evilexample.com`),
//! and — in the local environment only — `http://localhost` on any port. `null` never matches.

/// One trusted-origin rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// `scheme://host[:port]`, compared exactly (lower-case).
    Exact(String),
    /// `scheme://*.suffix[:port]`: any subdomain of `suffix`, same scheme and port.
    Subdomains {
        /// `https://`
        scheme: String,
        /// `.example.com` (with the leading dot) plus `:port` if given.
        suffix: String,
    },
}

impl Pattern {
    /// Parses an origin or pattern; `None` when it is neither.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().trim_end_matches('/').to_ascii_lowercase();
        let (scheme, rest) = text.split_once("://")?;
        if !matches!(scheme, "http" | "https") || rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
            return None;
        }
        if let Some(suffix) = rest.strip_prefix("*.") {
            if suffix.is_empty() || suffix.contains('*') || !suffix.contains('.') {
                return None;
            }
            return Some(Pattern::Subdomains { scheme: format!("{scheme}://"), suffix: format!(".{suffix}") });
        }
        (!rest.contains('*')).then(|| Pattern::Exact(text.clone()))
    }

    fn matches(&self, origin: &str) -> bool {
        match self {
            Pattern::Exact(o) => o == origin,
            Pattern::Subdomains { scheme, suffix } => origin
                .strip_prefix(scheme.as_str())
                .and_then(|host| host.strip_suffix(suffix.as_str()))
                // One or more labels before the suffix, made only of host characters.
                .is_some_and(|sub| {
                    !sub.is_empty()
                        && sub.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
                        && !sub.starts_with('.')
                        && !sub.ends_with('.')
                }),
        }
    }
}

/// The set of trusted origins.
#[derive(Clone, Debug, Default)]
pub struct TrustedOrigins {
    patterns: Vec<Pattern>,
    localhost_any_port: bool,
}

impl TrustedOrigins {
    /// From configuration entries (already validated) plus, when `local`, localhost on any port.
    pub fn new(entries: &[String], local: bool) -> Self {
        Self { patterns: entries.iter().filter_map(|e| Pattern::parse(e)).collect(), localhost_any_port: local }
    }

    /// Whether `origin` (an `Origin` header value) is trusted.
    pub fn is_trusted(&self, origin: &str) -> bool {
        let origin = origin.trim().to_ascii_lowercase();
        if origin == "null" || origin.is_empty() {
            return false;
        }
        if self.localhost_any_port && is_localhost(&origin) {
            return true;
        }
        self.patterns.iter().any(|p| p.matches(&origin))
    }
}

fn is_localhost(origin: &str) -> bool {
    ["http://localhost", "http://127.0.0.1"].iter().any(|base| {
        origin.strip_prefix(base).is_some_and(|rest| {
            rest.is_empty()
                || rest.strip_prefix(':').is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_wildcard_subdomains() {
        let t = TrustedOrigins::new(&["https://app.example.com".into(), "https://*.crow.dev".into()], false);
        for ok in ["https://app.example.com", "https://APP.example.com", "https://a.crow.dev", "https://x.y.crow.dev"] {
            assert!(t.is_trusted(ok), "{ok}");
        }
        for bad in [
            "null",
            "",
            "http://app.example.com",
            "https://app.example.com.evil.com",
            "https://evilexample.com",
            "https://crow.dev",
            "https://evilcrow.dev",
            "https://a.crow.dev.evil.com",
            "https://a.crow.dev:8443",
            "http://localhost:3000",
        ] {
            assert!(!t.is_trusted(bad), "{bad}");
        }
    }

    #[test]
    fn localhost_only_in_local() {
        let local = TrustedOrigins::new(&[], true);
        assert!(local.is_trusted("http://localhost:3000"));
        assert!(local.is_trusted("http://127.0.0.1:8080"));
        assert!(!local.is_trusted("http://localhost.evil.com"));
        assert!(!local.is_trusted("http://localhost:3000@evil.com"));
        assert!(!TrustedOrigins::new(&[], false).is_trusted("http://localhost:3000"));
    }

    #[test]
    fn patterns_are_validated() {
        for bad in ["example.com", "ftp://x.com", "https://*", "https://*.com", "https://a.com/path", "https://*.*.com"]
        {
            assert!(Pattern::parse(bad).is_none(), "{bad}");
        }
    }
}
