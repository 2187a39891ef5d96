//! Request dispatch: faults, authentication, routing, rate-limit headers and
//! request recording around the endpoint handlers.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::Utc;
use percent_encoding::percent_decode_str;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::apps::api as apps;
use crate::auth::{self, Principal};
use crate::faults::{END_CURSOR, FaultKind};
use crate::index::OrgIndex;
use crate::oauth::TOKEN_PATH;
use crate::oauth::resource::{self, ResourceRequest};
use crate::oauth::token::{self, TokenRequest};
use crate::org::Org;
use crate::paging::Params;
use crate::ratelimit::{Bucket, RateStatus};
use crate::reply::{Rel, Reply};
use crate::server::{RecordedRequest, Shared, SimConfig, lock};
use crate::syslog::{self, api::LogRequest};
use crate::{groups, ids, users};

/// Everything an endpoint handler needs.
pub(crate) struct Ctx<'a> {
    pub config: &'a SimConfig,
    pub org: &'a Org,
    /// Lookups into `org`.
    pub index: &'a OrgIndex,
    pub principal: &'a Principal,
    /// The raw request path (written back into Link headers).
    pub path: &'a str,
    pub params: &'a Params,
}

impl Ctx<'_> {
    /// The origin for links and hrefs.
    pub fn origin(&self) -> &str {
        self.config.public_origin.trim_end_matches('/')
    }

    /// The response for an object the token may not see.
    pub fn out_of_scope(&self, what: &str, kind: &str) -> Reply {
        match self.config.out_of_scope {
            crate::server::OutOfScope::Forbidden => Reply::forbidden(),
            crate::server::OutOfScope::NotFound => Reply::not_found(what, kind),
        }
    }
}

/// The endpoints.
enum Route {
    Users,
    User(String),
    UserGroups(String),
    Groups,
    Group(String),
    GroupUsers(String),
    Logs,
    Apps,
    App(String),
    AppUsers(String),
    AppUser(String, String),
    AppGroups(String),
}

impl Route {
    fn parse(path: &str) -> Option<Route> {
        let rest = path.strip_prefix("/api/v1/")?;
        let segs: Vec<String> = rest
            .split('/')
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        if segs.iter().any(String::is_empty) {
            return None;
        }
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        Some(match segs.as_slice() {
            ["users"] => Route::Users,
            ["users", id] => Route::User(id.to_string()),
            ["users", id, "groups"] => Route::UserGroups(id.to_string()),
            ["groups"] => Route::Groups,
            ["groups", id] => Route::Group(id.to_string()),
            ["groups", id, "users"] => Route::GroupUsers(id.to_string()),
            ["logs"] => Route::Logs,
            ["apps"] => Route::Apps,
            ["apps", id] => Route::App(id.to_string()),
            ["apps", id, "users"] => Route::AppUsers(id.to_string()),
            ["apps", id, "users", user] => Route::AppUser(id.to_string(), user.to_string()),
            ["apps", id, "groups"] => Route::AppGroups(id.to_string()),
            _ => return None,
        })
    }
}

/// The parts of a request the simulator looks at.
struct Incoming {
    method: String,
    path: String,
    query: Option<String>,
    authorization: Option<String>,
    host: Option<String>,
    /// Every `DPoP` header value.
    dpop: Vec<String>,
    /// The body: read for the token endpoint only (its form), empty otherwise.
    body: Bytes,
}

impl Incoming {
    async fn read(req: Request) -> Incoming {
        let (parts, body) = req.into_parts();
        let text = |v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
        let header_str = |name| parts.headers.get(name).map(text);
        let host =
            header_str(header::HOST).or_else(|| parts.uri.authority().map(|a| a.to_string()));
        let path = parts.uri.path();
        let body = if path == TOKEN_PATH || crate::oidc::reads_body(path) {
            axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default()
        } else {
            Bytes::new()
        };
        Incoming {
            method: parts.method.as_str().to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().map(str::to_string),
            authorization: header_str(header::AUTHORIZATION),
            host,
            dpop: parts.headers.get_all("dpop").iter().map(text).collect(),
            body,
        }
    }
}

