//! The login itself: the product's login page, the redirect to Okta's authorize
//! endpoint, and the callback (state, code exchange, ID token, login sync, decision).
//! Each step is written to the login's record as it happens, so that the tracker shows
//! how far a login got and why it stopped.

use super::super::{App, blocking};
use super::users::ProductUser;
use super::{CALLBACK, HOME, origin, views};
use crate::sso::flow::Pending;
use crate::sso::oidc::{Exchange, Expected, route};
use crate::sso::{Admission, LoginConfig, SsoError};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use std::collections::HashMap;

type Fields = HashMap<String, String>;

/// The cookie that binds a callback to the browser that started the login: the
/// login's `state`.
const STATE_COOKIE: &str = "usersync_sso_state";

/// `GET /login`: straight to Okta when an identity provider is the redirect target
/// (unless `?nosso`), else the page with **Log in with Okta** and the local login.
pub async fn login_page(State(app): State<App>, Query(q): Query<Fields>) -> Response {
    let nosso = q.contains_key("nosso");
    let data = blocking(&app.harness, |h| {
        Ok::<_, crate::HarnessError>((h.identity_providers()?, h.sso_redirect_target()?))
    })
    .await;
    match data {
        Ok((_, Some(target))) if !nosso => {
            let to = format!("{}/{}", super::START, super::super::html::segment(&target));
            (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
        }
        Ok((idps, _)) => views::login_page(&app, &idps, nosso).into_response(),
        // The local login stays reachable whatever fails.
        Err(e) => {
            tracing::warn!("the login page could not list the identity providers: {e}");
            views::login_page(&app, &[], true).into_response()
        }
    }
}

/// `GET /plugins/servlet/oidc/start/{connector}`: a login with that provider.
pub async fn start(
    State(app): State<App>,
    Path(connector): Path<String>,
    headers: HeaderMap,
) -> Response {
    let c = connector.clone();
    let record = blocking(&app.harness, move |h| h.start_sso_login(&c, false)).await;
    match record {
        Ok(record) => redirect_to_okta(&app, &headers, &connector, record, false).await,
        Err(e) => views::refused_page(&app, StatusCode::NOT_FOUND, &e.to_string()),
    }
}

/// `GET /plugins/servlet/oidc/test/{secret}`: the tracker's test login (opens once).
pub async fn start_test(
    State(app): State<App>,
    Path(secret): Path<String>,
    headers: HeaderMap,
) -> Response {
    match app.sso.take_test(&secret) {
        Some((record, connector)) => {
            redirect_to_okta(&app, &headers, &connector, record, true).await
        }
        None => views::refused_page(
            &app,
            StatusCode::NOT_FOUND,
            "This test login link was used already or is older than 10 minutes; start another test login on the SSO page.",
        ),
    }
}

/// The identity provider's settings and secret, off the async threads.
async fn config(app: &App, connector: &str) -> Result<LoginConfig, SsoError> {
    let c = connector.to_string();
    Ok(blocking(&app.harness, move |h| h.login_config(&c)).await?)
}

/// The redirect URI of this product (registered in the Okta app).
fn redirect_uri(app: &App, headers: &HeaderMap) -> String {
    format!("{}{CALLBACK}", origin(app, headers))
}

/// Record the login's start, keep it pending, and send the browser to Okta's authorize
/// endpoint (at its loopback address for a `--resolve`d domain), with the `state`
/// cookie.
async fn redirect_to_okta(
    app: &App,
    headers: &HeaderMap,
    connector: &str,
    record: i64,
    test: bool,
) -> Response {
    let pending = Pending::new(connector, record, test, HOME);
    let url = match authorize_url(app, headers, &pending).await {
        Ok(url) => url,
        Err(e) => return failed(app, record, "redirect", &e).await,
    };
    let to = url.split('?').next().unwrap_or_default();
    step(
        app,
        record,
        "redirect",
        true,
        format!("to Okta's sign-in at {to}"),
    )
    .await;
    let cookie = Cookie::build((STATE_COOKIE, pending.state.clone()))
        .path(CALLBACK)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(app.sso.tls)
        .build();
    app.sso.flows.insert(pending);
    (
        CookieJar::new().add(cookie),
        (StatusCode::SEE_OTHER, [(header::LOCATION, url)]),
    )
        .into_response()
}

/// The authorize request: code flow, `openid profile email`, PKCE S256, state, nonce.
async fn authorize_url(app: &App, headers: &HeaderMap, p: &Pending) -> Result<String, SsoError> {
    let cfg = config(app, &p.connector).await?;
    let resolve = app.harness.resolve();
    let d = app.sso.providers.discovery(&cfg.domain, resolve).await?;
    let routed = route(&d.authorization_endpoint, &cfg.domain, resolve)?;
    let mut url = url::Url::parse(&routed.to_string())
        .map_err(|_| SsoError::OffHost(d.authorization_endpoint.clone()))?;
    url.query_pairs_mut()
        .append_pair("client_id", &cfg.idp.client_id)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid profile email")
        .append_pair("redirect_uri", &redirect_uri(app, headers))
        .append_pair("state", &p.state)
        .append_pair("nonce", &p.nonce)
        .append_pair("code_challenge", &p.challenge())
        .append_pair("code_challenge_method", "S256");
    Ok(url.to_string())
}

/// Add a step to login `record` (a database write: off the async threads, which a
/// sync's apply could hold up).
async fn step(app: &App, record: i64, name: &'static str, ok: bool, detail: String) {
    blocking(&app.harness, move |h| h.sso_step(record, name, ok, &detail)).await
}

/// Record the decision step and the login's end.
async fn decided(app: &App, record: i64, admission: Admission) -> Admission {
    let (ok, decision) = match &admission {
        Admission::Admitted { username, .. } => (true, format!("admitted as {username}")),
        Admission::Refused(why) => (false, format!("refused: {why}")),
    };
    step(app, record, "decision", ok, decision).await;
    blocking(&app.harness, move |h| {
        h.finish_sso_login(record, &admission);
        admission
    })
    .await
}

/// Record a failed step and the refusal; the user's page says why.
async fn failed(app: &App, record: i64, name: &'static str, e: &SsoError) -> Response {
    let why = e.to_string();
    step(app, record, name, false, why.clone()).await;
    decided(app, record, Admission::Refused(why.clone())).await;
    views::refused_page(app, StatusCode::FORBIDDEN, &why)
}

/// `GET /plugins/servlet/oidc/callback`: the login's end.
pub async fn callback(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<Fields>,
) -> Response {
    let jar = CookieJar::from_headers(&headers);
    let mut clear = Cookie::build((STATE_COOKIE, "")).path(CALLBACK).build();
    clear.make_removal();
    let clear = CookieJar::new().add(clear);
    // The login this browser started; a callback without it is no login of ours.
    let Some(pending) = jar
        .get(STATE_COOKIE)
        .and_then(|c| app.sso.flows.take(c.value()))
    else {
        let why = SsoError::StateMismatch.to_string();
        tracing::warn!("SSO callback refused: {why}");
        return (
            clear,
            views::refused_page(&app, StatusCode::FORBIDDEN, &why),
        )
            .into_response();
    };
    let record = pending.record;
    let given = q.get("state").map(String::as_str).unwrap_or_default();
    if !crate::surface::web::auth::same_secret(given, &pending.state) {
        let refused = failed(&app, record, "callback", &SsoError::StateMismatch).await;
        return (clear, refused).into_response();
    }
    if let Some(error) = q.get("error") {
        let e = SsoError::Authorize {
            error: error.clone(),
            description: q.get("error_description").cloned(),
        };
        return (clear, failed(&app, record, "callback", &e).await).into_response();
    }
    let Some(code) = q.get("code") else {
        let refused = failed(&app, record, "callback", &SsoError::NoCode).await;
        return (clear, refused).into_response();
    };
    let detail = "state matches the login's; an authorization code came back";
    step(&app, record, "callback", true, detail.into()).await;
    let response = match finish(&app, &headers, &pending, code).await {
        Ok(response) => response,
        Err((name, e)) => failed(&app, record, name, &e).await,
    };
    (clear, response).into_response()
}

/// The code exchange, the ID token's verification, then the decision.
async fn finish(
    app: &App,
    headers: &HeaderMap,
    p: &Pending,
    code: &str,
) -> Result<Response, (&'static str, SsoError)> {
    let at = |step: &'static str| move |e: SsoError| (step, e);
    let cfg = config(app, &p.connector).await.map_err(at("token"))?;
    let resolve = app.harness.resolve();
    let providers = &app.sso.providers;
    let d = providers
        .discovery(&cfg.domain, resolve)
        .await
        .map_err(at("token"))?;
    let exchange = Exchange {
        client_id: &cfg.idp.client_id,
        client_secret: &cfg.client_secret,
        code,
        verifier: &p.verifier,
        redirect_uri: &redirect_uri(app, headers),
    };
    let token = providers
        .exchange(&d, &cfg.domain, resolve, &exchange)
        .await
        .map_err(at("token"))?;
    step(
        app,
        p.record,
        "token",
        true,
        "the code was exchanged for an ID token".into(),
    )
    .await;
    let expected = Expected {
        issuer: &d.issuer,
        client_id: &cfg.idp.client_id,
        nonce: &p.nonce,
    };
    let claims = providers
        .verify(&d, &cfg.domain, resolve, &token, &expected)
        .await
        .map_err(at("claims"))?;
    let who = format!(
        "verified: sub {}, preferred_username {}, email {}; iss, aud, exp, iat and nonce as expected",
        claims.sub,
        claims.preferred_username.as_deref().unwrap_or("none"),
        claims.email.as_deref().unwrap_or("none"),
    );
    step(app, p.record, "claims", true, who).await;
    Ok(decide(app, cfg, p, claims.sub).await)
}

/// The login sync (or the existing user's check), the decision, and the session.
async fn decide(app: &App, cfg: LoginConfig, p: &Pending, sub: String) -> Response {
    let record = p.record;
    let admission = blocking(&app.harness, move |h| {
        let (admission, detail) = h.admit(&cfg.idp, &sub);
        let admitted = matches!(admission, Admission::Admitted { .. });
        h.sso_step(record, "user-sync", admitted, &detail);
        admission
    })
    .await;
    match decided(app, record, admission).await {
        Admission::Admitted { username, .. } => {
            let jar = app.sso.users.open(ProductUser {
                username,
                connector: p.connector.clone(),
            });
            (
                jar,
                (StatusCode::SEE_OTHER, [(header::LOCATION, p.next.clone())]),
            )
                .into_response()
        }
        Admission::Refused(why) => views::refused_page(app, StatusCode::FORBIDDEN, &why),
    }
}
