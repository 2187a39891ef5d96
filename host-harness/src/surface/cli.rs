//! The `usersync` command line: connectors, syncs, runs, and the demo.
//!
//! Exit codes: 0 success; 1 the operation failed (Okta, store, plugin, the guard); 2 bad
//! usage or invalid settings; 3 unknown connector or run; 4 a sync of the connector is
//! running ([`exit_code`]).

use crate::harness::{ErrorKind, Harness, HarnessError, Options, SyncRequest};
use crate::host::http::Resolve;
use crate::model::{
    ConnectorPatch, Credential, InactivityPolicy, MissingUsers, TokenText, Trigger, UnknownAtLogin,
};
use crate::product::db::key::KeySource;
use crate::product::db::run_changes::{ChangePage, ChangeQuery};
use crate::product::profile::Profile;
use crate::surface::report;
use crate::surface::web::auth::Password;
use clap::{Args, Parser, Subcommand};

mod sso;
use std::io::Write;
use std::path::PathBuf;

/// Okta user & group sync for Atlassian Data Center products (test host).
#[derive(Parser, Debug)]
#[command(name = "usersync", version, about)]
pub struct Cli {
    /// The SQLite database holding the product's users and the connectors.
    #[arg(
        long,
        global = true,
        env = "USERSYNC_DB",
        default_value = "usersync.db"
    )]
    pub db: PathBuf,
    /// The product this host plays: jira, confluence, bitbucket or bamboo.
    #[arg(long, global = true, env = "USERSYNC_PRODUCT", default_value = "jira")]
    pub product: String,
    /// The product licence's seat limit: syncs never give more users a seat (Jira,
    /// Confluence and Bitbucket count the active members of their access groups; Bamboo
    /// has no user seats). Default: no limit.
    #[arg(
        long,
        global = true,
        env = "USERSYNC_SEATS",
        value_name = "N",
        allow_hyphen_values = true
    )]
    pub seats: Option<String>,
    /// Send an Okta domain's requests to a loopback address (like curl --resolve), for a
    /// local simulator: DOMAIN=127.0.0.1:PORT. Repeatable.
    #[arg(long, global = true, env = "USERSYNC_RESOLVE", value_delimiter = ',')]
    pub resolve: Vec<String>,
    /// The file holding the key that encrypts the stored credentials (default: the
    /// database's path with `.key` appended, created owner-only when the first
    /// credential is stored). Or give the key itself in USERSYNC_SECRET_KEY.
    #[arg(
        long,
        global = true,
        env = "USERSYNC_SECRET_KEY_FILE",
        value_name = "FILE"
    )]
    pub secret_key_file: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
