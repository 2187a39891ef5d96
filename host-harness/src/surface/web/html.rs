//! Building blocks of the admin page's templates: the page frame (header, sidebar, the
//! stylesheet and script of `assets`), run-status lozenges, one-button POST
//! forms, and the encoding of names in URLs. Templates are maud's `html!`, which escapes
//! every value it interpolates and is checked when the crate compiles.

use maud::{DOCTYPE, Markup, html};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What [`url_encode`] leaves as it is: RFC 3986's unreserved characters and `/`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// What [`segment`] leaves as it is: the unreserved characters (`/` is encoded).
const SEGMENT: &AsciiSet = &QUERY_VALUE.add(b'/');

/// Percent-encode for a query value (or a path, whose `/` stay).
pub fn url_encode(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// Percent-encode for one path segment (a connector's name in a path).
pub fn segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// Unix seconds as admins read them (UTC, said so).
pub fn time(t: i64) -> String {
    crate::surface::report::time(t)
}

/// An AUI lozenge for a run status.
pub fn status_lozenge(status: &str, dry_run: bool) -> Markup {
    let (class, text) = match status {
        "succeeded" if dry_run => ("current", "Preview ready"),
        "succeeded" => ("success", "Succeeded"),
        "failed" => ("error", "Failed"),
        "running" => ("moved", "Running"),
        other => ("default", other),
    };
    html! {
        span class={ "aui-lozenge aui-lozenge-" (class) } data-status=(status) { (text) }
    }
}

/// A POST form of one button, with the session's CSRF field: the page's actions (Sync,
/// Delete, Log out, ...) are POSTs, never links, so that a forged GET changes nothing.
#[derive(Clone, Copy, Default)]
pub struct PostButton<'a> {
    /// Where it posts.
    pub action: &'a str,
    /// The button's text.
    pub label: &'a str,
    /// The button's classes besides `aui-button`.
    pub class: &'a str,
    /// The button's id.
    pub id: Option<&'a str>,
    /// A question the script asks before the form is sent.
    pub confirm: Option<&'a str>,
    /// One hidden field besides the CSRF token (`dry_run`, `force`).
    pub hidden: Option<(&'a str, &'a str)>,
}

/// What every page knows.
#[derive(Clone, Copy)]
pub struct Frame<'a> {
    /// Product name (Jira, Confluence, Bitbucket, Bamboo).
    pub product: &'a str,
    /// The page's base path.
    pub base: &'a str,
    /// The session's CSRF token, when logged in.
    pub csrf: Option<&'a str>,
}

impl Frame<'_> {
    /// The hidden CSRF field of a form.
    pub fn token_field(&self) -> Markup {
        html! {
            input type="hidden" name=(super::auth::CSRF_FIELD) value=(self.csrf.unwrap_or_default());
        }
    }

    /// A one-button POST form.
    pub fn post_button(&self, b: PostButton<'_>) -> Markup {
        html! {
            form method="post" action=(b.action) class="inline-form" data-confirm=[b.confirm] {
                (self.token_field())
                @if let Some((name, value)) = b.hidden {
                    input type="hidden" name=(name) value=(value);
                }
                button type="submit" class={ "aui-button " (b.class) } id=[b.id] { (b.label) }
            }
        }
    }

    /// The whole page around `body`, User Sync selected in the sidebar.
    pub fn page(&self, title: &str, body: Markup) -> Markup {
        self.page_in(Section::UserSync, title, body)
    }

    /// The whole page around `body`, `section` selected in the sidebar.
    pub fn page_in(&self, section: Section, title: &str, body: Markup) -> Markup {
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta name="atl-token" content=(self.csrf.unwrap_or_default());
                    meta name="usersync-base" content=(self.base);
                    title { (title) " - " (self.product) }
                    link rel="stylesheet" href=(super::assets::CSS.href(self.base));
                }
                body {
                    (self.header())
                    div class="aui-page-layout" {
                        @if self.csrf.is_some() { (self.sidebar(section)) }
                        main class="aui-page-panel" { (body) }
                    }
                    footer class="aui-footer" {
                        "User Sync for " (self.product) " Data Center · Okta connector"
                    }
                    script src=(super::assets::JS.href(self.base)) {}
                }
            }
        }
    }

    /// The product's header bar, with Log out when logged in.
    fn header(&self) -> Markup {
        let logout = format!("{}/logout", self.base);
        html! {
            header class="aui-header" {
                div class="aui-header-primary" {
                    span class="aui-header-logo" { span class="logo-mark" { "◆" } " " (self.product) }
                    span class="aui-header-section" { "Administration" }
                }
                @if self.csrf.is_some() {
                    div class="aui-header-secondary" {
                        span class="user" { "admin" }
                        (self.post_button(PostButton {
                            action: &logout,
                            label: "Log out",
                            class: "aui-button-subtle",
                            id: Some("logout"),
                            ..PostButton::default()
                        }))
                    }
                }
            }
        }
    }

    /// The product's administration sidebar, `section` selected.
    fn sidebar(&self, section: Section) -> Markup {
        let item = |s: Section, path: &str, id: &str, label: &str| {
            html! {
                li class=[(s == section).then_some("selected")] {
                    a href={ (self.base) (path) } id=(id) { (label) }
                }
            }
        };
        html! {
            nav class="admin-sidebar" aria-label="Administration" {
                h3 { "User management" }
                ul {
                    (item(Section::Users, "/users", "nav-users", "Users"))
                    (item(Section::Groups, "/groups", "nav-groups", "Groups"))
                    (item(Section::Directories, "/directories", "nav-directories", "User directories"))
                }
                h3 { "Okta" }
                ul {
                    (item(Section::UserSync, "", "nav-user-sync", "User Sync"))
                    (item(Section::SingleSignOn, "/sso", "sso-settings", "Single sign-on"))
                    (item(Section::Approvals, "/approvals", "nav-approvals", "Approvals"))
                    (item(Section::Alerts, "/alerts", "nav-alerts", "Alerts"))
                }
            }
        }
    }
}

/// The sidebar's entries: which one a page is under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// User Sync: connectors and runs.
    UserSync,
    /// The product's users.
    Users,
    /// The product's groups.
    Groups,
    /// The order of the user directories.
    Directories,
    /// Single sign-on: the identity providers and their logins.
    SingleSignOn,
    /// Plans the guard stopped, waiting for an admin.
    Approvals,
    /// Alerts and where they go.
    Alerts,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_encoded_for_paths_and_queries() {
        assert_eq!(segment("a/b c&d"), "a%2Fb%20c%26d");
        assert_eq!(url_encode("/p/x?y=1&z"), "/p/x%3Fy%3D1%26z");
        assert_eq!(segment("Ökta-1_x.~"), "%C3%96kta-1_x.~");
    }

    #[test]
    fn values_are_escaped() {
        let frame = Frame {
            product: "Jira",
            base: "/b",
            csrf: Some("t\"<"),
        };
        let page = frame
            .page("<script>", html! { p { "a & b" } })
            .into_string();
        assert!(
            page.contains("<title>&lt;script&gt; - Jira</title>"),
            "{page}"
        );
        assert!(page.contains(r#"<meta name="atl-token" content="t&quot;&lt;">"#));
        assert!(page.contains("<p>a &amp; b</p>"));
        assert!(!page.contains("<script>"), "no inline script: {page}");
        assert!(!page.contains("style="), "no inline style");
    }
}
