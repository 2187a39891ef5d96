//! Why a plugin call failed, as the host keeps it (converted once from the WIT's
//! `sync-error`, [`super::wit`]), and one sentence for each failure.

use super::report::GuardRefusal;
use super::run::FailureKind;

/// One setting that was refused.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The setting as the plugin names it, e.g. `okta-domain`, `guard-percent`.
    pub field: String,
    /// Why, in one sentence.
    pub message: String,
}

/// The kind of an Okta failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OktaErrorKind {
    /// 401: the token is invalid, revoked or expired.
    InvalidToken,
    /// 403: the token may not do this.
    Forbidden,
    /// 403 `insufficient_scope`: the OAuth app lacks the scope the endpoint needs.
    MissingScope,
    /// 404.
    NotFound,
    /// 429 and retries did not help.
    RateLimited,
    /// 400.
    BadRequest,
    /// 5xx.
    ServerError,
    /// The response could not be read.
    BadResponse,
    /// The request did not complete.
    Transport,
}

/// An Okta request that failed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OktaError {
    /// Kind of failure.
    pub kind: OktaErrorKind,
    /// HTTP status, 0 when there was no response.
    pub status: u16,
    /// Okta `errorCode`, if the body had one.
    pub error_code: Option<String>,
    /// Okta `errorSummary`, or a description of the failure.
    pub summary: String,
    /// The request path (never a credential).
    pub path: String,
}

/// Why a sync, a login sync or a connection test failed; nothing was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncError {
    /// The settings are invalid.
    InvalidConfig(Vec<FieldError>),
    /// Okta failed.
    Okta(OktaError),
    /// The user store failed (a read or the apply).
    Store(StoreError),
    /// A security rule stopped the sync.
    Security(String),
    /// The mass-deactivation guard refused the sync.
    Guard(GuardRefusal),
    /// The approved plan no longer matches; the new plan is described.
    PlanChanged(GuardRefusal),
}

/// Why the user store failed, by kind.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "message")]
pub enum StoreError {
    /// A user or group that is not there.
    NotFound(String),
    /// A write that conflicts with what is stored (e.g. a username taken).
    Conflict(String),
    /// A value the store refuses.
    Invalid(String),
    /// The database is locked by someone else.
    Busy(String),
    /// Anything else.
    Failure(String),
}

/// One phrase, its kind first (`store busy: …`).
impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::NotFound(m) => write!(f, "not found: {m}"),
            StoreError::Conflict(m) => write!(f, "conflict: {m}"),
            StoreError::Invalid(m) => write!(f, "invalid: {m}"),
            StoreError::Busy(m) => write!(f, "store busy: {m}"),
            StoreError::Failure(m) => write!(f, "store failure: {m}"),
        }
    }
}

/// `field: message; field: message`.
pub fn field_errors(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl SyncError {
    /// The failure kind a run records.
    pub fn kind(&self) -> FailureKind {
        match self {
            SyncError::InvalidConfig(_) => FailureKind::InvalidSettings,
            SyncError::Okta(_) => FailureKind::Okta,
            SyncError::Store(_) => FailureKind::Store,
            SyncError::Security(_) => FailureKind::Security,
            SyncError::Guard(_) | SyncError::PlanChanged(_) => FailureKind::Guard,
        }
    }
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncError::InvalidConfig(es) => {
                write!(f, "invalid connector settings: {}", field_errors(es))
            }
            SyncError::Okta(o) => {
                write!(f, "Okta request {} failed: {}", o.path, o.summary)?;
                if o.status != 0 {
                    write!(f, " (HTTP {}", o.status)?;
                    if let Some(c) = &o.error_code {
                        write!(f, ", {c}")?;
                    }
                    f.write_str(")")?;
                }
                f.write_str("; nothing was changed")
            }
            SyncError::Store(s) => write!(f, "the user store failed: {s}; nothing was changed"),
            SyncError::Security(s) => write!(f, "stopped for security: {s}; nothing was changed"),
            SyncError::Guard(g) => write!(
                f,
                "the mass-deactivation guard stopped the sync: it would deactivate or delete {} of {} active users (the guard allows at most {} % or {} users); nothing was changed. Check Okta, then sync once with --force to proceed",
                g.would_remove, g.active_users, g.percent, g.min_users
            ),
            SyncError::PlanChanged(g) => write!(
                f,
                "the approved plan no longer matches what Okta and the store give: the sync would now deactivate or delete {} of {} active users (plan {}); nothing was changed. Review the new plan",
                g.would_remove, g.active_users, g.plan_digest
            ),
        }
    }
}

impl std::error::Error for SyncError {}

/// Most characters of one input that an error message quotes: a refusal of a 2 MB value
/// must not be a 2 MB answer (or log line).
pub const MAX_QUOTED_CHARS: usize = 200;

/// The first `max` characters of `value`, and `…` if that cut it (else nothing): how an
/// error quotes the start of a refused input.
pub fn cut(value: &str, max: usize) -> (&str, &'static str) {
    match value.char_indices().nth(max) {
        Some((at, _)) => (&value[..at], "…"),
        None => (value, ""),
    }
}

/// `message` with every span between backticks or double quotes cut to
/// [`MAX_QUOTED_CHARS`] characters and `…`. serde's errors quote the offending field
/// name or value whole (`unknown field `…``, `invalid type: string "…"`); this is
/// applied once where such an error becomes ours.
pub fn shorten_quotes(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    let (mut open, mut run, mut escaped) = (None, 0, false);
    for c in message.chars() {
        let Some(quote) = open else {
            if c == '`' || c == '"' {
                (open, run) = (Some(c), 0);
            }
            out.push(c);
            continue;
        };
        if c == quote && !escaped {
            open = None;
            out.push(c);
            continue;
        }
        escaped = quote == '"' && c == '\\' && !escaped;
        run += 1;
        if run <= MAX_QUOTED_CHARS {
            out.push(c);
        } else if run == MAX_QUOTED_CHARS + 1 {
            out.push('…');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_spans_are_cut_to_200_characters() {
        let long = "x".repeat(1_000_000);
        let m = shorten_quotes(&format!(
            "unknown field `{long}`, expected one of `name`, `oktaDomain`"
        ));
        assert_eq!(
            m,
            format!(
                "unknown field `{}…`, expected one of `name`, `oktaDomain`",
                "x".repeat(200)
            )
        );
        let m = shorten_quotes(&format!(
            r#"invalid type: string "a\"{long}", expected u32"#
        ));
        assert_eq!(
            m,
            format!(
                r#"invalid type: string "a\"{}…", expected u32"#,
                "x".repeat(197)
            )
        );
        let short = "unknown variant `Disable`, expected `keep` or `deny`";
        assert_eq!(shorten_quotes(short), short);
    }
}
