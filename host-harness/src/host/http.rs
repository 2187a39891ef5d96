//! The outgoing-HTTP policy (`wasi:http`): the guest may reach only its connector's Okta
//! host, over https, and the host authenticates those requests itself: whatever
//! `Authorization` (or `DPoP`) the guest set is replaced by `SSWS <token>`, or by a
//! service app's access token and DPoP proof ([`super::oauth`]), so the guest never holds
//! a credential. A documented override (like curl's `--resolve`) sends an Okta domain's
//! requests to a loopback address over plain http, for the simulator and demo; it
//! accepts loopback addresses only, so a token never leaves the machine unencrypted.

use crate::host::oauth::{self, Authorization, CredentialError, ServiceApp, TokenRoute};
use crate::host::token::ApiToken;
use http::header::AUTHORIZATION;
use http::uri::{Authority, Scheme};
use http::{HeaderName, Method, Request, Uri};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// The DPoP proof header (RFC 9449).
const DPOP: HeaderName = HeaderName::from_static("dpop");

/// Domain → loopback address overrides, set at harness start-up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolve(HashMap<String, SocketAddr>);

impl Resolve {
    /// Parse `domain=127.0.0.1:port` entries.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Resolve, String> {
        let mut map = HashMap::new();
        for e in entries {
            let (domain, addr) = e.split_once('=').ok_or_else(|| {
                format!("`{e}` is not DOMAIN=ADDRESS:PORT (e.g. acme.okta.com=127.0.0.1:8089)")
            })?;
            let addr: SocketAddr = addr
                .trim()
                .parse()
                .map_err(|_| format!("`{addr}` is not an IP address with a port"))?;
            if !addr.ip().is_loopback() {
                return Err(format!(
                    "`{addr}` is not a loopback address; overrides are for local simulators only"
                ));
            }
            map.insert(domain.trim().to_ascii_lowercase(), addr);
        }
        Ok(Resolve(map))
    }

    /// Add one override.
    pub fn insert(&mut self, domain: &str, addr: SocketAddr) {
        assert!(
            addr.ip().is_loopback(),
            "overrides are for loopback addresses only"
        );
        self.0.insert(domain.to_ascii_lowercase(), addr);
    }

    /// The override of a domain.
    pub fn get(&self, domain: &str) -> Option<SocketAddr> {
        self.0.get(domain).copied()
    }
}

/// A request the policy refused, kept for the run's log and for tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    /// `scheme://host[:port]` of the refused request (never its path or headers).
    pub origin: String,
    /// Why.
    pub reason: String,
}

/// How the host authenticates a connector's requests.
#[derive(Clone, Debug)]
pub enum Credential {
    /// `Authorization: SSWS <token>`.
    ApiToken(ApiToken),
    /// An OAuth service app's access token (DPoP-bound or Bearer), from its session.
    ServiceApp(Arc<ServiceApp>),
}

/// The one Okta host a call may reach, and the credential the host sends it.
#[derive(Clone, Debug)]
pub struct OktaAccess {
    host: String,
    credential: Credential,
}

impl OktaAccess {
    /// `https://{okta_domain}`, authenticated with `credential`.
    pub fn new(okta_domain: &str, credential: Credential) -> Self {
        OktaAccess {
            host: okta_domain.to_ascii_lowercase(),
            credential,
        }
    }
}

/// What the policy does with a request it allows.
enum Prepared {
    /// Routed and authenticated (SSWS): send it as it is.
    Ready,
    /// Routed; the service app authenticates it when it is sent.
    ServiceApp(Box<AppRequest>),
}

/// A request a service app authenticates.
struct AppRequest {
    app: Arc<ServiceApp>,
    /// The URL as the plugin made it (a proof's `htu` names it, not the route).
    public: Uri,
    route: TokenRoute,
}

/// The policy for one call: the one host allowed with its token, and the overrides.
/// Its `Debug` shows the token masked.
#[derive(Debug)]
pub struct HttpPolicy {
    okta: Option<OktaAccess>,
    resolve: Resolve,
    /// Requests refused during the call.
    denied: Vec<Denied>,
    /// The first credential failure of the call (the service app's token could not be
    /// had, or Okta's answer names a missing scope or role): the call's error then.
    credential_failure: Arc<Mutex<Option<CredentialError>>>,
}

impl HttpPolicy {
    /// Allow `https://{okta_domain}` only (`None`: allow nothing).
    pub fn new(okta: Option<OktaAccess>, resolve: Resolve) -> Self {
        HttpPolicy {
            okta,
            resolve,
            denied: Default::default(),
            credential_failure: Default::default(),
        }
    }

    /// The call's first credential failure, if any.
    pub fn credential_failure(&self) -> Option<CredentialError> {
        lock(&self.credential_failure).clone()
    }

    /// The requests refused so far.
    pub fn denied(&self) -> Vec<Denied> {
        self.denied.clone()
    }

