//! The admin page's approvals and alerts: a refused run's plan with *Approve and apply*
//! and *Reject* (shown on the run's page), the list of plans (`/approvals`), and the
//! alert settings with the latest deliveries (`/alerts`).

use super::auth::Caller;
use super::html::{Frame, PostButton, Section, segment, time};
use super::page::{frame, message_page};
use super::{App, blocking};
use crate::harness::HarnessError;
use crate::model::console::{AlertKind, ConsoleSettings, SmtpSecurity};
use crate::model::{PlanStatus, Trigger};
use crate::product::db::alerts::Delivery;
use crate::product::db::pending::PendingPlan;
use axum::Router;
use axum::extract::{Extension, Form, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde_json::{Value, json};
use std::collections::HashMap;
use strum::VariantArray;

type Fields = HashMap<String, String>;

/// The routes (behind the page's guard).
pub fn routes() -> Router<App> {
    Router::new()
        .route("/approvals", get(approvals))
        .route("/runs/{id}/approve", post(approve))
        .route("/runs/{id}/reject", post(reject))
        .route("/alerts", get(alerts).post(save_alerts))
}

fn see_other(to: String) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
}

fn failed(app: &App, e: HarnessError) -> Response {
    message_page(
        app,
        super::json::status(e.kind()),
        "The action failed",
        &e.to_string(),
    )
}

fn plan_status(p: &PendingPlan) -> &'static str {
    match p.status {
        PlanStatus::Pending => "Waiting for approval",
        PlanStatus::Applied => "Approved and applied",
        PlanStatus::Changed => "Approved, but Okta had changed: re-planned",
        PlanStatus::Rejected => "Rejected",
        PlanStatus::Expired => "Expired",
        PlanStatus::Superseded => "Superseded by a later sync",
    }
}

/// A refused run's plan on its page: what it would do, who asked, until when it waits,
/// and (while pending) the buttons to approve or reject it.
pub fn plan_box(frame: &Frame<'_>, p: &PendingPlan) -> Markup {
    let approve = format!("{}/runs/{}/approve", frame.base, p.run_id);
    let reject = format!("{}/runs/{}/reject", frame.base, p.run_id);
    let question = format!(
        "Apply this plan? It deactivates or deletes {} of {} active users. Okta is checked again first: if it changed, nothing is applied and the new plan waits for approval.",
        p.would_remove, p.active_users
    );
    html! {
        div class="aui-message aui-message-warning" id="plan" data-plan-status=(p.status.as_str()) {
            span class="title" { "Plan: " (plan_status(p)) }
            p {
                "It deactivates or deletes " strong { (p.would_remove) } " of " (p.active_users)
                " active users (plan " code { (&p.plan_digest[..p.plan_digest.len().min(12)]) } ")."
                @if let Some(by) = &p.requested_by { " Started by " (by) "." }
            }
            @match p.status {
                PlanStatus::Pending => p { "Waits for approval until " (time(p.expires_at)) ". The changes are listed below." },
                _ => p {
                    @if let Some(by) = &p.decided_by { "Decided by " (by) }
                    @if let Some(at) = p.decided_at { " at " (time(at)) }
                    @if let Some(next) = p.next_run { " · " a href={ (frame.base) "/runs/" (next) } { "run #" (next) } }
                },
            }
            @if p.status == PlanStatus::Pending {
                div class="aui-buttons" {
                    (frame.post_button(PostButton {
                        action: &approve,
                        label: "Approve and apply",
                        class: "aui-button-primary",
                        id: Some("approve-plan"),
                        confirm: Some(&question),
                        hidden: None,
                    }))
                    (frame.post_button(PostButton {
                        action: &reject,
                        label: "Reject",
                        class: "",
                        id: Some("reject-plan"),
                        confirm: Some("Reject this plan? Nothing is synced."),
                        hidden: None,
                    }))
                }
            }
        }
    }
}

async fn approve(State(app): State<App>, Path(id): Path<i64>) -> Response {
    let by = super::approvals::page_actor(&app);
    match super::approvals::start_approval(&app, id, by, Trigger::Manual).await {
        Ok(run) => see_other(format!("{}/runs/{run}", app.base())),
        Err(e) => failed(&app, e),
    }
}

async fn reject(State(app): State<App>, Path(id): Path<i64>) -> Response {
    let by = super::approvals::page_actor(&app);
    match blocking(&app.harness, move |h| h.reject(id, &by)).await {
        Ok(_) => see_other(format!("{}/runs/{id}", app.base())),
        Err(e) => failed(&app, e),
    }
}