// Parsed once per process: the size of its largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create, list, show, edit, delete or test connectors.
    #[command(subcommand)]
    Connector(ConnectorCommand),
    /// Sync a connector now (full by default).
    Sync {
        /// Connector name.
        connector: String,
        /// Compute and show the plan; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Fetch only what changed since the last sync.
        #[arg(long, conflicts_with = "full")]
        incremental: bool,
        /// Fetch everything (the default).
        #[arg(long)]
        full: bool,
        /// Apply even if the mass-deactivation guard refuses (once).
        #[arg(long)]
        force: bool,
        /// Re-read every group's member list and compare the whole store, also
        /// repairing changes made in the store by hand (due every
        /// `--deep-reconcile-days` anyway).
        #[arg(long, conflicts_with = "incremental")]
        deep_reconcile: bool,
        /// Show at most this many changes.
        #[arg(long, default_value_t = 20)]
        changes: usize,
    },
    /// Sync one user by Okta login, as an SSO login does.
    SyncUser {
        /// Connector name.
        connector: String,
        /// Okta login (or id).
        login: String,
    },
    /// Print the argon2id hash of an admin password read from standard input (or typed
    /// at a prompt), for `serve --admin-password-file`: the file then holds no password.
    HashPassword,
    /// List past sync runs; approve or reject a plan the guard refused.
    #[command(args_conflicts_with_subcommands = true)]
    Runs {
        /// Approvals: `pending`, `approve RUN`, `reject RUN`.
        #[command(subcommand)]
        action: Option<super::approvals::RunsCommand>,
        /// Only this connector's runs.
        connector: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// The console's settings: approvals' expiry, alerts.
    #[command(subcommand)]
    Settings(super::approvals::SettingsCommand),
    /// Show one run: its result, its changes and its log.
    Log {
        /// Run id.
        run: i64,
    },
    /// Run the demo: an Okta simulator with a generated org, a connector, syncs.
    #[cfg(feature = "demo")]
    Demo(DemoArgs),
    /// Run the scheduler (sync every connector whose schedule is due; times are UTC), the
    /// REST API (/rest/usersync/1.0/) and the admin page, until stopped.
    Serve {
        /// Seconds between schedule checks.
        #[arg(long, default_value_t = 5)]
        check_every: u64,
        /// Address of the REST API and the admin page.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Admin user name (HTTP Basic for the REST API, login form of the page).
        #[arg(long, default_value = "admin")]
        admin_user: String,
        /// Read the admin password from this file, which only its owner may access
        /// (default: USERSYNC_ADMIN_PASSWORD): at least 12 characters, or its argon2 hash
        /// ($argon2id$...).
        #[arg(long)]
        admin_password_file: Option<PathBuf>,
        /// Serve HTTPS with this PEM certificate chain (with --tls-key).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Seconds a connection has to send a request's headers (the TLS handshake
        /// included), from its accept or from the first byte of its next request; also
        /// the longest pause in a request's body.
        #[arg(long, default_value_t = 10)]
        header_timeout: u64,
        /// Seconds a keep-alive connection stays open without a request.
        #[arg(long, default_value_t = 60)]
        idle_timeout: u64,
        /// Most open connections; over it, the one waiting longest without a request is
        /// closed for each new one [default: 1000, or what the open-file limit leaves]
        #[arg(long)]
        max_connections: Option<usize>,
        /// Failed logins in a row, per user name and per client address, that cost no
        /// wait; each one after makes the next wait longer, and 7 more lock out for 15
        /// minutes. Raise it only where every client shares one address (a proxy).
        #[arg(long, default_value_t = 3)]
        login_free_failures: u32,
    },
    /// Write every connector's settings as JSON; the API tokens are redacted unless
    /// --include-secrets.
    Export {
        /// Include the API tokens (keep the file secret: it is created with mode 0600).
        #[arg(long)]
        include_secrets: bool,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Create or update connectors from an export (JSON, `-` for standard input); if one
    /// connector is refused, nothing changes.
    Import {
        /// The export file.
        file: PathBuf,
    },
    /// Manage the key that encrypts the stored credentials.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Single sign-on: the identity provider (Okta OpenID Connect) of a connector's
    /// org, and the SSO logins with their steps.
    #[command(subcommand)]
    Sso(sso::SsoCommand),
}

/// `secrets` subcommands.
#[derive(Subcommand, Debug)]
pub enum SecretsCommand {
    /// Encrypt every stored credential with a new random key, in one transaction. The
    /// key file is replaced (the old key kept as FILE.old until the credentials are
    /// committed); with USERSYNC_SECRET_KEY, the new key is written to --new-key-file.
    RotateKey {
        /// Where to write the new key when the key comes from USERSYNC_SECRET_KEY (a new
        /// file, created owner-only); set USERSYNC_SECRET_KEY to its content afterwards.
        #[arg(long, value_name = "FILE")]
        new_key_file: Option<PathBuf>,
    },
}

/// Demo options.
#[derive(Args, Debug)]
#[cfg(feature = "demo")]
pub struct DemoArgs {
    /// Users in the simulated org.
    #[arg(long, default_value_t = 1000)]
    pub users: usize,
    /// Groups in the simulated org.
    #[arg(long, default_value_t = 50)]
    pub groups: usize,
    /// Seed of the generated org.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Afterwards, keep the simulator running and serve the admin page, the REST API and
    /// the scheduler at this address (e.g. 127.0.0.1:8080) until stopped.
    #[arg(long)]
    pub serve: Option<String>,
}

/// Connector subcommands.
#[derive(Subcommand, Debug)]
pub enum ConnectorCommand {
    /// Create an Okta connector. An API token is read from --token-file, the
    /// OKTA_CLIENT_TOKEN environment variable, or a prompt; a service app's private key
    /// from --private-key-file (or --generate-key); never from the command line.
    Create(ConnectorArgs),
    /// List connectors.
    List,
    /// Show a connector (the token or private key is masked; a service app's public key
    /// is shown as the JWK to register in Okta).
    Show {
        /// Connector name.
        name: String,
    },
    /// Change a connector's settings; unset options keep their value.
    Edit {
        /// Connector name (use --name to rename it).
        connector: String,
        #[command(flatten)]
        args: ConnectorArgs,
        /// Replace the API token (from --token-file, OKTA_CLIENT_TOKEN or a prompt).
        #[arg(long)]
        new_token: bool,
    },
    /// Delete a connector (its directory and users stay, detached).
    Delete {
        /// Connector name.
        name: String,
    },
    /// Check that Okta answers to the connector's token.
    Test {
        /// Connector name.
        name: String,
    },
}

/// Connector settings on the command line.
#[derive(Args, Debug, Default)]
pub struct ConnectorArgs {
    /// Connector name.
    #[arg(long)]
    pub name: Option<String>,
    /// Okta domain without protocol, e.g. acme.okta.com (default: OKTA_CLIENT_ORGURL).
    #[arg(long, env = "OKTA_CLIENT_ORGURL")]
    pub domain: Option<String>,
    /// Read the API token from this file.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// How the connector authenticates to Okta: api-token (SSWS, the default) or oauth
    /// (an OAuth 2.0 API service app: private_key_jwt, DPoP).
    #[arg(long, value_enum)]
    pub auth: Option<AuthKind>,
    /// The service app's client id (Okta Admin Console › Applications › the app).
    #[arg(long)]
    pub client_id: Option<String>,
    /// Read the service app's private key (PEM: RSA, or EC P-256/P-384 in PKCS#8) from
    /// this file.
    #[arg(long, conflicts_with = "generate_key")]
    pub private_key_file: Option<PathBuf>,
    /// Generate a new P-256 key for the service app; the public JWK to register in the
    /// Okta app is printed (and shown by `connector show`).
    #[arg(long)]
    pub generate_key: bool,
    /// The key id (kid) of the public key registered in the app (default: the key's
    /// thumbprint, as printed with the public JWK).
    #[arg(long)]
    pub key_id: Option<String>,
    /// Scopes to request, comma-separated (default okta.users.read,okta.groups.read,
    /// plus okta.logs.read with the change feed and okta.apps.read with --app-scope).
    #[arg(long, value_delimiter = ',')]
    pub scopes: Option<Vec<String>>,
    /// Request DPoP-bound tokens (default true); false only for an app whose "Require
    /// DPoP header in token requests" is off.
    #[arg(long)]
    pub dpop: Option<bool>,
    /// Cron schedule in --schedule-time-zone (Quartz `0 0 */2 ? * *`, crontab
    /// `*/30 * * * *`, or a preset such as `every 15 minutes`).
    #[arg(long)]
    pub schedule: Option<String>,
    /// IANA time zone of the schedule, e.g. Europe/Berlin (default UTC).
    #[arg(long)]
    pub schedule_time_zone: Option<String>,
    /// Turn the scheduled sync on or off.
    #[arg(long)]
    pub schedule_enabled: Option<bool>,
    /// The Okta domain is the org's custom URL domain (outside okta.com, oktapreview.com,
    /// okta-emea.com, …); without it such a domain is refused.
    #[arg(long)]
    pub custom_domain: Option<bool>,
    /// Sync Okta's built-in groups (Everyone).
    #[arg(long)]
    pub include_built_in_groups: Option<bool>,
    /// Okta profile attributes to copy (repeatable, or comma-separated).
    #[arg(long = "attribute", value_delimiter = ',')]
    pub attributes: Option<Vec<String>>,
    /// Hours between full syncs when scheduled syncs are incremental (default 24).
    #[arg(long)]
    pub full_sync_interval_hours: Option<u32>,
    /// At login, deactivate users Okta does not know (deny) instead of keeping them.
    #[arg(long)]
    pub deny_unknown_at_login: Option<bool>,
    /// Group-member requests in flight at once (1-16, default 4).
    #[arg(long)]
    pub member_concurrency: Option<u32>,
    /// The share of each Okta rate-limit bucket a sync may use, in percent (1-100,
    /// default 50), so that other Okta integrations keep the rest.
    #[arg(long)]
    pub rate_limit_percent: Option<u32>,
    /// Days between deep reconciles: full syncs that re-read every group's member list
    /// (1-90, default 7).
    #[arg(long)]
    pub deep_reconcile_days: Option<u32>,
    /// Sync only the users and groups assigned to this Okta application (its id, `0oa…`;
    /// users assigned through a group count). An empty value removes the scope.
    #[arg(long)]
    pub app_scope: Option<String>,
    /// What happens to users Okta no longer returns (or out of scope): disable,
    /// delete, anonymize (a pseudonym replaces username, email and display name; undone
    /// if they return) or keep.
    #[arg(long, value_parser = missing_users)]
    pub missing_users: Option<MissingUsers>,
    /// Inactivity cleanup: deactivate users who have not logged in for this many days
    /// (1-3650) until their next login; 0 turns it off.
    #[arg(long)]
    pub inactivity_days: Option<u32>,
    /// With --inactivity-days: also users who never logged in (counted from their Okta
    /// account's creation or activation).
    #[arg(long, requires = "inactivity_days")]
    pub inactivity_never_logged_in: Option<bool>,
    /// With --inactivity-days: product groups whose members are never deactivated for
    /// inactivity (comma-separated, e.g. jira-administrators).
    #[arg(long, value_delimiter = ',', requires = "inactivity_days")]
    pub inactivity_exempt_groups: Option<Vec<String>>,
    /// Read settings from this JSON file: any connector settings in camelCase, as the
    /// REST API takes them, e.g. `{"users": {...}, "lifecycle": {"guardPercent": 20}}`
    /// (see README); the options above override it.
    #[arg(long)]
    pub settings: Option<PathBuf>,
}

/// A connector's kind of credential on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthKind {
    /// An SSWS API token.
    ApiToken,
    /// An OAuth 2.0 API service app.
    Oauth,
}

