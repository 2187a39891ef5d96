//! A blocking Okta client: `Accept: application/json`, Link pagination that stays on the
//! org's origin, and typed errors. It sends no `Authorization` header and never holds the
//! API token: the host authenticates every request to the connector's Okta host itself
//! (`Authorization: SSWS <token>`).

use super::error::{OktaError, OktaErrorKind};
use super::link;
use super::model::{AppAssignment, OktaGroup, OktaMember, OktaUser};
use super::pacing::{self, Pacer, RetryPolicy};
use super::transport::{HttpResponse, Transport, TransportError};
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::time::Duration;

/// Page size of `GET /api/v1/users` (Okta's maximum).
pub const USERS_PAGE: u32 = 200;
/// Page size of `GET /api/v1/groups` (Okta's maximum).
pub const GROUPS_PAGE: u32 = 10_000;
/// Page size of `GET /api/v1/groups/{id}/users` (Okta's maximum).
pub const MEMBERS_PAGE: u32 = 1_000;
/// Page size of an application's assigned users (Okta's maximum, 500).
pub const APP_USERS_PAGE: u32 = 500;
/// Page size of an application's assigned groups (Okta's maximum, 200).
pub const APP_GROUPS_PAGE: u32 = 200;

/// The headers of every request. No `Authorization`: the host adds it.
const HEADERS: [(&str, &str); 1] = [("Accept", "application/json")];

/// An Okta org reached through a [`Transport`].
pub struct OktaClient<T> {
    transport: T,
    origin: String,
    requests: u32,
    retries: u32,
    rate_limited: u32,
    first_date: Option<String>,
    pacer: Pacer,
    policy: RetryPolicy,
}

/// What one response means for the request that got it.
enum Step<D> {
    /// Parsed, with the `next` link.
    Done(D, Option<String>),
    /// Worth another try after waiting.
    Retry(Duration, OktaError),
    /// Final.
    Fail(OktaError),
}

impl<T: Transport> OktaClient<T> {
    /// A client for `https://{domain}` (the host adds the credential to its requests).
    pub fn new(transport: T, domain: &str) -> Self {
        OktaClient {
            transport,
            origin: format!("https://{domain}"),
            requests: 0,
            retries: 0,
            rate_limited: 0,
            first_date: None,
            pacer: Pacer::default(),
            policy: RetryPolicy::default(),
        }
    }

    /// Use only `percent` (1-100) of each rate-limit bucket.
    pub fn with_rate_share(mut self, percent: u32) -> Self {
        self.pacer = std::mem::take(&mut self.pacer).with_share(percent);
        self
    }

    /// Use another retry policy.
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The org's origin, e.g. `https://acme.okta.com`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The `Date` header of the first response: Okta's clock when the fetch began.
    pub fn first_date(&self) -> Option<&str> {
        self.first_date.as_deref()
    }

    /// Requests made so far, retries included.
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// Requests that were retries.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// Requests left in a rate-limit bucket, as Okta last said.
    pub fn remaining(&self, bucket: &str) -> Option<u64> {
        self.pacer.remaining(bucket)
    }

    /// 429 answers met.
    pub fn rate_limited(&self) -> u32 {
        self.rate_limited
    }

    /// Judge one attempt: rate-limit bookkeeping, status, body.
    fn settle<D: DeserializeOwned>(
        &mut self,
        path: &str,
        attempt: u32,
        result: Result<HttpResponse, TransportError>,
    ) -> Step<D> {
        let resp = match result {
            Ok(r) => r,
            Err(e) => {
                let wait = self.pacer.backoff(attempt, &self.policy);
                return Step::Retry(wait, OktaError::new(OktaErrorKind::Transport, path, e.0));
            }
        };
        if self.first_date.is_none() {
            self.first_date = resp.header("date").map(str::to_string);
        }
        self.pacer.record(pacing::bucket(path), &resp);
        match resp.status {
            200..=299 => match serde_json::from_slice::<D>(&resp.body) {
                Ok(d) => Step::Done(d, link::next(resp.header_values("link"))),
                Err(e) => Step::Retry(
                    self.pacer.backoff(attempt, &self.policy),
                    OktaError::new(
                        OktaErrorKind::BadResponse,
                        path,
                        format!("response is not the expected JSON: {e}"),
                    ),
                ),
            },
            429 => {
                self.rate_limited += 1;
                let wait = self.pacer.rate_limited_wait(&resp, attempt, &self.policy);
                Step::Retry(wait, OktaError::from_http(&resp, path))
            }
            500 | 502 | 503 | 504 => {
                let wait = self.pacer.backoff(attempt, &self.policy);
                Step::Retry(wait, OktaError::from_http(&resp, path))
            }
            _ => Step::Fail(OktaError::from_http(&resp, path)),
        }
    }

