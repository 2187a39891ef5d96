//! A blocking Okta client: SSWS auth, `Accept: application/json`, Link pagination that
//! stays on the org's origin, and typed errors.

use super::error::{OktaError, OktaErrorKind};
use super::link;
use super::model::{OktaGroup, OktaUser};
use super::transport::{HttpResponse, Transport};
use serde::de::DeserializeOwned;
use std::collections::HashSet;

/// Page size of `GET /api/v1/users` (Okta's maximum).
pub const USERS_PAGE: u32 = 200;
/// Page size of `GET /api/v1/groups` (Okta's maximum).
pub const GROUPS_PAGE: u32 = 10_000;
/// Page size of `GET /api/v1/groups/{id}/users` (Okta's maximum).
pub const MEMBERS_PAGE: u32 = 1_000;

/// An Okta org reached through a [`Transport`].
pub struct OktaClient<T> {
    transport: T,
    origin: String,
    authorization: String,
    requests: u32,
    first_date: Option<String>,
}

impl<T: Transport> OktaClient<T> {
    /// A client for `https://{domain}` authenticating with the SSWS `token`.
    pub fn new(transport: T, domain: &str, token: &str) -> Self {
        OktaClient {
            transport,
            origin: format!("https://{domain}"),
            authorization: format!("SSWS {token}"),
            requests: 0,
            first_date: None,
        }
    }

    /// The org's origin, e.g. `https://acme.okta.com`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The `Date` header of the first response: Okta's clock when the fetch began.
    pub fn first_date(&self) -> Option<&str> {
        self.first_date.as_deref()
    }

    /// Requests made so far.

    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// GET one URL of this org; non-2xx answers become typed errors.
    pub fn get(&mut self, url: &str) -> Result<HttpResponse, OktaError> {
        let path = self.path_of(url)?;
        self.requests += 1;
        let headers = [
            ("Authorization", self.authorization.as_str()),
            ("Accept", "application/json"),
        ];
        let resp = self
            .transport
            .get(url, &headers)
            .map_err(|e| OktaError::new(OktaErrorKind::Transport, &path, e.0))?;
        if self.first_date.is_none() {
            self.first_date = resp.header("date").map(str::to_string);
        }
        if (200..300).contains(&resp.status) {
            Ok(resp)
        } else {
            Err(OktaError::from_response(resp.status, &resp.body, &path))
        }
    }

