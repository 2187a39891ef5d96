//! Single sign-on's pages (maud, every value escaped): the product's login page, a
//! refused login, the product user's page, the admin's SSO settings and the tracker.

use super::super::App;
use super::super::html::{Frame, PostButton, Section, segment, time};
use super::users::ProductUser;
use super::{CALLBACK, LOGIN, START};
use crate::harness::ConnectorView;
use crate::model::idp::{Decision, IdentityProvider, LoginRecord, UpdateMethod};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

fn public(app: &App) -> Frame<'_> {
    Frame {
        product: app.harness.product().name,
        base: app.base(),
        csrf: None,
    }
}

/// The product's login page: a **Log in with Okta** button per identity provider, and
/// the local (admin) login when there is none, or with `?nosso`.
pub fn login_page(app: &App, idps: &[IdentityProvider], nosso: bool) -> Markup {
    let frame = public(app);
    let body = html! {
        h1 { "Log in to " (frame.product) }
        @for idp in idps {
            p {
                a class="aui-button aui-button-primary sso-login" id={ "sso-" (idp.connector) }
                    href={ (START) "/" (segment(&idp.connector)) } { "Log in with Okta" }
                " " span class="muted" { (idp.okta_domain) }
            }
        }
        @if idps.is_empty() || nosso {
            (super::super::views::login_form(&frame, frame.base, None))
        } @else {
            p class="muted" { a href={ (LOGIN) "?nosso" } id="local-login" { "Log in without SSO" } }
        }
    };
    frame.page("Log in", body)
}

/// A refused (or failed) login: what the user is told, and the way back.
pub fn refused_page(app: &App, status: StatusCode, why: &str) -> Response {
    let frame = public(app);
    let body = html! {
        h1 { "You cannot log in to " (frame.product) }
        div class="aui-message aui-message-error" id="sso-refusal" { (why) }
        p { "If this is unexpected, ask your " (frame.product) " administrator." }
        p { a href=(LOGIN) { "Back to the login page" } }
    };
    (status, frame.page("Login refused", body)).into_response()
}

/// The product's stand-in page: who is logged in, with which groups.
pub fn home_page(app: &App, user: &ProductUser, groups: &[String]) -> Markup {
    let frame = public(app);
    let body = html! {
        h1 id="logged-in" { "You are logged in as " span id="username" { (user.username) } " in " (frame.product) }
        h2 { "Your groups" }
        @if groups.is_empty() { p class="muted" id="no-groups" { "None." } }
        ul id="groups" { @for g in groups { li { (g) } } }
        form method="post" action="/logout" { button type="submit" class="aui-button" id="user-logout" { "Log out" } }
    };
    frame.page("Logged in", body)
}

/// What the settings page shows.
pub struct SettingsData<'a> {
    /// Every connector (an identity provider per connector's org).
    pub connectors: &'a [ConnectorView],
    /// The identity providers set.
    pub idps: &'a [IdentityProvider],
    /// The latest logins.
    pub logins: &'a [LoginRecord],
    /// This product's origin (the redirect URI to register in Okta).
    pub origin: &'a str,
    /// A message after a save.
    pub notice: Option<(&'a str, String)>,
}

/// The admin's SSO page: an identity provider form per connector, and the latest logins.
pub fn settings_page(frame: &Frame<'_>, d: &SettingsData<'_>) -> Markup {
    let body = html! {
        h1 { "Single sign-on (Okta OpenID Connect)" }
        @if let Some((kind, text)) = &d.notice {
            div class={ "aui-message aui-message-" (kind) } id="sso-notice" { (text) }
        }
        p {
            "In the Okta Admin Console, create an " strong { "OIDC - OpenID Connect" } " " strong { "Web Application" }
            " with the grant type Authorization Code, the sign-in redirect URI "
            code id="redirect-uri" { (d.origin) (CALLBACK) }
            ", and assign it to the users who log in. Then enter its client ID and secret here."
        }
        @for c in d.connectors {
            (idp_form(frame, c, d.idps.iter().find(|i| i.connector == c.settings.name), d.connectors))
        }
        h2 { "Recent logins" }
        (logins_table(frame, d.logins))
    };
    frame.page_in(Section::SingleSignOn, "Single sign-on", body)
}