impl ConnectorArgs {
    /// The settings given: the `--settings` file, then the options over it, the
    /// credential's over `stored` (the connector's, or an API token for a new one). The
    /// token is read separately; the private key here.
    fn patch(&self, stored: &Credential) -> Result<ConnectorPatch, CliError> {
        let mut patch = match &self.settings {
            None => ConnectorPatch::default(),
            Some(path) => read_settings_file(path)?,
        };
        if let Some(c) = self.credential(patch.credential.as_ref().unwrap_or(stored))? {
            patch.credential = Some(c);
        }
        if let Some(f) = &self.private_key_file {
            let pem = std::fs::read_to_string(f).map_err(|e| {
                CliError::usage(format!(
                    "cannot read the private key file {}: {e}",
                    f.display()
                ))
            })?;
            patch.private_key = Some(TokenText(pem));
        }
        if self.generate_key {
            patch.generate_key = Some(true);
        }
        set(&mut patch.name, &self.name);
        set(&mut patch.okta_domain, &self.domain);
        set(&mut patch.custom_domain, &self.custom_domain);
        set(&mut patch.schedule, &self.schedule);
        set(&mut patch.schedule_time_zone, &self.schedule_time_zone);
        set(&mut patch.schedule_enabled, &self.schedule_enabled);
        set(
            &mut patch.include_built_in_groups,
            &self.include_built_in_groups,
        );
        set(&mut patch.user_attributes, &self.attributes);
        set(
            &mut patch.full_sync_interval_hours,
            &self.full_sync_interval_hours,
        );
        set(&mut patch.member_concurrency, &self.member_concurrency);
        set(&mut patch.rate_limit_percent, &self.rate_limit_percent);
        set(&mut patch.deep_reconcile_days, &self.deep_reconcile_days);
        let unknown = self.deny_unknown_at_login.map(|deny| {
            if deny {
                UnknownAtLogin::Deny
            } else {
                UnknownAtLogin::Keep
            }
        });
        set(&mut patch.unknown_at_login, &unknown);
        self.policies(&mut patch);
        Ok(patch)
    }

