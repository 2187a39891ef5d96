//! Okta failures as typed errors, from HTTP statuses and Okta error bodies.

use serde::Deserialize;

/// What kind of Okta failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OktaErrorKind {
    /// 401 E0000011.
    InvalidToken,
    /// 403 E0000005 / E0000006.
    Forbidden,
    /// 403 with `insufficient_scope`: the OAuth app lacks a scope the request needs.
    MissingScope,
    /// 404 E0000007.
    NotFound,
    /// 429 E0000047.
    RateLimited,
    /// Other 4xx (e.g. E0000031 invalid cursor).
    BadRequest,
    /// 5xx.
    ServerError,
    /// Unreadable or wrongly shaped response.
    BadResponse,
    /// No response (connection, TLS, timeout, denied by the host).
    Transport,
    /// Refused by the client: a link to another origin would carry the token elsewhere.
    ForeignOrigin,
}

/// An Okta request that failed. Never carries the token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Okta request {path} failed: {summary}{}", status_text(*.status, .error_code))]
pub struct OktaError {
    /// Kind of failure.
    pub kind: OktaErrorKind,
    /// HTTP status, 0 without a response.
    pub status: u16,
    /// Okta `errorCode`.
    pub error_code: Option<String>,
    /// Okta `errorSummary` or a description.
    pub summary: String,
    /// Request path and query.
    pub path: String,
}

fn status_text(status: u16, code: &Option<String>) -> String {
    match (status, code) {
        (0, _) => String::new(),
        (s, Some(c)) => format!(" (HTTP {s}, {c})"),
        (s, None) => format!(" (HTTP {s})"),
    }
}

/// Okta's error body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    error_code: Option<String>,
    error_summary: Option<String>,
    #[serde(default)]
    error_causes: Vec<ErrorCause>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorCause {
    error_summary: Option<String>,
}

impl OktaError {
    /// A failure without an HTTP status.
    pub fn new(kind: OktaErrorKind, path: &str, summary: impl Into<String>) -> Self {
        OktaError {
            kind,
            status: 0,
            error_code: None,
            summary: summary.into(),
            path: path.to_string(),
        }
    }

    /// Build the error for a non-2xx response; a 403 whose `WWW-Authenticate` says
    /// `insufficient_scope` is a missing OAuth scope, not a missing permission.
    pub fn from_http(resp: &super::HttpResponse, path: &str) -> Self {
        let mut e = OktaError::from_response(resp.status, &resp.body, path);
        let scope = resp
            .header("www-authenticate")
            .is_some_and(|h| h.contains("insufficient_scope"));
        if resp.status == 403 && scope {
            e.kind = OktaErrorKind::MissingScope;
            if e.error_code.is_none() {
                e.summary = default_summary(e.kind).to_string();
            }
        }
        e
    }

    /// Build the error for a non-2xx response from its status and (maybe) Okta body.
    pub fn from_response(status: u16, body: &[u8], path: &str) -> Self {
        let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
        let code = parsed.as_ref().and_then(|b| b.error_code.clone());
        let kind = match (status, code.as_deref()) {
            (_, Some("E0000011")) | (401, _) => OktaErrorKind::InvalidToken,
            (_, Some("E0000005" | "E0000006")) | (403, _) => OktaErrorKind::Forbidden,
            (_, Some("E0000007")) | (404, _) => OktaErrorKind::NotFound,
            (_, Some("E0000047")) | (429, _) => OktaErrorKind::RateLimited,
            (500..=599, _) => OktaErrorKind::ServerError,
            _ => OktaErrorKind::BadRequest,
        };
        let summary = parsed
            .and_then(|b| {
                let causes: Vec<String> = b
                    .error_causes
                    .into_iter()
                    .filter_map(|c| c.error_summary)
                    .collect();
                b.error_summary.map(|s| {
                    if causes.is_empty() {
                        s
                    } else {
                        format!("{s} ({})", causes.join("; "))
                    }
                })
            })
            .unwrap_or_else(|| default_summary(kind).to_string());
        OktaError {
            kind,
            status,
            error_code: code,
            summary,
            path: path.to_string(),
        }
    }
}

fn default_summary(kind: OktaErrorKind) -> &'static str {
    match kind {
        OktaErrorKind::InvalidToken => {
            "the credential (API token or access token) is invalid, revoked or expired"
        }
        OktaErrorKind::Forbidden => "the credential may not read this",
        OktaErrorKind::MissingScope => {
            "the OAuth app lacks a scope this request needs (insufficient_scope)"
        }
        OktaErrorKind::NotFound => "not found",
        OktaErrorKind::RateLimited => "rate limit exceeded",
        OktaErrorKind::ServerError => "Okta server error",
        OktaErrorKind::BadRequest => "bad request",
        OktaErrorKind::BadResponse => "unreadable response",
        OktaErrorKind::Transport => "no response",
        OktaErrorKind::ForeignOrigin => "link to another origin refused",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: &str, summary: &str) -> Vec<u8> {
        format!(r#"{{"errorCode":"{code}","errorSummary":"{summary}","errorLink":"{code}","errorId":"oae1","errorCauses":[]}}"#).into_bytes()
    }

    #[test]
    fn maps_okta_codes_to_kinds() {
        let cases = [
            (401, "E0000011", OktaErrorKind::InvalidToken),
            (403, "E0000006", OktaErrorKind::Forbidden),
            (403, "E0000005", OktaErrorKind::Forbidden),
            (404, "E0000007", OktaErrorKind::NotFound),
            (429, "E0000047", OktaErrorKind::RateLimited),
            (400, "E0000031", OktaErrorKind::BadRequest),
            (500, "E0000009", OktaErrorKind::ServerError),
        ];
        for (status, code, kind) in cases {
            let e = OktaError::from_response(status, &body(code, "x"), "/api/v1/users");
            assert_eq!(e.kind, kind, "{code}");
            assert_eq!(e.error_code.as_deref(), Some(code));
            assert_eq!(e.status, status);
        }
    }

    #[test]
    fn a_missing_oauth_scope_is_told_apart() {
        let resp = super::super::HttpResponse {
            status: 403,
            headers: vec![(
                "WWW-Authenticate".into(),
                r#"Bearer error="insufficient_scope", error_description="The access token provided does not contain the required scopes.""#.into(),
            )],
            body: vec![],
        };
        let e = OktaError::from_http(&resp, "/api/v1/logs");
        assert_eq!(e.kind, OktaErrorKind::MissingScope);
        assert!(e.summary.contains("insufficient_scope"), "{}", e.summary);
        let plain = super::super::HttpResponse {
            headers: vec![],
            ..resp
        };
        assert_eq!(
            OktaError::from_http(&plain, "/p").kind,
            OktaErrorKind::Forbidden
        );
    }

    #[test]
    fn keeps_summary_and_causes_and_tolerates_non_json() {
        let b = br#"{"errorCode":"E0000031","errorSummary":"Invalid search criteria.","errorCauses":[{"errorSummary":"Invalid cursor."}]}"#;
        let e = OktaError::from_response(400, b, "/api/v1/users?after=x");
        assert_eq!(e.summary, "Invalid search criteria. (Invalid cursor.)");
        assert_eq!(
            e.to_string(),
            "Okta request /api/v1/users?after=x failed: Invalid search criteria. (Invalid cursor.) (HTTP 400, E0000031)"
        );
        let e = OktaError::from_response(502, b"<html>bad gateway</html>", "/p");
        assert_eq!(e.kind, OktaErrorKind::ServerError);
        assert_eq!(e.error_code, None);
        assert_eq!(e.summary, "Okta server error");
    }
}
