//! A response before it becomes HTTP: status, JSON body and Link headers,
//! plus constructors for Okta's error bodies.

use serde_json::json;

use crate::ids;

/// The relation of a Link header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rel {
    /// `rel="self"`
    SelfLink,
    /// `rel="next"`
    Next,
}

/// What a handler produced.
#[derive(Clone, Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response body.
    pub body: String,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Link headers in order (self first, then next).
    pub links: Vec<(String, Rel)>,
    /// Other response headers (`WWW-Authenticate`, `DPoP-Nonce`, `Allow`, …).
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// A JSON response.
    pub fn json(status: u16, body: String) -> Reply {
        Reply {
            status,
            body,
            content_type: "application/json",
            links: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }

    /// Adds Link headers.
    pub fn with_links(mut self, links: Vec<(String, Rel)>) -> Reply {
        self.links = links;
        self
    }

    /// An Okta error body: `errorCode`, `errorSummary`, `errorLink` (= code),
    /// `errorId` (`oae…`), `errorCauses`.
    pub fn error(status: u16, code: &str, summary: &str, causes: &[&str]) -> Reply {
        let causes: Vec<_> = causes
            .iter()
            .map(|c| json!({ "errorSummary": c }))
            .collect();
        let body = json!({
            "errorCode": code,
            "errorSummary": summary,
            "errorLink": code,
            "errorId": ids::error_id(),
            "errorCauses": causes,
        });
        Reply::json(status, body.to_string())
    }

    /// 401 E0000011: unknown, revoked or expired token.
    pub fn invalid_token() -> Reply {
        Reply::error(401, "E0000011", "Invalid token provided", &[])
    }

    /// 403 E0000005: no Authorization header or an unknown scheme.
    pub fn invalid_session() -> Reply {
        Reply::error(403, "E0000005", "Invalid session", &[])
    }

    /// 403 E0000006: the token's admin may not see this object.
    pub fn forbidden() -> Reply {
        Reply::error(
            403,
            "E0000006",
            "You do not have permission to perform the requested action",
            &[],
        )
    }

    /// 404 E0000007 for `what` of type `kind` (`User`, `UserGroup`).
    pub fn not_found(what: &str, kind: &str) -> Reply {
        Reply::error(
            404,
            "E0000007",
            &format!("Not found: Resource not found: {what} ({kind})"),
            &[],
        )
    }

    /// 404 E0000007 for a path the API does not have.
    pub fn no_such_path(path: &str) -> Reply {
        Reply::error(
            404,
            "E0000007",
            &format!("Not found: Resource not found: {path}"),
            &[],
        )
    }

    /// 405 E0000022 with `Allow: allow`.
    pub fn method_not_allowed(allow: &str) -> Reply {
        Reply::error(
            405,
            "E0000022",
            "The endpoint does not support the provided HTTP method",
            &[],
        )
        .with_header("allow", allow.to_string())
    }

    /// 400 E0000031 with cause "Invalid cursor.".
    pub fn invalid_cursor() -> Reply {
        Reply::error(
            400,
            "E0000031",
            "Invalid search criteria.",
            &["Invalid cursor."],
        )
    }

    /// 400 E0000031 for a filter/search expression that is malformed or not supported.
    pub fn invalid_search(cause: &str) -> Reply {
        Reply::error(400, "E0000031", "Invalid search criteria.", &[cause])
    }

    /// 400 E0000001 for a bad parameter value.
    pub fn validation(field: &str, cause: &str) -> Reply {
        Reply::error(
            400,
            "E0000001",
            &format!("Api validation failed: {field}"),
            &[&format!("{field}: {cause}")],
        )
    }

    /// 429 E0000047.
    pub fn rate_limited() -> Reply {
        Reply::error(
            429,
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
            &[],
        )
    }

    /// 500 E0000009.
    pub fn internal_error() -> Reply {
        Reply::error(500, "E0000009", "Internal Server Error", &[])
    }

    /// A response with status `code` as a fault: 500 with Okta's body, 502/503/504
    /// as a gateway would send them (plain HTML, not Okta JSON), other statuses
    /// with the matching Okta error.
    pub fn status_fault(code: u16) -> Reply {
        match code {
            500 => Reply::internal_error(),
            502..=504 => {
                let reason = match code {
                    502 => "Bad Gateway",
                    503 => "Service Unavailable",
                    _ => "Gateway Timeout",
                };
                Reply {
                    status: code,
                    body: format!(
                        "<html><head><title>{code} {reason}</title></head><body><h1>{code} {reason}</h1></body></html>\n"
                    ),
                    content_type: "text/html",
                    links: Vec::new(),
                    headers: Vec::new(),
                }
            }
            400 => Reply::error(400, "E0000001", "Api validation failed", &[]),
            401 => Reply::invalid_token(),
            403 => Reply::forbidden(),
            404 => Reply::error(404, "E0000007", "Not found: Resource not found", &[]),
            405 => Reply::method_not_allowed("GET"),
            429 => Reply::rate_limited(),
            _ => Reply::error(code, "E0000009", "Internal Server Error", &[]),
        }
    }
}