    fn gave_up(&self, mut e: OktaError, attempts: u32) -> OktaError {
        e.summary = format!("{} (gave up after {attempts} attempts)", e.summary);
        e
    }

    /// GET one URL of this org and parse its JSON, retrying 429s (after the reset),
    /// 5xx, transport failures and unreadable bodies with bounded backoff.
    fn fetch<D: DeserializeOwned>(&mut self, url: &str) -> Result<(D, Option<String>), OktaError> {
        let path = self.path_of(url)?;
        for attempt in 1.. {
            let wait = self.pacer.wait_before(pacing::bucket(&path), 1);
            if !wait.is_zero() {
                self.transport.sleep(wait);
            }
            self.requests += 1;
            if attempt > 1 {
                self.retries += 1;
            }
            let result = self.transport.get(url, &HEADERS);
            match self.settle(&path, attempt, result) {
                Step::Done(d, next) => return Ok((d, next)),
                Step::Fail(e) => return Err(e),
                Step::Retry(_, e) if attempt >= self.policy.max_attempts => {
                    return Err(self.gave_up(e, attempt));
                }
                Step::Retry(wait, _) => self.transport.sleep(wait),
            }
        }
        unreachable!("the loop returns")
    }

    /// GET one URL of this org as JSON.
    pub fn get_json(&mut self, url: &str) -> Result<serde_json::Value, OktaError> {
        self.fetch(url).map(|(v, _)| v)
    }

