//! The HTML pages: the sign-in form and the error page (auto-escaped by maud).

use maud::{DOCTYPE, Markup, html};

use crate::reply::Reply;

/// An HTML response.
fn page(status: u16, title: &str, body: Markup) -> Reply {
    let doc = html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { (title) } }
            body { (body) }
        }
    };
    Reply {
        content_type: "text/html; charset=utf-8",
        ..Reply::json(status, doc.into_string())
    }
    .with_header("cache-control", "no-store".into())
}

/// The sign-in form: `username` and `password`, posted to `/oauth2/v1/authorize`
/// with the authorize request's parameters as hidden fields. `error` is shown
/// above the form after a refused attempt.
pub(crate) fn login_form(
    status: u16,
    hidden: &[(&str, &str)],
    username: &str,
    error: Option<&str>,
) -> Reply {
    let body = html! {
        h1 { "Sign In" }
        @if let Some(error) = error {
            p id="okta-sim-error" role="alert" { (error) }
        }
        form id="okta-sim-login" method="post" action=(super::AUTHORIZE_PATH) {
            @for (name, value) in hidden {
                input type="hidden" name=(name) value=(value);
            }
            label for="username" { "Username" }
            input id="username" name="username" type="text" autocomplete="username" value=(username);
            label for="password" { "Password" }
            input id="password" name="password" type="password" autocomplete="current-password";
            button id="okta-signin-submit" type="submit" { "Sign In" }
        }
    };
    page(status, "Sign In", body)
}

/// Okta's error page for an authorize request that cannot be redirected.
pub(crate) fn error_page(summary: &str, code: &str) -> Reply {
    let body = html! {
        h1 { "400 Bad Request" }
        p id="okta-sim-error-summary" { (summary) }
        p { "Error code: " span id="okta-sim-error-code" { (code) } }
    };
    page(400, "400 Bad Request", body)
}