/// The single axum handler: every request comes through here.
pub(crate) async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let inc = Incoming::read(req).await;
    let _in_flight = InFlight::enter(&shared.in_flight);
    let bucket = Bucket::classify(&inc.method, &inc.path);
    let share = resource::rate_share(&lock(&shared.oauth), inc.authorization.as_deref())
        .or_else(|| token_share(&shared.config, inc.authorization.as_deref()));
    let (mut rate, enforced, concurrency) = {
        let mut limiter = lock(&shared.rate);
        let status = match &share {
            Some((app, percent)) => limiter.hit_app(bucket, app, *percent, Utc::now()),
            None => limiter.hit(bucket, Utc::now()),
        };
        (status, limiter.enforced(), limiter.concurrency())
    };
    let over_concurrency = concurrency.is_some_and(|c| _in_flight.count > c);
    let fault = if over_concurrency || (enforced && rate.exceeded) {
        None
    } else {
        lock(&shared.faults).check(&inc.path)
    };
    if let Some(FaultKind::Delay(ms)) = &fault {
        tokio::time::sleep(std::time::Duration::from_millis(*ms)).await;
    }
    let mut reply = match &fault {
        _ if over_concurrency => {
            rate = RateStatus {
                limit: 0,
                remaining: 0,
                reset: Utc::now().timestamp() + 1,
                exceeded: true,
            };
            Reply::rate_limited()
        }
        _ if enforced && rate.exceeded => Reply::rate_limited(),
        Some(FaultKind::Status(code)) => Reply::status_fault(*code),
        Some(FaultKind::RevokedToken) => Reply::invalid_token(),
        Some(FaultKind::InvalidCursor) => Reply::invalid_cursor(),
        _ => serve(&shared, &inc),
    };
    if let Some(fault) = &fault {
        distort(&shared, fault, &mut reply);
    }
    if reply.status == 429 {
        rate.remaining = 0;
    }
    let cut = match fault {
        Some(FaultKind::ConnectionReset) => Some(0),
        Some(FaultKind::TruncatedBody) => Some(reply.body.len() / 2),
        _ => None,
    };
    lock(&shared.requests).push(RecordedRequest {
        dpop: inc.dpop.first().cloned(),
        method: inc.method,
        path: inc.path,
        query: inc.query,
        authorization: inc.authorization,
        host: inc.host,
        status: reply.status,
    });
    into_response(reply, rate, cut)
}

/// An SSWS token's counter and share when `RateLimits::token_share` is set: each
/// token then has its own part of every bucket, as an OAuth app has.
fn token_share(config: &SimConfig, authorization: Option<&str>) -> Option<(String, u32)> {
    let percent = config.rate_limits.token_share?;
    let header = authorization?.trim();
    let scheme = header.get(..4)?;
    let token = scheme
        .eq_ignore_ascii_case("SSWS")
        .then(|| header[4..].trim())?;
    Some((format!("ssws:{token}"), percent))
}

/// Applies a fault that changes a normal response.
fn distort(shared: &Shared, fault: &FaultKind, reply: &mut Reply) {
    match fault {
        FaultKind::MalformedJson => {
            let mut cut = reply.body.len() / 2;
            while !reply.body.is_char_boundary(cut) {
                cut -= 1;
            }
            reply.body.truncate(cut);
        }
        FaultKind::NextToForeignHost(origin) => {
            let ours = shared.config.public_origin.trim_end_matches('/');
            for (url, rel) in &mut reply.links {
                if *rel == Rel::Next
                    && let Some(rest) = url.strip_prefix(ours)
                {
                    *url = format!("{}{rest}", origin.trim_end_matches('/'));
                }
            }
        }
        FaultKind::EmptyNextPage
            if reply.status == 200 && !reply.links.iter().any(|(_, r)| *r == Rel::Next) =>
        {
            if let Some((self_url, _)) = reply.links.iter().find(|(_, r)| *r == Rel::SelfLink) {
                let sep = if self_url.contains('?') { '&' } else { '?' };
                let next = format!("{self_url}{sep}after={END_CURSOR}");
                reply.links.push((next, Rel::Next));
            }
        }
        _ => {}
    }
}

/// Counts a request as in flight until dropped.
struct InFlight<'a> {
    counter: &'a AtomicU32,
    count: u32,
}

impl<'a> InFlight<'a> {
    fn enter(counter: &'a AtomicU32) -> Self {
        let count = counter.fetch_add(1, Ordering::SeqCst) + 1;
        InFlight { counter, count }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::SeqCst);
    }
}

