//! `usersync sso`: a connector's identity provider (client id and secret of the Okta
//! OIDC app, user update method, redirect to SSO) and the SSO logins with their steps.
//! The client secret is read like the API token: a file, `USERSYNC_SSO_CLIENT_SECRET`,
//! or a hidden prompt, never the command line.

use super::{CliError, emit, read_secret};
use crate::harness::Harness;
use crate::model::idp::{IdentityProvider, IdpPatch, LoginRecord, UpdateMethod};
use crate::surface::report::time;
use clap::Subcommand;
use std::io::Write;
use std::path::PathBuf;

/// `sso` subcommands.
#[derive(Subcommand, Debug)]
pub enum SsoCommand {
    /// Create or change the identity provider of a connector's Okta org; unset options
    /// keep their value. A new one reads its client secret from --client-secret-file,
    /// USERSYNC_SSO_CLIENT_SECRET or a prompt.
    Set {
        /// Connector name.
        connector: String,
        /// The Okta OIDC app's client id.
        #[arg(long)]
        client_id: Option<String>,
        /// Read the client secret from this file.
        #[arg(long)]
        client_secret_file: Option<PathBuf>,
        /// Replace the client secret (from USERSYNC_SSO_CLIENT_SECRET or a prompt).
        #[arg(long)]
        new_secret: bool,
        /// `none` (only existing active users log in) or `usersync` (Update with
        /// UserSync: the login sync runs at each login).
        #[arg(long, value_parser = parse_method)]
        update_method: Option<UpdateMethod>,
        /// The connector whose login sync runs (default: this one).
        #[arg(long)]
        sync_connector: Option<String>,
        /// Redirect the product's login page to Okta (`/login?nosso` shows the local login).
        #[arg(long)]
        redirect_to_sso: Option<bool>,
    },
    /// Show the identity provider of a connector (or list them all).
    Show {
        /// Connector name.
        connector: Option<String>,
    },
    /// Remove the identity provider of a connector.
    Remove {
        /// Connector name.
        connector: String,
    },
    /// The latest SSO logins.
    Logins {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// One SSO login with each of its steps (the login tracker).
    Login {
        /// Login id.
        id: i64,
    },
}

fn parse_method(s: &str) -> Result<UpdateMethod, String> {
    UpdateMethod::parse(s).ok_or_else(|| format!("`{s}` is not `none` or `usersync`"))
}

/// Run an `sso` subcommand.
pub fn run(h: &Harness, cmd: &SsoCommand, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    match cmd {
        SsoCommand::Set {
            connector,
            client_id,
            client_secret_file,
            new_secret,
            update_method,
            sync_connector,
            redirect_to_sso,
        } => {
            let exists = h.identity_provider(connector).is_ok();
            let secret = if !exists || *new_secret || client_secret_file.is_some() {
                let what = "Okta OIDC client secret";
                let env = "USERSYNC_SSO_CLIENT_SECRET";
                Some(read_secret(
                    client_secret_file,
                    env,
                    what,
                    "--client-secret-file",
                )?)
            } else {
                None
            };
            let patch = IdpPatch {
                client_id: client_id.clone(),
                client_secret: secret,
                update_method: *update_method,
                sync_connector: sync_connector.clone(),
                redirect_to_sso: *redirect_to_sso,
            };
            let idp = h.set_identity_provider(connector, &patch)?;
            emit(out, json, &idp, || idp_text(&idp))
        }
        SsoCommand::Show { connector: Some(c) } => {
            let idp = h.identity_provider(c)?;
            emit(out, json, &idp, || idp_text(&idp))
        }
        SsoCommand::Show { connector: None } => {
            let list = h.identity_providers()?;
            emit(out, json, &list, || {
                if list.is_empty() {
                    return "No identity provider.\n".into();
                }
                list.iter().map(idp_text).collect::<Vec<_>>().join("\n")
            })
        }
        SsoCommand::Remove { connector } => {
            h.delete_identity_provider(connector)?;
            emit(
                out,
                json,
                &serde_json::json!({"removed": connector}),
                || format!("Removed the identity provider of `{connector}`.\n"),
            )
        }
        SsoCommand::Logins { limit } => {
            let list = h.sso_logins(*limit)?;
            emit(out, json, &list, || list.iter().map(login_line).collect())
        }
        SsoCommand::Login { id } => {
            let r = h.sso_login(*id)?.ok_or_else(|| CliError {
                code: 3,
                message: format!("there is no SSO login #{id}"),
            })?;
            emit(out, json, &r, || tracker_text(&r))
        }
    }
}

fn idp_text(i: &IdentityProvider) -> String {
    let method = match i.update_method {
        UpdateMethod::None => "none (only existing active users)".to_string(),
        UpdateMethod::Usersync => format!(
            "Update with UserSync (connector {})",
            i.sync_connector
                .as_deref()
                .unwrap_or("deleted: choose another")
        ),
    };
    format!(
        "Identity provider of `{}` ({})\n  Client ID:          {}\n  Client secret:      {}\n  User update method: {method}\n  Redirect to SSO:    {}\n",
        i.connector,
        i.okta_domain,
        i.client_id,
        i.client_secret,
        if i.redirect_to_sso {
            "yes (/login?nosso shows the local login)"
        } else {
            "no"
        },
    )
}

fn outcome(r: &LoginRecord) -> String {
    match (&r.decision, &r.reason) {
        (Some(crate::model::idp::Decision::Admitted), _) => "admitted".into(),
        (Some(_), Some(reason)) => format!("refused: {reason}"),
        (Some(_), None) => "refused".into(),
        (None, _) => "in progress".into(),
    }
}

fn login_line(r: &LoginRecord) -> String {
    format!(
        "#{} {} {}{} {} {}\n",
        r.id,
        time(r.started_at),
        r.connector,
        if r.test { " (test)" } else { "" },
        r.username.as_deref().unwrap_or("-"),
        outcome(r),
    )
}

fn tracker_text(r: &LoginRecord) -> String {
    let mut s = login_line(r);
    for step in &r.steps {
        let mark = if step.ok { "ok    " } else { "FAILED" };
        s.push_str(&format!("  {mark} {:<10} {}\n", step.step, step.detail));
    }
    s
}