    /// The path and query of a URL on this org; any other origin is refused, so the
    /// token is never sent elsewhere.
    fn path_of(&self, url: &str) -> Result<String, OktaError> {
        match url.strip_prefix(&self.origin) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => Ok(rest.to_string()),
            _ => Err(OktaError::new(
                OktaErrorKind::ForeignOrigin,
                "",
                format!(
                    "refused to follow a link to another origin than {}: {}",
                    self.origin,
                    origin_only(url)
                ),
            )),
        }
    }

    /// One page of a list and the `next` link, if any.
    pub fn page<D: DeserializeOwned>(
        &mut self,
        url: &str,
    ) -> Result<(Vec<D>, Option<String>), OktaError> {
        let resp = self.get(url)?;
        let items = parse_json(&resp.body, &self.path_of(url)?)?;
        Ok((items, link::next(resp.header_values("link"))))
    }

    /// Every item of a paginated list, following `next` links to the end. A `next`
    /// link to another origin, or one already visited (a cursor loop), fails the listing.
    pub fn list_all<D: DeserializeOwned>(&mut self, path: &str) -> Result<Vec<D>, OktaError> {
        let mut url = format!("{}{path}", self.origin);
        let mut seen = HashSet::new();
        let mut all = Vec::new();
        loop {
            let (items, next) = self.page::<D>(&url)?;
            all.extend(items);
            match next {
                None => return Ok(all),
                Some(next) => {
                    if !seen.insert(next.clone()) {
                        return Err(OktaError::new(
                            OktaErrorKind::BadResponse,
                            &self.path_of(&next).unwrap_or_default(),
                            "pagination loop: Okta returned a next link already followed",
                        ));
                    }
                    url = next;
                }
            }
        }
    }

    /// All users Okta lists by default (every status but DEPROVISIONED).
    pub fn list_users(&mut self) -> Result<Vec<OktaUser>, OktaError> {
        self.list_all(&format!("/api/v1/users?limit={USERS_PAGE}"))
    }

    /// Users whose profile or status changed after `since` (ISO time), DEPROVISIONED included.
    pub fn list_users_updated_since(&mut self, since: &str) -> Result<Vec<OktaUser>, OktaError> {
        let filter = query_value(&format!("lastUpdated gt \"{since}\""));
        self.list_all(&format!("/api/v1/users?filter={filter}&limit={USERS_PAGE}"))
    }

    /// Groups whose profile or membership changed after `since` (ISO time).
    pub fn list_groups_updated_since(&mut self, since: &str) -> Result<Vec<OktaGroup>, OktaError> {
        let filter = query_value(&format!(
            "lastUpdated gt \"{since}\" or lastMembershipUpdated gt \"{since}\""
        ));
        self.list_all(&format!(
            "/api/v1/groups?filter={filter}&limit={GROUPS_PAGE}"
        ))
    }

    /// All groups.
    pub fn list_groups(&mut self) -> Result<Vec<OktaGroup>, OktaError> {
        self.list_all(&format!("/api/v1/groups?limit={GROUPS_PAGE}"))
    }

    /// All members of a group.
    pub fn list_group_members(&mut self, group_id: &str) -> Result<Vec<OktaUser>, OktaError> {
        self.list_all(&format!(
            "/api/v1/groups/{}/users?limit={MEMBERS_PAGE}",
            encode_segment(group_id)
        ))
    }

    /// One user by id or login; `None` when Okta answers 404.
    pub fn get_user(&mut self, id_or_login: &str) -> Result<Option<OktaUser>, OktaError> {
        let url = format!(
            "{}/api/v1/users/{}",
            self.origin,
            encode_segment(id_or_login)
        );
        match self.get(&url) {
            Ok(resp) => parse_json(&resp.body, &self.path_of(&url)?).map(Some),
            Err(e) if e.kind == OktaErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The groups of one user.
    pub fn list_user_groups(&mut self, user_id: &str) -> Result<Vec<OktaGroup>, OktaError> {
        self.list_all(&format!("/api/v1/users/{}/groups", encode_segment(user_id)))
    }
}

fn parse_json<D: DeserializeOwned>(body: &[u8], path: &str) -> Result<D, OktaError> {
    serde_json::from_slice(body).map_err(|e| {
        OktaError::new(
            OktaErrorKind::BadResponse,
            path,
            format!("response is not the expected JSON: {e}"),
        )
    })
}

/// Encode a query parameter value (spaces as `%20`, quotes as `%22`).
fn query_value(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// Percent-encode one path segment (logins may hold `@`, `+`, spaces...).

pub fn encode_segment(s: &str) -> String {
    let mut u = url::Url::parse("https://x/").expect("static URL");
    u.path_segments_mut().expect("base URL").push(s);
    u.path()[1..].to_string()
}

/// `scheme://host[:port]` of a URL, for messages (never its path or query).
fn origin_only(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| "an unparsable URL".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::okta::TransportError;
    use std::collections::VecDeque;

    /// Answers scripted responses in order and records the requests.
    #[derive(Default)]
    pub struct Scripted {
        pub answers: VecDeque<HttpResponse>,
        pub seen: Vec<(String, Vec<(String, String)>)>,
    }

    impl Transport for &mut Scripted {
        fn get(
            &mut self,
            url: &str,
            headers: &[(&'static str, &str)],
        ) -> Result<HttpResponse, TransportError> {
            self.seen.push((
                url.to_string(),
                headers
                    .iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
            ));
            self.answers
                .pop_front()
                .ok_or_else(|| TransportError("connection reset".into()))
        }
    }

    fn page(body: &str, links: &[&str]) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: links
                .iter()
                .map(|l| ("LINK".to_string(), l.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn follows_next_links_and_sends_ssws_and_accept() {
        let mut t = Scripted::default();
        t.answers.push_back(page(
            r#"[{"id":"00u1","status":"ACTIVE","profile":{}}]"#,
            &[
                "<https://acme.okta.com/api/v1/users?limit=200>; rel=\"self\"",
                "<https://acme.okta.com/api/v1/users?after=00u1&limit=200>; rel=\"next\"",
            ],
        ));
        t.answers
            .push_back(page(r#"[{"id":"00u2","profile":{}}]"#, &[]));
        let mut c = OktaClient::new(&mut t, "acme.okta.com", "tok");
        let users = c.list_users().unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(c.requests(), 2);
        assert_eq!(t.seen[0].0, "https://acme.okta.com/api/v1/users?limit=200");
        assert_eq!(
            t.seen[1].0,
            "https://acme.okta.com/api/v1/users?after=00u1&limit=200"
        );
        assert!(
            t.seen[0]
                .1
                .contains(&("Authorization".into(), "SSWS tok".into()))
        );
        assert!(
            t.seen[0]
                .1
                .contains(&("Accept".into(), "application/json".into()))
        );
    }

    #[test]
    fn refuses_next_link_to_another_origin_without_sending() {
        for evil in [
            "https://evil.example.com/api/v1/users?after=1",
            "https://acme.okta.com.evil.com/api/v1/users",
            "http://acme.okta.com/api/v1/users",
            "https://acme.okta.com:8443/api/v1/users",
        ] {
            let mut t = Scripted::default();
            t.answers
                .push_back(page("[]", &[&format!("<{evil}>; rel=\"next\"")]));
            let mut c = OktaClient::new(&mut t, "acme.okta.com", "tok");
            let err = c.list_users().unwrap_err();
            assert!(
                err.summary.contains("refused to follow a link"),
                "{evil}: {err}"
            );
            assert_eq!(t.seen.len(), 1, "{evil}");
        }
    }

    #[test]
    fn detects_cursor_loops() {
        let mut t = Scripted::default();
        let next = "<https://acme.okta.com/api/v1/users?after=a>; rel=\"next\"";
        for _ in 0..3 {
            t.answers.push_back(page("[]", &[next]));
        }
        let mut c = OktaClient::new(&mut t, "acme.okta.com", "tok");
        let err = c.list_users().unwrap_err();
        assert_eq!(err.kind, OktaErrorKind::BadResponse);
        assert!(err.summary.contains("pagination loop"));
    }

    #[test]
    fn maps_errors_and_bad_json() {
        let mut t = Scripted::default();
        t.answers.push_back(HttpResponse {
            status: 401,
            headers: vec![],
            body: br#"{"errorCode":"E0000011","errorSummary":"Invalid token provided"}"#.to_vec(),
        });
        t.answers.push_back(page("[{\"id\":", &[]));
        let mut c = OktaClient::new(&mut t, "acme.okta.com", "S3CR3T-T0K3N");
        let e = c.list_users().unwrap_err();
        assert_eq!(e.kind, OktaErrorKind::InvalidToken);
        assert_eq!(e.path, "/api/v1/users?limit=200");
        assert!(!e.to_string().contains("S3CR3T-T0K3N"));
        let e = c.list_groups().unwrap_err();
        assert_eq!(e.kind, OktaErrorKind::BadResponse);
        let e = c.list_groups().unwrap_err();
        assert_eq!(e.kind, OktaErrorKind::Transport);
    }

    #[test]
    fn get_user_encodes_login_and_maps_404_to_none() {
        let mut t = Scripted::default();
        t.answers.push_back(HttpResponse {
            status: 404,
            headers: vec![],
            body: br#"{"errorCode":"E0000007","errorSummary":"Not found"}"#.to_vec(),
        });
        let mut c = OktaClient::new(&mut t, "acme.okta.com", "tok");
        assert_eq!(c.get_user("a b+c@x.com").unwrap(), None);
        assert_eq!(
            t.seen[0].0,
            "https://acme.okta.com/api/v1/users/a%20b+c@x.com"
        );
    }
}