    /// The path and query of a URL on this org; any other origin is refused (a `next`
    /// link elsewhere is an attack or a misconfiguration; the host would refuse it too).
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
        self.fetch(url)
    }

    /// Check a `next` link before following it: same origin, not seen before.
    fn follow(&self, next: String, seen: &mut HashSet<String>) -> Result<String, OktaError> {
        let path = self.path_of(&next)?;
        if !seen.insert(next.clone()) {
            return Err(OktaError::new(
                OktaErrorKind::BadResponse,
                &path,
                "pagination loop: Okta returned a next link already followed",
            ));
        }
        Ok(next)
    }

    /// The members of several groups, with up to `concurrency` requests in flight (each
    /// group's pages in order). Each page goes to `each(i, members)` as it arrives, `i`
    /// being the group's index in `group_ids`: a caller keeps what it needs of them
    /// (at 1M memberships, the full user objects would take a gigabyte). An error of
    /// `each` ends the listing.
    pub fn for_members_of(
        &mut self,
        group_ids: &[String],
        concurrency: usize,
        mut each: impl FnMut(usize, Vec<OktaMember>) -> Result<(), OktaError>,
    ) -> Result<(), OktaError> {
        struct Job {
            index: usize,
            url: String,
            attempt: u32,
            seen: HashSet<String>,
        }
        let origin = self.origin.clone();
        let mut queue = group_ids.iter().enumerate().map(|(index, id)| Job {
            index,
            url: format!(
                "{origin}/api/v1/groups/{}/users?limit={MEMBERS_PAGE}",
                encode_segment(id)
            ),

            attempt: 1,
            seen: HashSet::new(),
        });
        let mut active: Vec<Job> = Vec::new();
        loop {
            while active.len() < concurrency.max(1) {
                match queue.next() {
                    Some(job) => active.push(job),
                    None => break,
                }
            }
            if active.is_empty() {
                break;
            }
            let wait = self.pacer.wait_before("groups", active.len() as u64);
            if !wait.is_zero() {
                self.transport.sleep(wait);
            }
            let urls: Vec<String> = active.iter().map(|j| j.url.clone()).collect();
            self.requests += urls.len() as u32;
            self.retries += active.iter().filter(|j| j.attempt > 1).count() as u32;
            let responses = self.transport.get_many(&urls, &HEADERS);
            let mut longest = Duration::ZERO;
            let mut still = Vec::with_capacity(active.len());
            for (mut job, result) in active.drain(..).zip(responses) {
                let path = self.path_of(&job.url)?;
                match self.settle::<Vec<OktaMember>>(&path, job.attempt, result) {
                    Step::Done(items, next) => {
                        each(job.index, items)?;
                        if let Some(next) = next {
                            job.url = self.follow(next, &mut job.seen)?;
                            job.attempt = 1;
                            still.push(job);
                        }
                    }
                    Step::Fail(e) => return Err(e),
                    Step::Retry(_, e) if job.attempt >= self.policy.max_attempts => {
                        return Err(self.gave_up(e, job.attempt));
                    }
                    Step::Retry(wait, _) => {
                        longest = longest.max(wait);
                        job.attempt += 1;
                        still.push(job);
                    }
                }
            }
            if !longest.is_zero() {
                self.transport.sleep(longest);
            }
            active = still;
        }
        Ok(())
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
                Some(next) => url = self.follow(next, &mut seen)?,
            }
        }
    }

    /// All users Okta lists by default (every status but DEPROVISIONED).
    pub fn list_users(&mut self) -> Result<Vec<OktaUser>, OktaError> {
        self.list_all(&format!("/api/v1/users?limit={USERS_PAGE}"))
    }

    /// The DEPROVISIONED users, which the default users list leaves out.
    pub fn list_deprovisioned_users(&mut self) -> Result<Vec<OktaUser>, OktaError> {
        let filter = query_value("status eq \"DEPROVISIONED\"");
        self.list_all(&format!("/api/v1/users?filter={filter}&limit={USERS_PAGE}"))
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
        match self.fetch(&url) {
            Ok((user, _)) => Ok(Some(user)),
            Err(e) if e.kind == OktaErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Everyone assigned to an application, directly or through a group.
    pub fn list_app_users(&mut self, app_id: &str) -> Result<Vec<AppAssignment>, OktaError> {
        self.list_all(&format!(
            "/api/v1/apps/{}/users?limit={APP_USERS_PAGE}",
            encode_segment(app_id)
        ))
    }

    /// The groups assigned to an application.
    pub fn list_app_groups(&mut self, app_id: &str) -> Result<Vec<AppAssignment>, OktaError> {
        self.list_all(&format!(
            "/api/v1/apps/{}/groups?limit={APP_GROUPS_PAGE}",
            encode_segment(app_id)
        ))
    }

    /// Whether a user is assigned to an application (directly or through a group):
    /// Okta answers 404 when it is not.
    pub fn is_assigned(&mut self, app_id: &str, user_id: &str) -> Result<bool, OktaError> {
        let url = format!(
            "{}/api/v1/apps/{}/users/{}",
            self.origin,
            encode_segment(app_id),
            encode_segment(user_id)
        );
        match self.fetch::<AppAssignment>(&url) {
            Ok(_) => Ok(true),
            Err(e) if e.kind == OktaErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// One group by id; `None` when Okta answers 404.
    pub fn get_group(&mut self, id: &str) -> Result<Option<OktaGroup>, OktaError> {
        let url = format!("{}/api/v1/groups/{}", self.origin, encode_segment(id));
        match self.fetch(&url) {
            Ok((group, _)) => Ok(Some(group)),
            Err(e) if e.kind == OktaErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The groups of one user.
    pub fn list_user_groups(&mut self, user_id: &str) -> Result<Vec<OktaGroup>, OktaError> {
        self.list_all(&format!("/api/v1/users/{}/groups", encode_segment(user_id)))
    }
}

/// Encode a query parameter value (spaces as `%20`, quotes as `%22`).
fn query_value(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// What a path segment must not hold as is: controls, space, the characters URL parsing
/// treats specially in a path (WHATWG's path percent-encode set), and `/`, `%`, `\`,
/// `^`, `|`.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'%')
    .add(b'\\')
    .add(b'^')
    .add(b'|');

/// Percent-encode one path segment (logins may hold `@`, `+`, spaces...). Every byte
/// goes through: a tab or line break is encoded, never dropped (as `url`'s own
/// segment push does), and a segment of only dots is encoded too, since `.` and `..`
/// would otherwise name another route.
pub fn encode_segment(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c == '.') {
        return s.replace('.', "%2E");
    }
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
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

    /// Answers scripted responses in order and records the requests and waits.
    #[derive(Default)]
    pub struct Scripted {
        pub answers: VecDeque<HttpResponse>,
        pub seen: Vec<(String, Vec<(String, String)>)>,
        pub slept: Vec<Duration>,
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

        fn sleep(&mut self, duration: Duration) {
            self.slept.push(duration);
        }
    }

    fn status(code: u16, body: &str, headers: &[(&str, &str)]) -> HttpResponse {
        HttpResponse {
            status: code,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
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
    fn follows_next_links_and_sends_accept_but_no_authorization() {
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
        let mut c = OktaClient::new(&mut t, "acme.okta.com");
        let users = c.list_users().unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(c.requests(), 2);
        assert_eq!(t.seen[0].0, "https://acme.okta.com/api/v1/users?limit=200");
        assert_eq!(
            t.seen[1].0,
            "https://acme.okta.com/api/v1/users?after=00u1&limit=200"
        );
        // The host authenticates the requests; the plugin sends only `Accept`.
        for (_, headers) in &t.seen {
            assert_eq!(
                headers,
                &[("Accept".to_string(), "application/json".to_string())]
            );
        }
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
            let mut c = OktaClient::new(&mut t, "acme.okta.com");
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
        let mut c = OktaClient::new(&mut t, "acme.okta.com");
        let err = c.list_users().unwrap_err();
        assert_eq!(err.kind, OktaErrorKind::BadResponse);
        assert!(err.summary.contains("pagination loop"));
    }

    #[test]
    fn maps_errors_and_gives_up_on_persistent_failures() {
        let mut t = Scripted::default();
        t.answers.push_back(status(
            401,
            r#"{"errorCode":"E0000011","errorSummary":"Invalid token provided"}"#,
            &[],
        ));
        let mut c = OktaClient::new(&mut t, "acme.okta.com");
        let e = c.list_users().unwrap_err();
        assert_eq!(e.kind, OktaErrorKind::InvalidToken);
        assert_eq!(e.path, "/api/v1/users?limit=200");
        assert_eq!(c.requests(), 1, "a 401 is not retried");
        drop(c);
        for _ in 0..5 {
            t.answers.push_back(page("[{\"id\":", &[]));
        }
        let mut c = OktaClient::new(&mut t, "acme.okta.com");
        let e = c.list_groups().unwrap_err();
        assert_eq!(e.kind, OktaErrorKind::BadResponse);
        assert!(
            e.summary.ends_with("(gave up after 5 attempts)"),
            "{}",
            e.summary
        );
        assert_eq!(c.requests(), 5);
        let e = c.list_groups().unwrap_err();
        assert_eq!(e.kind, OktaErrorKind::Transport);
        assert_eq!(t.slept.len(), 8, "four waits between five tries, twice");
    }

    #[test]
    fn retries_5xx_and_transport_errors_with_growing_backoff_then_succeeds() {
        let mut t = Scripted::default();
        t.answers.push_back(status(503, "<html>busy</html>", &[]));
        t.answers
            .push_back(status(500, r#"{"errorCode":"E0000009"}"#, &[]));
        t.answers
            .push_back(page(r#"[{"id":"00u1","profile":{}}]"#, &[]));
        let mut c = OktaClient::new(&mut t, "acme.okta.com");
        assert_eq!(c.list_users().unwrap().len(), 1);
        assert_eq!((c.requests(), c.retries()), (3, 2));
        assert!(t.slept[1] > t.slept[0], "{:?}", t.slept);
    }

    #[test]
    fn a_429_waits_until_the_reset_okta_names() {
        let date = "Mon, 23 Nov 2026 10:00:00 GMT";
        let reset = (chrono::DateTime::parse_from_rfc2822(date)
            .unwrap()
            .timestamp()
            + 7)
        .to_string();
        let mut t = Scripted::default();
        t.answers.push_back(status(
            429,
            r#"{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests."}"#,
            &[("Date", date), ("X-Rate-Limit-Limit", "600"), ("X-Rate-Limit-Remaining", "0"), ("X-Rate-Limit-Reset", &reset)],
        ));
        t.answers.push_back(page("[]", &[]));
        let mut c = OktaClient::new(&mut t, "acme.okta.com");
        c.list_users().unwrap();
        assert_eq!(c.rate_limited(), 1);
        assert!(
            t.slept[0] >= Duration::from_secs(7) && t.slept[0] < Duration::from_secs(8),
            "{:?}",
            t.slept
        );
    }

    #[test]
    fn paces_itself_when_the_window_is_spent() {
        let date = "Mon, 23 Nov 2026 10:00:00 GMT";
        let reset = (chrono::DateTime::parse_from_rfc2822(date)
            .unwrap()
            .timestamp()
            + 3)
        .to_string();
        let next = "<https://acme.okta.com/api/v1/users?after=a>; rel=\"next\"";
        let mut first = page("[]", &[next]);
        first.headers.extend([
            ("Date".into(), date.into()),
            ("X-Rate-Limit-Remaining".into(), "0".into()),
            ("X-Rate-Limit-Reset".into(), reset),
        ]);
        let mut t = Scripted::default();
        t.answers.push_back(first);
        t.answers.push_back(page("[]", &[]));
        let mut c = OktaClient::new(&mut t, "acme.okta.com");
        c.list_users().unwrap();
        assert_eq!(c.rate_limited(), 0, "no 429 met");
        assert!(
            t.slept.len() == 1 && t.slept[0] >= Duration::from_secs(2),
            "{:?}",
            t.slept
        );
    }

    #[test]
    fn members_of_many_groups_come_back_in_order() {
        let mut t = Scripted::default();
        let next = "<https://acme.okta.com/api/v1/groups/g1/users?after=x>; rel=\"next\"";
        t.answers
            .push_back(page(r#"[{"id":"a","profile":{}}]"#, &[next]));
        t.answers
            .push_back(page(r#"[{"id":"b","profile":{}}]"#, &[]));
        t.answers
            .push_back(page(r#"[{"id":"c","profile":{}}]"#, &[]));
        let mut c = OktaClient::new(&mut t, "acme.okta.com");
        let mut pages = Vec::new();
        c.for_members_of(&["g1".into(), "g2".into()], 4, |i, us| {
            pages.push((i, us.into_iter().map(|u| u.id).collect::<Vec<_>>()));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            pages,
            [
                (0, vec!["a".to_string()]),
                (1, vec!["b".to_string()]),
                (0, vec!["c".to_string()])
            ]
        );
        assert_eq!(
            t.seen[2].0,
            "https://acme.okta.com/api/v1/groups/g1/users?after=x"
        );
    }

    #[test]
    fn get_user_encodes_login_and_maps_404_to_none() {
        let mut t = Scripted::default();
        t.answers.push_back(HttpResponse {
            status: 404,
            headers: vec![],
            body: br#"{"errorCode":"E0000007","errorSummary":"Not found"}"#.to_vec(),
        });
        let mut c = OktaClient::new(&mut t, "acme.okta.com");
        assert_eq!(c.get_user("a b+c@x.com").unwrap(), None);
        assert_eq!(
            t.seen[0].0,
            "https://acme.okta.com/api/v1/users/a%20b+c@x.com"
        );
        assert_eq!(encode_segment(".."), "%2E%2E");
        assert_eq!(encode_segment("."), "%2E");
        assert_eq!(encode_segment("a.b"), "a.b");
        assert_eq!(encode_segment("a\nb"), "a%0Ab");
    }
}