fn serve(shared: &Shared, inc: &Incoming) -> Reply {
    let origin = shared.config.public_origin.trim_end_matches('/');
    let oidc = crate::oidc::OidcRequest {
        method: &inc.method,
        path: &inc.path,
        query: inc.query.as_deref(),
        authorization: inc.authorization.as_deref(),
        body: &inc.body,
    };
    if let Some(reply) = crate::oidc::serve(shared, &oidc) {
        return reply;
    }
    if inc.path == TOKEN_PATH {
        let req = TokenRequest {
            method: &inc.method,
            body: &inc.body,
            dpop: &inc.dpop,
            origin,
            now_ms: shared.now().timestamp_millis(),
        };
        return token::handle(&mut lock(&shared.oauth), &req);
    }
    let (method, path, query) = (inc.method.as_str(), inc.path.as_str(), inc.query.as_deref());
    let principal = match authenticate(shared, inc, origin) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let Some(route) = Route::parse(path) else {
        return Reply::no_such_path(path);
    };
    if method != "GET" {
        return Reply::method_not_allowed("GET");
    }
    if query.is_some_and(|q| q.split('&').any(|kv| kv == format!("after={END_CURSOR}"))) {
        let self_url = format!("{origin}{path}?{}", query.unwrap_or_default());
        return Reply {
            links: vec![(self_url, Rel::SelfLink)],
            ..Reply::json(200, "[]".to_string())
        };
    }
    let params = Params::parse(query);
    if let Route::Logs = route {
        return logs(shared, &principal, &params, origin, path);
    }
    let org = lock(&shared.org);
    let index = lock(&shared.index)
        .get_or_insert_with(|| Arc::new(OrgIndex::build(&org)))
        .clone();
    let ctx = Ctx {
        config: &shared.config,
        org: &org,
        index: &index,
        principal: &principal,
        path,
        params: &params,
    };
    let result = match route {
        Route::Users => users::list(&ctx),
        Route::User(id) => users::get(&ctx, &id),
        Route::UserGroups(id) => users::groups(&ctx, &id),
        Route::Groups => groups::list(&ctx),
        Route::Group(id) => groups::get(&ctx, &id),
        Route::GroupUsers(id) => groups::members(&ctx, &id),
        Route::Apps => apps::list(&ctx),
        Route::App(id) => apps::get(&ctx, &id),
        Route::AppUsers(id) => apps::users(&ctx, &id),
        Route::AppUser(id, user) => apps::user(&ctx, &id, &user),
        Route::AppGroups(id) => apps::groups(&ctx, &id),
        Route::Logs => unreachable!("served above"),
    };
    result.unwrap_or_else(|e| e)
}

/// `GET /api/v1/logs` (a group-scoped admin may not read the System Log: 403).
fn logs(
    shared: &Shared,
    principal: &Principal,
    params: &Params,
    origin: &str,
    path: &str,
) -> Reply {
    if let Principal::Scoped(_) = principal {
        return Reply::forbidden();
    }
    let now = shared.now();
    let mut log = lock(&shared.log);
    log.purge(now);
    let req = LogRequest {
        params,
        origin,
        path,
        now,
    };
    syslog::api::list(&log, &req).unwrap_or_else(|e| e)
}

/// The caller: an OAuth access token (`DPoP` / `Bearer`) or an SSWS token.
fn authenticate(shared: &Shared, inc: &Incoming, origin: &str) -> Result<Principal, Reply> {
    match resource::presented(inc.authorization.as_deref()) {
        Some(presented) => {
            let req = ResourceRequest {
                method: &inc.method,
                path: &inc.path,
                dpop: &inc.dpop,
                origin,
                now_ms: shared.now().timestamp_millis(),
            };
            resource::authenticate(&shared.oauth, presented, &req)
        }
        None => auth::authenticate(&shared.config, inc.authorization.as_deref()),
    }
}

/// The response; with `cut`, the body stops after that many bytes and the connection
/// is broken (the full `Content-Length` is still announced).
fn into_response(reply: Reply, rate: RateStatus, cut: Option<usize>) -> Response {
    let full_len = reply.body.len();
    let body = match cut {
        None => Body::from(reply.body),
        Some(n) => {
            let head = Bytes::from(reply.body.into_bytes()).slice(..n);
            let broken = std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "simulated connection reset",
            );
            Body::from_stream(futures_util::stream::iter([Ok(head), Err(broken)]))
        }
    };
    let mut res = Response::new(body);
    if cut.is_some() {
        res.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(full_len));
    }
    *res.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = res.headers_mut();
    let val = |s: String| HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static("-"));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(reply.content_type),
    );
    h.insert(
        header::DATE,
        val(Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string()),
    );
    h.insert("x-okta-request-id", val(ids::request_id()));
    h.insert("x-rate-limit-limit", val(rate.limit.to_string()));
    h.insert("x-rate-limit-remaining", val(rate.remaining.to_string()));
    h.insert("x-rate-limit-reset", val(rate.reset.to_string()));
    for (url, rel) in reply.links {
        let rel = match rel {
            Rel::SelfLink => "self",
            Rel::Next => "next",
        };
        h.append(header::LINK, val(format!("<{url}>; rel=\"{rel}\"")));
    }
    for (name, value) in reply.headers {
        h.append(name, val(value));
    }
    res
}