    /// The provisioning policies given: app scope, missing users, inactivity.
    fn policies(&self, patch: &mut ConnectorPatch) {
        if let Some(app) = &self.app_scope {
            patch.app_scope = Some(Some(app.clone()).filter(|a| !a.trim().is_empty()));
        }
        if self.missing_users.is_none() && self.inactivity_days.is_none() {
            return;
        }
        let lifecycle = patch.lifecycle.get_or_insert_with(Default::default);
        set(&mut lifecycle.missing_users, &self.missing_users);
        if let Some(days) = self.inactivity_days {
            lifecycle.inactivity = Some((days > 0).then(|| InactivityPolicy {
                days,
                include_never_logged_in: self.inactivity_never_logged_in.unwrap_or(false),
                exempt_groups: self.inactivity_exempt_groups.clone().unwrap_or_default(),
            }));
        }
    }
}

/// A `--missing-users` value, by its settings name.
fn missing_users(value: &str) -> Result<MissingUsers, String> {
    serde_json::from_value(serde_json::Value::String(value.trim().to_lowercase()))
        .map_err(|_| format!("`{value}` is not one of disable, delete, anonymize, keep"))
}

impl ConnectorArgs {
    /// The credential the options make of `base` (none: no credential option given).
    fn credential(&self, base: &Credential) -> Result<Option<Credential>, CliError> {
        let app_options = self.client_id.is_some()
            || self.key_id.is_some()
            || self.scopes.is_some()
            || self.dpop.is_some();
        let oauth = match (self.auth, base) {
            (Some(AuthKind::ApiToken), _) if app_options => {
                return Err(CliError::usage(
                    "--client-id, --key-id, --scopes and --dpop are for --auth oauth",
                ));
            }
            (Some(AuthKind::ApiToken), _) => return Ok(Some(Credential::ApiToken)),
            (None, _) if !app_options => return Ok(None),
            (None, Credential::ApiToken) => {
                return Err(CliError::usage(
                    "the connector authenticates with an API token: add --auth oauth to use a service app",
                ));
            }
            (Some(AuthKind::Oauth) | None, b) => b.clone(),
        };
        let (mut client_id, mut key_id, mut scopes, mut dpop) = match oauth {
            Credential::OauthServiceApp {
                client_id,
                key_id,
                scopes,
                dpop,
            } => (client_id, key_id, scopes, dpop),
            Credential::ApiToken => (String::new(), None, Vec::new(), true),
        };
        set_from(&mut client_id, &self.client_id);
        if self.key_id.is_some() {
            key_id.clone_from(&self.key_id);
        }
        set_from(&mut scopes, &self.scopes);
        set_from(&mut dpop, &self.dpop);
        Ok(Some(Credential::OauthServiceApp {
            client_id,
            key_id,
            scopes,
            dpop,
        }))
    }
}

fn set_from<T: Clone>(to: &mut T, given: &Option<T>) {
    if let Some(v) = given {
        to.clone_from(v);
    }
}

/// An option given on the command line overrides the settings file's.
fn set<T: Clone>(to: &mut Option<T>, given: &Option<T>) {
    if given.is_some() {
        to.clone_from(given);
    }
}

/// A `--settings` file: a connector patch, refused naming the bad field.
fn read_settings_file(path: &std::path::Path) -> Result<ConnectorPatch, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::usage(format!(
            "cannot read the settings file {}: {e}",
            path.display()
        ))
    })?;
    let patch: ConnectorPatch = serde_path_to_error::deserialize(
        &mut serde_json::Deserializer::from_str(&text),
    )
    .map_err(|e| {
        CliError::usage(format!(
            "the settings file {} is not valid: {}",
            path.display(),
            crate::model::shorten_quotes(&format!("{}: {}", e.path(), e.inner()))
        ))
    })?;
    if patch.api_token.is_some() {
        return Err(CliError::usage(format!(
            "the settings file {} holds an apiToken; give the token with --token-file or OKTA_CLIENT_TOKEN",
            path.display()
        )));
    }
    if patch.private_key.is_some() {
        return Err(CliError::usage(format!(
            "the settings file {} holds a privateKey; give the key with --private-key-file",
            path.display()
        )));
    }
    Ok(patch)
}

/// Removes the progress spinner when the command ends, whatever the outcome.
struct ClearOnDrop(indicatif::ProgressBar);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// A failure of the command line: a sentence and an exit code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    /// One sentence.
    pub message: String,
    /// Exit code.
    pub code: i32,
}

impl CliError {
    fn usage(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            code: 2,
        }
    }
}

/// The exit code of a failure of this kind: the CLI's one mapping.
pub fn exit_code(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::Invalid | ErrorKind::Conflict => 2,
        ErrorKind::NotFound => 3,
        ErrorKind::Busy => 4,
        ErrorKind::Guard | ErrorKind::Upstream | ErrorKind::Internal => 1,
    }
}

impl From<HarnessError> for CliError {
    fn from(e: HarnessError) -> Self {
        CliError {
            code: exit_code(e.kind()),
            message: e.to_string(),
        }
    }
}