    /// Where a request may go: the URI to connect to and the credential it carries, or
    /// why not.
    pub fn route(&self, uri: &Uri) -> Result<(Uri, &Credential), String> {
        if uri.scheme() != Some(&Scheme::HTTPS) {
            return Err("only https is allowed".into());
        }
        let host = uri.host().unwrap_or_default().to_ascii_lowercase();
        let okta = match &self.okta {
            Some(okta) if okta.host == host => okta,
            Some(okta) => {
                return Err(format!(
                    "only the connector's Okta host {} may be reached",
                    okta.host
                ));
            }
            None => return Err("this call may not make HTTP requests".into()),
        };
        if uri.port_u16().is_some_and(|p| p != 443) {
            return Err("only the https port 443 is allowed".into());
        }
        let Some(addr) = self.resolve.get(&host) else {
            return Ok((uri.clone(), &okta.credential));
        };
        let mut parts = uri.clone().into_parts();
        parts.scheme = Some(Scheme::HTTP);
        parts.authority = Some(Authority::try_from(addr.to_string()).map_err(|e| e.to_string())?);
        let uri = Uri::from_parts(parts).map_err(|e| e.to_string())?;
        Ok((uri, &okta.credential))
    }

    /// Make a guest's request one the host sends: routed, with the guest's
    /// `Authorization` and `DPoP` headers dropped, and authenticated with the connector's
    /// token (a service app's is added when the request is sent). A refused request is
    /// left as it was.
    fn prepare<B>(&self, request: &mut Request<B>) -> Result<Prepared, String> {
        let public = request.uri().clone();
        let (uri, credential) = self.route(&public)?;
        let prepared = match credential {
            Credential::ApiToken(_) => Prepared::Ready,
            Credential::ServiceApp(app) => Prepared::ServiceApp(Box::new(AppRequest {
                app: app.clone(),
                route: TokenRoute {
                    uri: self.route(app.token_url())?.0,
                    options: Some(TOKEN_TIMEOUTS),
                },
                public,
            })),
        };
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.remove(AUTHORIZATION);
        headers.remove(DPOP);
        if let Credential::ApiToken(token) = credential {
            headers.insert(AUTHORIZATION, token.authorization());
        }
        Ok(prepared)
    }
}

/// Timeouts of a token request.
const TOKEN_TIMEOUTS: RequestOptions = RequestOptions {
    connect_timeout: Some(Duration::from_secs(10)),
    first_byte_timeout: Some(Duration::from_secs(30)),
    between_bytes_timeout: Some(Duration::from_secs(30)),
};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Keep the first credential failure of a call.
fn record(slot: &Mutex<Option<CredentialError>>, e: CredentialError) {
    tracing::warn!("Okta credential: {e}");
    lock(slot).get_or_insert(e);
}

fn origin_of(uri: &Uri) -> String {
    format!(
        "{}://{}",
        uri.scheme_str().unwrap_or("?"),
        uri.authority().map(|a| a.as_str()).unwrap_or("?")
    )
}

type Sent = (
    http::Response<WasiBody>,
    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
);

