//! Injected failures.

/// A failure to inject into matching requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Requests whose path starts with this (e.g. `/api/v1/users`) are counted.
    pub path_prefix: String,
    /// 1-based: the nth matching request (counted since the fault was added) is the first to fail.
    pub nth: usize,
    /// How many consecutive matching requests, starting at the nth, fail.
    pub times: usize,
    /// What happens to them.
    pub kind: FaultKind,
}

/// What a fault does to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer with this status: 500 with Okta's E0000009 body, 502/503/504 with a
    /// gateway's HTML body, 429 with E0000047 and `X-Rate-Limit-Remaining: 0`,
    /// other codes with the matching Okta error.
    Status(u16),
    /// 401 E0000011, as for a revoked token.
    RevokedToken,
    /// 400 E0000031 "Invalid cursor.".
    InvalidCursor,
    /// The normal response with its body cut in half (status 200, invalid JSON).
    MalformedJson,
    /// The normal response with the `next` link pointing at this origin instead.
    NextToForeignHost(String),
    /// The normal response, sent after this many milliseconds (a slow Okta).
    Delay(u64),
    /// The connection is closed after the status line and headers, before any body.
    ConnectionReset,
    /// The full `Content-Length` is announced but only half the body is sent.
    TruncatedBody,
    /// A list page without a `next` link gets one anyway, which returns `[]` (Okta
    /// may do this after an exactly full last page).
    EmptyNextPage,
}

/// The `after` cursor of the empty page [`FaultKind::EmptyNextPage`] adds.
pub const END_CURSOR: &str = "end-of-list";

/// The active faults with their per-fault counters.
#[derive(Debug, Default)]
pub(crate) struct FaultSet {
    entries: Vec<(Fault, usize)>,
}

impl FaultSet {
    pub fn add(&mut self, fault: Fault) {
        self.entries.push((fault, 0));
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Counts the request against every fault whose prefix matches, and
    /// returns the first fault that fires.
    pub fn check(&mut self, path: &str) -> Option<FaultKind> {
        let mut fired = None;
        for (fault, seen) in &mut self.entries {
            if !path.starts_with(&fault.path_prefix) {
                continue;
            }
            *seen += 1;
            let nth = fault.nth.max(1);
            if fired.is_none() && *seen >= nth && *seen < nth + fault.times {
                fired = Some(fault.kind.clone());
            }
        }
        fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nth_and_times() {
        let mut set = FaultSet::default();
        set.add(Fault {
            path_prefix: "/api/v1/users".into(),
            nth: 2,
            times: 2,
            kind: FaultKind::Status(503),
        });
        let got: Vec<_> = [
            "/api/v1/users",
            "/api/v1/groups",
            "/api/v1/users",
            "/api/v1/users/x",
            "/api/v1/users",
        ]
        .iter()
        .map(|p| set.check(p))
        .collect();
        assert_eq!(
            got,
            vec![
                None,
                None,
                Some(FaultKind::Status(503)),
                Some(FaultKind::Status(503)),
                None
            ]
        );
    }
}