/// Read the token: --token-file, then OKTA_CLIENT_TOKEN, then a hidden prompt.
fn read_token(file: &Option<PathBuf>) -> Result<String, CliError> {
    read_secret(file, "OKTA_CLIENT_TOKEN", "Okta API token", "--token-file")
}

/// Read a secret from `file`, else the variable `env`, else a hidden prompt of `what`:
/// never from the command line (shell history, `ps`).
fn read_secret(
    file: &Option<PathBuf>,
    env: &str,
    what: &str,
    flag: &str,
) -> Result<String, CliError> {
    if let Some(f) = file {
        return std::fs::read_to_string(f)
            .map(|t| t.trim().to_string())
            .map_err(|e| {
                CliError::usage(format!(
                    "cannot read the file {} ({what}): {e}",
                    f.display()
                ))
            });
    }
    if let Ok(t) = std::env::var(env) {
        return Ok(t);
    }
    rpassword::prompt_password(format!("{what}: ")).map_err(|_| {
        CliError::usage(format!(
            "no {what}: use {flag}, set {env}, or run in a terminal to be prompted"
        ))
    })
}

fn options(cli: &Cli) -> Result<Options, CliError> {
    let product: Profile = cli.product.parse().map_err(CliError::usage)?;
    let seats = cli
        .seats
        .as_deref()
        .map(crate::product::profile::parse_seats)
        .transpose()
        .and_then(|seats| product.check_seats(seats).map(|()| seats))
        .map_err(|e| CliError::usage(e.to_string()))?;
    let resolve =
        Resolve::parse(cli.resolve.iter().map(String::as_str)).map_err(CliError::usage)?;
    Ok(Options {
        product,
        seats,
        resolve,
        ..Options::default()
    })
}