fn idp_form(
    frame: &Frame<'_>,
    c: &ConnectorView,
    idp: Option<&IdentityProvider>,
    all: &[ConnectorView],
) -> Markup {
    let name = &c.settings.name;
    let action = format!("{}/sso/{}", frame.base, segment(name));
    let method = idp.map(|i| i.update_method).unwrap_or_default();
    let sync = idp
        .and_then(|i| i.sync_connector.as_deref())
        .unwrap_or(name);
    html! {
        section class="sso-idp" data-connector=(name) {
            h2 { "Okta org " (c.settings.okta_domain) " (connector " (name) ")" }
            form class="aui" method="post" action=(action) {
                (frame.token_field())
                div class="field-group" {
                    label for={ "client-id-" (name) } { "Client ID" }
                    input class="text" type="text" id={ "client-id-" (name) } name="clientId" value=[idp.map(|i| &i.client_id)];
                }
                div class="field-group" {
                    label for={ "client-secret-" (name) } { "Client secret" }
                    input class="text" type="password" id={ "client-secret-" (name) } name="clientSecret" autocomplete="off"
                        placeholder=[idp.map(|_| "******** (empty keeps it)")];
                }
                div class="field-group" {
                    label for={ "update-method-" (name) } { "User update method" }
                    select id={ "update-method-" (name) } name="updateMethod" {
                        option value="none" selected[method == UpdateMethod::None] { "None: only existing active users log in" }
                        option value="usersync" selected[method == UpdateMethod::Usersync] { "Update with UserSync" }
                    }
                }
                div class="field-group" {
                    label for={ "sync-connector-" (name) } { "UserSync connector" }
                    select id={ "sync-connector-" (name) } name="syncConnector" {
                        @for o in all { option value=(o.settings.name) selected[o.settings.name == sync] { (o.settings.name) } }
                    }
                }
                div class="field-group" {
                    input type="checkbox" id={ "redirect-" (name) } name="redirectToSso" value="true" checked[idp.is_some_and(|i| i.redirect_to_sso)];
                    label for={ "redirect-" (name) } { "Redirect the login page to Okta (" code { (LOGIN) "?nosso" } " shows the local login)" }
                }
                div class="buttons-container" {
                    button type="submit" class="aui-button aui-button-primary" id={ "save-" (name) } { "Save" }
                }
            }
            @if idp.is_some() {
                (frame.post_button(PostButton {
                    action: &format!("{action}/test"),
                    label: "Test login",
                    id: Some(&format!("test-{name}")),
                    ..PostButton::default()
                }))
                (frame.post_button(PostButton {
                    action: &format!("{action}/delete"),
                    label: "Remove",
                    class: "aui-button-subtle",
                    confirm: Some("Remove this identity provider? Its users can no longer log in with Okta."),
                    ..PostButton::default()
                }))
            }
        }
    }
}

fn decision(r: &LoginRecord) -> Markup {
    match r.decision {
        Some(Decision::Admitted) => {
            html! { span class="aui-lozenge aui-lozenge-success" data-decision="admitted" { "Admitted" } }
        }
        Some(Decision::Refused) => {
            html! { span class="aui-lozenge aui-lozenge-error" data-decision="refused" { "Refused" } }
        }
        None => {
            html! { span class="aui-lozenge aui-lozenge-moved" data-decision="pending" { "In progress" } }
        }
    }
}

fn logins_table(frame: &Frame<'_>, logins: &[LoginRecord]) -> Markup {
    html! {
        @if logins.is_empty() { p class="muted" { "No SSO login yet." } }
        @else {
            table class="aui" id="sso-logins" {
                thead { tr { th { "Login" } th { "Started" } th { "Connector" } th { "User" } th { "Decision" } th { "Reason" } } }
                tbody {
                    @for r in logins {
                        tr {
                            td { a href={ (frame.base) "/sso/logins/" (r.id) } { "#" (r.id) @if r.test { " (test)" } } }
                            td { (time(r.started_at)) }
                            td { (r.connector) }
                            td { (r.username.as_deref().unwrap_or("")) }
                            td { (decision(r)) }
                            td { (r.reason.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

/// The login tracker: each step of login `r` with what it did or why it failed; the
/// test login's URL right after it was started.
pub fn tracker_page(frame: &Frame<'_>, r: &LoginRecord, url: Option<&str>) -> Markup {
    let body = html! {
        h1 { "SSO login #" (r.id) @if r.test { " (test login)" } }
        @if let Some(url) = url {
            div class="aui-message aui-message-info" {
                p { "Open this URL in a private window (it works once, for 10 minutes), log in as the user to test, then reload this page:" }
                p { code id="test-login-url" { (url) } }
            }
        }
        p { "Connector " (r.connector) ", started " (time(r.started_at)) ". Decision: " (decision(r)) }
        @if let Some(reason) = &r.reason { div class="aui-message aui-message-error" id="tracker-reason" { (reason) } }
        table class="aui" id="tracker-steps" {
            thead { tr { th { "Step" } th { "Result" } th { "What happened" } th { "At" } } }
            tbody {
                @for s in &r.steps {
                    tr data-step=(s.step) data-ok=(s.ok) {
                        td { (s.step) }
                        td { @if s.ok { "ok" } @else { "failed" } }
                        td class="step-detail" { (s.detail) }
                        td { (time(s.at)) }
                    }
                }
            }
        }
        p { a href={ (frame.base) "/sso/logins/" (r.id) } id="tracker-refresh" { "Refresh" } " · " a href={ (frame.base) "/sso" } { "Back to single sign-on" } }
    };
    frame.page_in(Section::SingleSignOn, "SSO login tracker", body)
}