async fn approvals(State(app): State<App>, Extension(s): Extension<Caller>) -> Response {
    match blocking(&app.harness, |h| h.plans(None, None, 100)).await {
        Ok(plans) => approvals_page(&frame(&app, Some(&s)), &plans).into_response(),
        Err(e) => failed(&app, e),
    }
}

fn approvals_page(frame: &Frame<'_>, plans: &[PendingPlan]) -> Markup {
    let body = html! {
        div class="aui-page-header" { div { h1 { "Approvals" }
            p { "Syncs the mass-deactivation guard stopped. Each keeps its plan until an admin approves or rejects it, or it expires." } } }
        table class="aui" id="plans" {
            thead { tr { th { "Run" } th { "Connector" } th { "Status" } th { "Deactivates or deletes" } th { "Refused" } th { "Expires" } th { "Decided by" } } }
            tbody {
                @if plans.is_empty() { tr { td colspan="7" class="muted" { "No sync has been stopped by the guard." } } }
                @for p in plans {
                    tr data-run=(p.run_id) {
                        td { a href={ (frame.base) "/runs/" (p.run_id) } { "#" (p.run_id) } }
                        td { a href={ (frame.base) "/connectors/" (segment(&p.connector)) } { (p.connector) } }
                        td { (plan_status(p)) }
                        td class="num" { (p.would_remove) " of " (p.active_users) }
                        td { (time(p.created_at)) }
                        td { (time(p.expires_at)) }
                        td { (p.decided_by.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
    };
    frame.page_in(Section::Approvals, "Approvals", body)
}

async fn alerts(State(app): State<App>, Extension(s): Extension<Caller>) -> Response {
    alerts_response(&app, &s, None).await
}

async fn alerts_response(app: &App, s: &Caller, error: Option<String>) -> Response {
    let data = blocking(&app.harness, |h| {
        Ok::<_, HarnessError>((h.console()?, crate::alerts::deliveries(h, 50)?))
    })
    .await;
    match data {
        Ok((settings, deliveries)) => {
            let status = if error.is_some() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            (
                status,
                alerts_page(
                    &frame(app, Some(s)),
                    &settings,
                    &deliveries,
                    error.as_deref(),
                ),
            )
                .into_response()
        }
        Err(e) => failed(app, e),
    }
}

fn kind_label(k: AlertKind) -> &'static str {
    match k {
        AlertKind::SyncFailed => "A sync failed",
        AlertKind::PendingApproval => "The guard stopped a sync: a plan waits for approval",
        AlertKind::NoSuccess => "No successful sync for the hours below",
        AlertKind::CredentialRejected => "Okta rejected a connector's credential (401/403)",
        AlertKind::RateLimited => "Okta rate-limited a sync repeatedly",
    }
}

fn field(name: &str, label: &str, value: &str, help: &str) -> Markup {
    html! {
        div class="field-group" {
            label for=(name) { (label) }
            input class="text" type="text" id=(name) name=(name) value=(value);
            div class="description" { (help) }
        }
    }
}

fn alerts_page(
    frame: &Frame<'_>,
    s: &ConsoleSettings,
    deliveries: &[Delivery],
    error: Option<&str>,
) -> Markup {
    let a = &s.alerts;
    let email = a.email.as_ref();
    let opt = |v: Option<String>| v.unwrap_or_default();
    let action = format!("{}/alerts", frame.base);
    let body = html! {
        div class="aui-page-header" { div { h1 { "Alerts and approvals" }
            p { "Who is told when a sync fails or waits for approval, and how long a stopped sync's plan waits." } } }
        @if let Some(e) = error { div class="aui-message aui-message-error" id="alerts-error" { (e) } }
        form class="aui" method="post" action=(action) id="alerts-form" {
            (frame.token_field())
            h2 { "Approvals" }
            (field("expiryHours", "Plans wait for approval (hours)", &s.approvals.expiry_hours.to_string(), "A plan not approved or rejected in time expires. Default 72."))
            h2 { "Send an alert when" }
            fieldset class="group" {
                @for k in AlertKind::VARIANTS {
                    div class="checkbox" {
                        input type="checkbox" id={ "kind-" (k.as_str()) } name={ "kind-" (k.as_str()) } value="1" checked[a.kinds.contains(k)];
                        label for={ "kind-" (k.as_str()) } { (kind_label(*k)) }
                    }
                }
            }
            (field("noSuccessHours", "No successful sync for (hours)", &opt(a.no_success_hours.map(|h| h.to_string())), "Of connectors whose schedule is on. Empty: never. Default 24."))
            (field("rateLimitThreshold", "Rate-limited answers (429) in one sync", &a.rate_limit_threshold.to_string(), "Default 5."))
            h2 { "Webhook" }
            (field("webhookUrl", "Webhook URL", &opt(a.webhook_url.clone()), "POSTed JSON with a Slack-compatible text field (Slack, Teams, Mattermost incoming webhooks). https only."))
            h2 { "E-mail" }
            (field("smtpHost", "SMTP relay", &opt(email.map(|e| e.smtp_host.clone())), "The product's mail server. Empty: no e-mail."))
            (field("smtpPort", "Port", &opt(email.map(|e| e.smtp_port.to_string())), "25, 587 (STARTTLS) or 465 (TLS)."))
            div class="field-group" {
                label for="smtpSecurity" { "Security" }
                select id="smtpSecurity" name="smtpSecurity" {
                    @for (v, l) in [("none", "None (a relay on this network)"), ("starttls", "STARTTLS"), ("tls", "TLS")] {
                        option value=(v) selected[email.map(|e| security_name(e.security)) == Some(v)] { (l) }
                    }
                }
            }
            (field("from", "From", &opt(email.map(|e| e.from.clone())), "The sender's address."))
            (field("to", "To", &opt(email.map(|e| e.to.join(", "))), "Recipients, comma-separated."))
            div class="buttons" { button type="submit" class="aui-button aui-button-primary" id="save-alerts" { "Save" } }
        }
        h2 { "Latest alerts" }
        table class="aui" id="deliveries" {
            thead { tr { th { "Raised" } th { "Connector" } th { "Alert" } th { "Channel" } th { "Status" } th { "Tries" } th { "Last error" } } }
            tbody {
                @if deliveries.is_empty() { tr { td colspan="7" class="muted" { "No alerts yet." } } }
                @for d in deliveries {
                    tr data-status=(d.status) {
                        td { (time(d.created_at)) }
                        td { (d.connector.as_deref().unwrap_or("")) }
                        td { (d.subject) }
                        td { (d.channel) }
                        td { (d.status) }
                        td class="num" { (d.attempts) }
                        td { (d.last_error.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
    };
    frame.page_in(Section::Alerts, "Alerts and approvals", body)
}

fn security_name(s: SmtpSecurity) -> &'static str {
    match s {
        SmtpSecurity::None => "none",
        SmtpSecurity::Starttls => "starttls",
        SmtpSecurity::Tls => "tls",
    }
}

/// The form as a settings patch (a number that is not one is refused naming its field).
fn patch_of(f: &Fields) -> Result<Value, String> {
    let text = |k: &str| f.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let number = |k: &str, label: &str| -> Result<Option<u32>, String> {
        text(k)
            .map(|v| {
                v.parse::<u32>()
                    .map_err(|_| format!("{label}: `{v}` is not a whole number"))
            })
            .transpose()
    };
    let kinds: Vec<&str> = AlertKind::VARIANTS
        .iter()
        .map(|k| k.as_str())
        .filter(|k| f.contains_key(&format!("kind-{k}")))
        .collect();
    let email = match text("smtpHost") {
        None => Value::Null,
        Some(host) => json!({
            "smtpHost": host,
            "smtpPort": number("smtpPort", "Port")?.unwrap_or(25),
            "security": text("smtpSecurity").unwrap_or("none"),
            "from": text("from").unwrap_or_default(),
            "to": text("to").unwrap_or_default().split(',').map(str::trim).filter(|t| !t.is_empty()).collect::<Vec<_>>(),
        }),
    };
    Ok(json!({
        "approvals": {"expiryHours": number("expiryHours", "Plans wait for approval")?.unwrap_or(72)},
        "alerts": {
            "kinds": kinds,
            "noSuccessHours": number("noSuccessHours", "No successful sync for")?,
            "rateLimitThreshold": number("rateLimitThreshold", "Rate-limited answers")?.unwrap_or(5),
            "webhookUrl": text("webhookUrl"),
            "email": email,
        },
    }))
}

async fn save_alerts(
    State(app): State<App>,
    Extension(s): Extension<Caller>,
    Form(f): Form<Fields>,
) -> Response {
    let patch = match patch_of(&f) {
        Ok(p) => p,
        Err(e) => return alerts_response(&app, &s, Some(e)).await,
    };
    match blocking(&app.harness, move |h| h.update_console(&patch)).await {
        Ok(_) => see_other(format!("{}/alerts", app.base())),
        Err(HarnessError::Console(e)) => alerts_response(&app, &s, Some(e.to_string())).await,
        Err(e) => failed(&app, e),
    }
}