/// `s` with every control character but the line break shown escaped (`\u{1b}`): names
/// and messages come from Okta, and an ESC or BEL in one must not drive the admin's
/// terminal. (JSON output escapes them already.)
fn terminal_safe(s: String) -> String {
    let unsafe_char = |c: char| c.is_control() && c != '\n';
    if !s.chars().any(unsafe_char) {
        return s;
    }
    s.chars()
        .map(|c| match c {
            c if unsafe_char(c) => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

fn emit(
    out: &mut dyn Write,
    json: bool,
    value: &impl serde::Serialize,
    text: impl FnOnce() -> String,
) -> Result<(), CliError> {
    let s = if json {
        serde_json::to_string_pretty(value).expect("serializes") + "\n"
    } else {
        terminal_safe(text())
    };
    out.write_all(s.as_bytes()).map_err(|e| CliError {
        message: format!("writing output: {e}"),
        code: 1,
    })
}

/// Run the command line; returns the exit code. Errors go to `err` as one sentence.
pub fn run(
    args: impl IntoIterator<Item = String>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            if e.use_stderr() {
                let _ = write!(err, "{e}");
            } else {
                let _ = write!(out, "{e}");
            }
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match execute(&cli, out) {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            e.code
        }
    }
}

fn execute(cli: &Cli, out: &mut dyn Write) -> Result<(), CliError> {
    let options = options(cli)?;
    #[cfg(feature = "demo")]
    if let Command::Demo(args) = &cli.command {
        return crate::surface::demo::run(args, &cli.db, options, out);
    }
    if let Command::HashPassword = &cli.command {
        return hash_password(out);
    }
    let mut options = options;
    let spinner = spinner(cli, &mut options);
    let h = Harness::open_with_key(&cli.db, key_source(cli)?, options)?;
    let _clear = spinner.map(ClearOnDrop);
    let json = cli.json;
    match &cli.command {
        Command::Connector(cmd) => connector(&h, cmd, json, out),
        Command::Sync {
            connector,
            dry_run,
            incremental,
            changes,
            force,
            deep_reconcile,
            ..
        } => {
            let req = SyncRequest {
                dry_run: *dry_run,
                incremental: *incremental,
                trigger: Trigger::Manual,
                force: *force,
                deep_reconcile: *deep_reconcile,
            };
            sync_command(&h, connector, req, *changes, json, out)
        }
        Command::SyncUser { connector, login } => {
            let r = h.sync_user(connector, login)?;
            emit(out, json, &r, || report::user_report(&r))
        }
        Command::Runs {
            action: Some(action),
            ..
        } => runs_action(&h, action, json, out),
        Command::Runs {
            connector, limit, ..
        } => {
            let runs = h.runs(connector.as_deref(), *limit)?;
            emit(out, json, &runs, || report::runs_table(&runs))
        }
        Command::Settings(cmd) => settings(&h, cmd, json, out),
        Command::Log { run } => log(&h, *run, json, out),
        Command::Sso(cmd) => sso::run(&h, cmd, json, out),
        Command::Serve {
            check_every,
            listen,
            admin_user,
            admin_password_file,
            tls_cert,
            tls_key,
            header_timeout,
            idle_timeout,
            max_connections,
            login_free_failures,
        } => serve(
            h,
            *check_every,
            listen,
            web_config(admin_user, admin_password_file, *login_free_failures)?,
            serve_options(
                tls_cert.as_deref().zip(tls_key.as_deref()),
                *header_timeout,
                *idle_timeout,
                *max_connections,
            )?,
            out,
        ),
        Command::Export {
            include_secrets,
            output,
        } => export(&h, *include_secrets, output.as_deref(), out),
        Command::Import { file } => import(&h, file, json, out),
        Command::Secrets(SecretsCommand::RotateKey { new_key_file }) => {
            rotate_key(&h, new_key_file.as_deref(), json, out)
        }
        #[cfg(feature = "demo")]
        Command::Demo(_) => unreachable!("handled above"),
        Command::HashPassword => unreachable!("handled above"),
    }
}

/// `sync`: started and run apart, so that the run's changes are read only as far as
/// shown; a refusal by the guard says how to approve the plan.
fn sync_command(
    h: &Harness,
    connector: &str,
    req: SyncRequest,
    changes: usize,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let by = super::approvals::cli_actor();
    let started = h.start_sync_as(connector, req, Some(&by))?;
    let run = started.run_id();
    let o = started
        .run()
        .map_err(|e| super::approvals::with_approval_hint(e, run))?;
    sync(h, connector, &o, changes, json, out)
}

/// `settings show|set`: the console's settings (approvals, alerts).
fn settings(
    h: &Harness,
    cmd: &super::approvals::SettingsCommand,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let s = match cmd {
        super::approvals::SettingsCommand::Show => h.console()?,
        super::approvals::SettingsCommand::Set { patch } => {
            super::approvals::set_settings(h, patch)?
        }
    };
    let text = serde_json::to_string_pretty(&s).expect("serializes") + "\n";
    emit(out, json, &s, || text)
}

/// `secrets rotate-key`: every stored credential re-encrypted under a new key.
fn rotate_key(
    h: &Harness,
    new_key_file: Option<&std::path::Path>,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let db = h.db();
    let r = crate::product::db::secrets::rotate(&mut db.lock(), db.key(), new_key_file)
        .map_err(HarnessError::from)?;
    emit(out, json, &r, || {
        format!(
            "Re-encrypted {} stored credentials with the new key {} in {}.\n",
            r.reencrypted,
            r.key_id,
            r.key_file.display()
        )
    })
}

/// The admin page's and REST API's credential and login throttle, from `serve`'s options.
fn web_config(
    admin_user: &str,
    admin_password_file: &Option<PathBuf>,
    login_free_failures: u32,
) -> Result<crate::surface::web::WebConfig, CliError> {
    Ok(crate::surface::web::WebConfig {
        admin_user: admin_user.to_string(),
        admin_password: admin_password(admin_password_file)?,
        throttle: crate::surface::web::auth::Limits::with_free_failures(login_free_failures),
    })
}

/// `hash-password`: the argon2id hash of the password on standard input (its first
/// line), or typed at a prompt on a terminal; at least 12 characters.
fn hash_password(out: &mut dyn Write) -> Result<(), CliError> {
    let stdin = std::io::stdin();
    let typed = if std::io::IsTerminal::is_terminal(&stdin) {
        rpassword::prompt_password("Admin password: ")
    } else {
        let mut line = String::new();
        stdin.read_line(&mut line).map(|_| line)
    };
    let typed = typed.map_err(|e| CliError::usage(format!("cannot read the password: {e}")))?;
    let hash = Password::hash(typed.trim_end_matches(['\r', '\n']))
        .map_err(|e| CliError::usage(e.to_string()))?;
    emit(out, false, &hash, || format!("{hash}\n"))
}

/// Where the key of the stored credentials is: --secret-key-file, else
/// USERSYNC_SECRET_KEY, else the key file beside the database.
fn key_source(cli: &Cli) -> Result<KeySource, CliError> {
    match &cli.secret_key_file {
        Some(_) if std::env::var_os(crate::product::db::key::ENV).is_some() => {
            Err(CliError::usage(
                "both --secret-key-file (or USERSYNC_SECRET_KEY_FILE) and USERSYNC_SECRET_KEY give the secret key; use one",
            ))
        }
        Some(file) => Ok(KeySource::File(file.clone())),
        None => Ok(KeySource::for_database(&cli.db)),
    }
}

/// Long syncs show what they are doing on a terminal (a spinner fed by the plugin's log
/// lines); piped output and `--json` stay quiet.
fn spinner(cli: &Cli, options: &mut Options) -> Option<indicatif::ProgressBar> {
    let wanted = matches!(cli.command, Command::Sync { .. } | Command::SyncUser { .. })
        && !cli.json
        && std::io::IsTerminal::is_terminal(&std::io::stderr());
    wanted.then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        let shown = bar.clone();
        options.progress = Some(crate::host::Progress(std::sync::Arc::new(
            move |line: &str| shown.set_message(line.to_string()),
        )));
        bar
    })
}

/// A sync's outcome: its report with its first `max_changes` changes, or as JSON with
/// every change (read and written a stored chunk at a time).
fn sync(
    h: &Harness,
    connector: &str,
    o: &crate::harness::SyncOutcome,
    max_changes: usize,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let written = |e: std::io::Error| CliError {
        message: format!("writing run #{}: {e}", o.run_id),
        code: 1,
    };
    if json {
        let doc = serde_json::to_value(o).expect("an outcome serializes");
        let mut out = std::io::BufWriter::new(out);
        let changes = h.run_change_chunks(o.run_id);
        return report::write_json_with_changes(&mut out, &doc, &["report", "changes"], changes)
            .and_then(|()| writeln!(out))
            .and_then(|()| out.flush())
            .map_err(written);
    }
    let shown = h.run_changes(o.run_id, ChangeQuery::first(max_changes))?;
    let text = report::sync_report_with(connector, o.run_id, &o.report, &shown);
    out.write_all(terminal_safe(text).as_bytes())
        .map_err(written)
}