/// Send a request as it is.
async fn send(
    request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> Result<Sent, HttpError> {
    use http_body_util::BodyExt;
    let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
    Ok((
        res.map(BodyExt::boxed_unsync),
        Box::new(io) as Box<dyn Future<Output = _> + Send>,
    ))
}

/// Send a request authenticated by a service app: a token and proof, and once more with
/// a new token when Okta answers 401 (expired or revoked token, or a nonce wanted) to a
/// request without a body. A credential failure is recorded for the call and the
/// request fails.
async fn send_as_app(
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    AppRequest { app, public, route }: AppRequest,
    failure: Arc<Mutex<Option<CredentialError>>>,
) -> Result<Sent, HttpError> {
    let bodiless = matches!(*request.method(), Method::GET | Method::HEAD);
    let again = bodiless.then(|| {
        (
            request.method().clone(),
            request.uri().clone(),
            request.headers().clone(),
        )
    });
    for attempt in 0..2 {
        let auth = match app.authorize(request.method(), &public, &route).await {
            Ok(auth) => auth,
            Err(e) => {
                record(&failure, e);
                return Err(HttpError::HttpRequestDenied);
            }
        };
        authenticate(request.headers_mut(), &auth);
        let (res, io) = send(request, options).await?;
        match (&again, attempt) {
            (Some((method, uri, headers)), 0)
                if oauth::retry_after_401(res.status(), res.headers()) =>
            {
                app.invalidate(&auth).await;
                let mut retry = http::Request::new(empty_body());
                *retry.method_mut() = method.clone();
                *retry.uri_mut() = uri.clone();
                *retry.headers_mut() = headers.clone();
                request = retry;
            }
            _ => {
                if let Some(e) = oauth::diagnose(res.status(), res.headers(), public.path()) {
                    record(&failure, e);
                }
                return Ok((res, io));
            }
        }
    }
    unreachable!("the second attempt returns")
}

fn authenticate(headers: &mut http::HeaderMap, auth: &Authorization) {
    headers.insert(AUTHORIZATION, auth.authorization.clone());
    match &auth.dpop {
        Some(proof) => headers.insert(DPOP, proof.clone()),
        None => headers.remove(DPOP),
    };
}

fn empty_body() -> WasiBody {
    use http_body_util::BodyExt;
    http_body_util::Empty::<bytes::Bytes>::new()
        .map_err(|never: std::convert::Infallible| -> HttpError { match never {} })
        .boxed_unsync()
}

type ResponseFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for HttpPolicy {
    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> ResponseFuture {
        match self.prepare(&mut request) {
            Ok(Prepared::Ready) => Box::new(send(request, options)),
            Ok(Prepared::ServiceApp(app)) => Box::new(send_as_app(
                request,
                options,
                *app,
                self.credential_failure.clone(),
            )),
            Err(reason) => {
                let origin = origin_of(request.uri());
                tracing::warn!(%origin, %reason, "outgoing request denied");
                self.denied.push(Denied { origin, reason });
                Box::new(async { Err(HttpError::HttpRequestDenied) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "SECRET-abc123";

    fn access(domain: &str) -> Option<OktaAccess> {
        let token = ApiToken::parse(SECRET).unwrap();
        Some(OktaAccess::new(domain, Credential::ApiToken(token)))
    }

    fn policy() -> HttpPolicy {
        HttpPolicy::new(
            access("acme.okta.com"),
            Resolve::parse(["acme.okta.com=127.0.0.1:9999"]).unwrap(),
        )
    }

    fn request(uri: &str, authorization: &[&str]) -> Request<()> {
        let mut b = Request::get(uri).header("accept", "application/json");
        for a in authorization {
            b = b.header("Authorization", *a);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn routes_only_https_to_the_okta_host() {
        let p = policy();
        let (routed, credential) = p
            .route(
                &"https://acme.okta.com/api/v1/users?limit=200"
                    .parse()
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(
            routed.to_string(),
            "http://127.0.0.1:9999/api/v1/users?limit=200"
        );
        assert!(matches!(credential, Credential::ApiToken(t) if t.expose() == SECRET));
        for (uri, why) in [
            ("http://acme.okta.com/api/v1/users", "only https"),
            (
                "https://evil.example.com/api/v1/users",
                "only the connector's Okta host",
            ),
            (
                "https://acme.okta.com.evil.com/",
                "only the connector's Okta host",
            ),
            ("https://acme.okta.com:8443/", "port 443"),
            ("https://127.0.0.1:9999/", "only the connector's Okta host"),
        ] {
            assert!(
                p.route(&uri.parse().unwrap()).unwrap_err().contains(why),
                "{uri}"
            );
        }
        assert!(
            HttpPolicy::new(None, Resolve::default())
                .route(&"https://acme.okta.com/".parse().unwrap())
                .is_err()
        );
    }

    #[test]
    fn without_override_the_real_host_is_used() {
        let p = HttpPolicy::new(access("ACME.okta.com"), Resolve::default());
        let uri: Uri = "https://acme.okta.com/api/v1/users".parse().unwrap();
        assert_eq!(p.route(&uri).unwrap().0, uri);
    }

    #[test]
    fn the_host_sets_the_authorization_and_replaces_the_guests() {
        let p = policy();
        for guest in [&[][..], &["SSWS forged"], &["Bearer x", "SSWS y"]] {
            let mut r = request("https://acme.okta.com/api/v1/users", guest);
            p.prepare(&mut r).unwrap();
            let sent: Vec<_> = r.headers().get_all(AUTHORIZATION).iter().collect();
            assert_eq!(sent, [&format!("SSWS {SECRET}")], "guest set {guest:?}");
            assert!(sent[0].is_sensitive());
            assert_eq!(r.headers()["accept"], "application/json");
            assert_eq!(r.uri().to_string(), "http://127.0.0.1:9999/api/v1/users");
        }
    }

    #[test]
    fn a_refused_request_gets_no_token() {
        let p = policy();
        for uri in [
            "https://evil.example.com/api/v1/users",
            "http://acme.okta.com/api/v1/users",
        ] {
            let mut r = request(uri, &["SSWS forged"]);
            assert!(p.prepare(&mut r).is_err(), "{uri}");
            assert_eq!(r.uri().to_string(), uri, "left as it was");
            assert_eq!(r.headers()[AUTHORIZATION], "SSWS forged");
        }
        let mut r = request("https://acme.okta.com/", &[]);
        assert!(
            HttpPolicy::new(None, Resolve::default())
                .prepare(&mut r)
                .is_err()
        );
        assert!(r.headers().get(AUTHORIZATION).is_none());
    }

    #[test]
    fn debug_masks_the_token() {
        let shown = format!("{:?} {:#?}", policy(), policy());
        assert!(shown.contains("acme.okta.com"), "{shown}");
        assert!(shown.contains("********"), "{shown}");
        assert!(
            !shown.contains(SECRET) && !shown.contains("abc123"),
            "{shown}"
        );
    }

    #[test]
    fn overrides_accept_loopback_only() {
        assert!(
            Resolve::parse(["acme.okta.com=10.0.0.5:80"])
                .unwrap_err()
                .contains("not a loopback")
        );
        assert!(
            Resolve::parse(["acme.okta.com"])
                .unwrap_err()
                .contains("DOMAIN=ADDRESS:PORT")
        );
        assert!(Resolve::parse(["acme.okta.com=[::1]:80"]).is_ok());
    }
}