/// `usersync runs pending|approve|reject`.
fn runs_action(
    h: &Harness,
    action: &super::approvals::RunsCommand,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    use super::approvals::{self as a, RunsCommand};
    match action {
        RunsCommand::Pending { connector, all } => {
            let plans = a::pending(h, connector.as_deref(), *all)?;
            emit(out, json, &plans, || a::plans_table(&plans))
        }
        RunsCommand::Approve { run, changes } => {
            let o = a::approve(h, *run)?;
            let connector = h.run(o.run_id)?.0.connector;
            sync(h, &connector, &o, *changes, json, out)
        }
        RunsCommand::Reject { run } => {
            let p = a::reject(h, *run)?;
            emit(out, json, &p, || a::decided(&p))
        }
    }
}

/// `usersync log RUN`: the run, its report, its changes and its log lines. The changes
/// are read and written a stored chunk at a time: a run of a million changes is never
/// in memory at once.
fn log(h: &Harness, run: i64, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let (r, log) = h.run(run)?;
    let changes = h.run_change_chunks(run);
    let written = |e: std::io::Error| CliError {
        message: format!("writing run #{run}: {e}"),
        code: 1,
    };
    let mut out = std::io::BufWriter::new(out);
    if json {
        let doc = serde_json::json!({"run": r, "log": log});
        let at = ["run", "report", "changes"];
        report::write_json_with_changes(&mut out, &doc, &at, changes)
            .and_then(|()| writeln!(out))
            .and_then(|()| out.flush())
            .map_err(written)?;
        return Ok(());
    }
    let mut head = report::runs_table(std::slice::from_ref(&r));
    if let Some(rep) = &r.report {
        head.push_str(&report::sync_report_with(
            &r.connector,
            r.id,
            rep,
            &ChangePage::default(),
        ));
    }
    out.write_all(terminal_safe(head).as_bytes())
        .map_err(written)?;
    for (i, chunk) in changes.enumerate() {
        let mut lines = String::from(if i == 0 { "  Changes:\n" } else { "" });
        for e in &chunk.map_err(HarnessError::from)? {
            lines.push_str(&format!("    {}\n", report::change_line(e)));
        }
        out.write_all(terminal_safe(lines).as_bytes())
            .map_err(written)?;
    }
    let mut tail = String::new();
    for l in &log {
        tail.push_str(&format!(
            "{}  {:<5} {}\n",
            report::time(l.at),
            l.level,
            l.message
        ));
    }
    out.write_all(terminal_safe(tail).as_bytes())
        .and_then(|()| out.flush())
        .map_err(written)
}

/// `usersync serve`: the REST API and admin page, and the scheduler, until stopped.
fn serve(
    h: Harness,
    check_every: u64,
    listen: &str,
    config: crate::surface::web::WebConfig,
    options: crate::surface::web::ServeOptions,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let server = crate::surface::web::WebServer::start_with(h.clone(), config, listen, options)
        .map_err(|e| CliError {
            message: format!("cannot serve on {listen}: {e}"),
            code: 1,
        })?;
    // Only one `serve` of a database fires its schedules (the scheduler lease).
    let scheduler = match h.hold_scheduler() {
        Ok(()) => format!(
            "scheduler running for {} connectors (schedules in UTC)",
            h.connectors()?.len()
        ),
        Err(e) => format!("scheduler standing by: {e}"),
    };
    let _ = writeln!(
        out,
        "usersync: {} admin page at {url}{}, REST API at {url}{}/; {scheduler}; stop with Ctrl-C",
        h.product().name,
        h.product().admin_path,
        crate::surface::web::REST_BASE,
        url = server.url(),
    );
    if let Some(s) = h.seats()? {
        let _ = write!(out, "{}", report::seats(&s));
    }
    let _ = out.flush();
    let period = std::time::Duration::from_secs((check_every).max(1));
    let scheduler = crate::surface::scheduler::Scheduler::new(h);
    std::thread::spawn(move || {
        let stop = std::sync::atomic::AtomicBool::new(false);
        scheduler.run(period, &stop);
    });
    server.wait();
    Ok(())
}

/// How `serve` listens: its connection limits and TLS (a certificate and its key, read
/// and checked before it listens).
fn serve_options(
    tls: Option<(&std::path::Path, &std::path::Path)>,
    header_timeout: u64,
    idle_timeout: u64,
    max_connections: Option<usize>,
) -> Result<crate::surface::web::ServeOptions, CliError> {
    let limits = crate::surface::web::Limits::new(
        std::time::Duration::from_secs(header_timeout),
        std::time::Duration::from_secs(idle_timeout),
        max_connections,
    )
    .map_err(|e| CliError::usage(e.to_string()))?;
    let tls = tls
        .map(|(cert, key)| crate::surface::web::Tls::from_pem_files(cert, key))
        .transpose()
        .map_err(|e| CliError::usage(e.to_string()))?;
    Ok(crate::surface::web::ServeOptions { limits, tls })
}

/// The admin password of `serve`: --admin-password-file, else USERSYNC_ADMIN_PASSWORD.
/// Refused: none, one under 12 characters (unless it is an argon2 hash), and a file that
/// its group or others may access (it holds a credential).
fn admin_password(file: &Option<PathBuf>) -> Result<Password, CliError> {
    let (password, from) = match file {
        Some(f) => (read_password_file(f)?, f.display().to_string()),
        None => (
            std::env::var("USERSYNC_ADMIN_PASSWORD").unwrap_or_default(),
            "USERSYNC_ADMIN_PASSWORD".to_string(),
        ),
    };
    if password.is_empty() {
        return Err(CliError::usage(
            "serve needs an admin password: --admin-password-file FILE or USERSYNC_ADMIN_PASSWORD",
        ));
    }
    Password::new(&password).map_err(|e| CliError::usage(format!("{from}: {e}")))
}

/// The password file's text (without its final line end), if only its owner may access
/// the file.
fn read_password_file(f: &std::path::Path) -> Result<String, CliError> {
    let cannot = |e: std::io::Error| {
        CliError::usage(format!(
            "cannot read the password file {}: {e}",
            f.display()
        ))
    };
    let metadata = std::fs::metadata(f).map_err(cannot)?;
    if let Some(mode) = crate::product::db::key::exposed_mode(&metadata) {
        return Err(CliError::usage(format!(
            "the password file {} has mode {mode:04o}: its group or others may read it; make it the owner's alone (chmod 600 {0})",
            f.display()
        )));
    }
    let text = std::fs::read_to_string(f).map_err(cannot)?;
    Ok(text.trim_end_matches(['\r', '\n']).to_string())
}

fn export(
    h: &Harness,
    include_secrets: bool,
    output: Option<&std::path::Path>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let doc = crate::surface::transfer::export(h, include_secrets)?;
    let text = serde_json::to_string_pretty(&doc).expect("export serializes") + "\n";
    let failed = |e: std::io::Error| CliError {
        message: format!("writing the export: {e}"),
        code: 1,
    };
    match output {
        None => out.write_all(text.as_bytes()).map_err(failed),
        Some(path) => {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options
                .open(path)
                .and_then(|mut f| f.write_all(text.as_bytes()))
                .map_err(failed)
        }
    }
}

fn import(
    h: &Harness,
    file: &std::path::Path,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(file)
    }
    .map_err(|e| CliError::usage(format!("cannot read {}: {e}", file.display())))?;
    let refused = |e: crate::surface::transfer::ImportError| CliError {
        code: exit_code(e.kind()),
        message: format!("{e}; nothing was imported"),
    };
    let doc = crate::surface::transfer::parse(&text).map_err(refused)?;
    let summary = crate::surface::transfer::import(h, &doc).map_err(refused)?;
    emit(out, json, &summary, || {
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        format!(
            "Imported {} connectors: created {}; updated {}.\n",
            summary.created.len() + summary.updated.len(),
            list(&summary.created),
            list(&summary.updated)
        )
    })
}

fn connector(
    h: &Harness,
    cmd: &ConnectorCommand,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match cmd {
        ConnectorCommand::Create(args) => {
            let mut patch = args.patch(&Credential::ApiToken)?;
            if patch.name().is_none() {
                return Err(CliError::usage("a connector needs a name: --name NAME"));
            }
            match &patch.credential {
                Some(Credential::OauthServiceApp { .. }) => {
                    if patch.private_key.is_none() && patch.generate_key != Some(true) {
                        return Err(CliError::usage(
                            "a service app needs its private key: --private-key-file FILE, or --generate-key",
                        ));
                    }
                }
                _ => patch.api_token = Some(TokenText(read_token(&args.token_file)?)),
            }
            let v = h.create_connector(&patch)?;
            emit(out, json, &v, || {
                format!("Created.\n{}", report::connector(&v))
            })
        }
        ConnectorCommand::List => {
            let list = h.connectors()?;
            emit(out, json, &list, || {
                let mut s = format!(
                    "{:<20} {:<28} {:<10} {}\n",
                    "NAME", "OKTA DOMAIN", "SCHEDULE", "LAST RUN"
                );
                for v in &list {
                    let last = v
                        .last_run
                        .as_ref()
                        .map(|r| format!("#{} {} {}", r.id, r.status, report::time(r.started_at)))
                        .unwrap_or_else(|| "never".into());
                    let sched = if v.settings.schedule_enabled {
                        "enabled"
                    } else {
                        "off"
                    };
                    s.push_str(&format!(
                        "{:<20} {:<28} {:<10} {}\n",
                        v.settings.name, v.settings.okta_domain, sched, last
                    ));
                }
                s
            })
        }
        ConnectorCommand::Show { name } => {
            let v = h.connector(name)?;
            let seats = h.seats()?;
            emit(out, json, &v, || {
                report::connector(&v) + &seats.as_ref().map(report::seats).unwrap_or_default()
            })
        }
        ConnectorCommand::Edit {
            connector: name,
            args,

            new_token,
        } => {
            let stored = h.connector(name)?.settings.credential;
            let mut patch = args.patch(&stored)?;
            if *new_token || args.token_file.is_some() {
                patch.api_token = Some(TokenText(read_token(&args.token_file)?));
            }
            let v = h.update_connector(name, &patch)?;
            emit(out, json, &v, || {
                format!("Saved.\n{}", report::connector(&v))
            })
        }
        ConnectorCommand::Delete { name } => {
            h.delete_connector(name)?;
            emit(out, json, &serde_json::json!({"deleted": name}), || {
                format!("Deleted connector \"{name}\"; its directory and users were kept.\n")
            })
        }
        ConnectorCommand::Test { name } => {
            let info = h.test_connection(name)?;
            emit(out, json, &info, || {
                let rl = info
                    .rate_limit_remaining
                    .map(|r| format!(", {r} requests left in the users rate-limit window"))
                    .unwrap_or_default();
                format!(
                    "Connection to {} works: users and groups are readable{rl}.\n",
                    info.org_url
                )
            })
        }
    }
}
