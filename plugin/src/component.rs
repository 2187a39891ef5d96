//! WIT glue: binds the plain modules to the world `connector-core`. No logic lives here,
//! only conversions between WIT records and the modules' types.

use crate::config::{self, ConnectorConfig, FieldError};
use crate::okta::{HttpResponse, Transport, TransportError};
use crate::report::{Action, Entry};
use crate::schedule;
use crate::seats;
use crate::settings;
use crate::store::{self, Change, Store, StoreError};
use crate::sync::{self, Host, Level};
use std::collections::BTreeMap;

wit_bindgen::generate!({ world: "connector-core", path: "../wit" });

use exports::usersync::okta::connector as wit;
use usersync::okta::{log, sync_state, types, user_store as ws};

struct Component;
export!(Component);

/// wasi:http through waki; the host decides where requests may go.
struct Waki;

impl Transport for Waki {
    fn get(
        &mut self,
        url: &str,
        headers: &[(&'static str, &str)],
    ) -> Result<HttpResponse, TransportError> {
        let resp = waki::Client::new()
            .get(url)
            .headers(headers.iter().map(|(k, v)| (*k, v.to_string())))
            .connect_timeout(std::time::Duration::from_secs(30))
            .send()
            .map_err(|e| TransportError(e.to_string()))?;
        let status = resp.status_code();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp
            .body()
            .map_err(|e| TransportError(format!("reading the response body failed: {e}")))?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }

    fn get_many(
        &mut self,
        urls: &[String],
        headers: &[(&'static str, &str)],
    ) -> Vec<Result<HttpResponse, TransportError>> {
        crate::wasi_http::get_many(urls, headers)
    }

    fn sleep(&mut self, duration: std::time::Duration) {
        crate::wasi_http::sleep(duration)
    }
}

/// The imported user store, sync-state and log.
struct Imports;

impl Host for Imports {
    fn log(&mut self, level: Level, message: &str) {
        let level = match level {
            Level::Debug => types::LogLevel::Debug,
            Level::Info => types::LogLevel::Info,
            Level::Warn => types::LogLevel::Warn,
            Level::Error => types::LogLevel::Error,
        };
        log::write(level, message);
    }
    fn state_get(&mut self, key: &str) -> Option<String> {
        sync_state::get(key)
    }
    fn state_set(&mut self, key: &str, value: &str) {
        sync_state::set(key, value)
    }
}

impl Store for Imports {
    fn snapshot(&mut self, directory: &str) -> Result<store::DirectorySnapshot, StoreError> {
        let s = ws::snapshot(directory).map_err(store_error)?;
        Ok(store::DirectorySnapshot {
            users: s.users.into_iter().map(user_in).collect(),
            groups: s.groups.into_iter().map(group_in).collect(),
            memberships: s
                .memberships
                .into_iter()
                .map(|m| store::Membership {
                    username: m.username,
                    group: m.group,
                })
                .collect(),
        })
    }
    fn find_by_okta_id(&mut self, okta_id: &str) -> Option<store::StoreUser> {
        ws::find_by_okta_id(okta_id).map(user_in)
    }
    fn find_by_email(&mut self, email: &str) -> Vec<store::StoreUser> {
        ws::find_by_email(email).into_iter().map(user_in).collect()
    }
    fn directories(&mut self) -> Vec<store::Directory> {
        ws::directories()
            .into_iter()
            .map(|d| store::Directory {
                id: d.id,
                kind: match d.kind {
                    ws::DirectoryKind::Internal => store::DirectoryKind::Internal,
                    ws::DirectoryKind::Okta => store::DirectoryKind::Okta,
                    ws::DirectoryKind::Ldap => store::DirectoryKind::Ldap,
                    ws::DirectoryKind::Other => store::DirectoryKind::Other,
                },
                position: d.position,
            })
            .collect()
    }
    fn find_by_username(&mut self, username: &str) -> Vec<store::StoreUser> {
        ws::find_by_username(username)
            .into_iter()
            .map(user_in)
            .collect()
    }
    fn user_memberships(&mut self, directory: &str, username: &str) -> Vec<String> {
        ws::user_memberships(directory, username)
    }
    fn find_groups(&mut self, directory: &str, names: &[String]) -> Vec<store::StoreGroup> {
        ws::find_groups(directory, names)
            .into_iter()
            .map(group_in)
            .collect()
    }
    fn apply(
        &mut self,
        directory: &str,
        changes: Vec<Change>,
        more: bool,
    ) -> Result<store::ApplyResult, StoreError> {
        let changes: Vec<ws::Change> = changes.into_iter().map(change_out).collect();
        let r = ws::apply(directory, &changes, more).map_err(store_error)?;
        Ok(store::ApplyResult {
            writes: r.writes,
            created: r.created,
        })
    }
}

fn attrs_in(a: Vec<types::Attribute>) -> BTreeMap<String, String> {
    a.into_iter().map(|a| (a.name, a.value)).collect()
}

fn attrs_out(a: BTreeMap<String, String>) -> Vec<types::Attribute> {
    a.into_iter()
        .map(|(name, value)| types::Attribute { name, value })
        .collect()
}

fn user_in(u: ws::User) -> store::StoreUser {
    store::StoreUser {
        key: u.key,
        directory: u.directory,
        username: u.username,
        display_name: u.display_name,
        email: u.email,
        active: u.active,
        okta_id: u.okta_id,
        attributes: attrs_in(u.attributes),
    }
}

fn group_in(g: ws::Group) -> store::StoreGroup {
    store::StoreGroup {
        name: g.name,
        description: g.description,
        okta_id: g.okta_id,
    }
}

fn group_out(g: store::StoreGroup) -> ws::Group {
    ws::Group {
        name: g.name,
        description: g.description,
        okta_id: g.okta_id,
    }
}

fn change_out(c: Change) -> ws::Change {
    match c {
        Change::CreateUser(n) => {
            let n = *n;
            ws::Change::CreateUser(ws::NewUser {
                username: n.username,
                display_name: n.display_name,
                email: n.email,
                active: n.active,
                okta_id: n.okta_id,
                attributes: attrs_out(n.attributes),
            })
        }
        Change::DeleteUser(key) => ws::Change::DeleteUser(key),
        Change::AdoptUser(key) => ws::Change::AdoptUser(key),
        Change::UpdateUser(u) => {
            let u = *u;
            ws::Change::UpdateUser(ws::UserUpdate {
                key: u.key,
                username: u.username,
                display_name: u.display_name,
                email: u.email,
                active: u.active,
                okta_id: u.okta_id,
                attributes: u.attributes.map(attrs_out),
            })
        }
        Change::CreateGroup(g) => ws::Change::CreateGroup(group_out(*g)),
        Change::UpdateGroup(g) => ws::Change::UpdateGroup(group_out(*g)),
        Change::AddMembership(m) => ws::Change::AddMembership(ws::Membership {
            username: m.username,
            group: m.group,
        }),
        Change::RemoveMembership(m) => ws::Change::RemoveMembership(ws::Membership {
            username: m.username,
            group: m.group,
        }),
    }
}

fn store_error(e: ws::StoreError) -> StoreError {
    match e {
        ws::StoreError::NotFound(s) => StoreError::NotFound(s),
        ws::StoreError::Conflict(s) => StoreError::Conflict(s),
        ws::StoreError::Invalid(s) => StoreError::Invalid(s),
        ws::StoreError::Busy(s) => StoreError::Busy(s),
        ws::StoreError::Failure(s) => StoreError::Failure(s),
    }
}

fn config_in(c: wit::ConnectorConfig) -> ConnectorConfig {
    ConnectorConfig {
        name: c.name,
        okta_domain: c.okta_domain,
        schedule: c.schedule,
        schedule_enabled: c.schedule_enabled,
        include_built_in_groups: c.include_built_in_groups,
        user_attributes: c.user_attributes,
        full_sync_interval_hours: c.full_sync_interval_hours,
        unknown_at_login: match c.unknown_at_login {
            wit::UnknownAtLogin::Keep => config::UnknownAtLogin::Keep,
            wit::UnknownAtLogin::Deny => config::UnknownAtLogin::Deny,
        },
        member_concurrency: c.member_concurrency,
        users: c.users.map(users_in).unwrap_or_default(),
        groups: c.groups.map(groups_in).unwrap_or_default(),
        lifecycle: c.lifecycle.map(lifecycle_in).unwrap_or_default(),
    }
}

fn users_in(u: wit::UserSettings) -> settings::UserSettings {
    settings::UserSettings {
        import_users: u.import_users,
        update_users: u.update_users,
        sync_status: u.sync_status,
        create_staged: u.create_staged,
        username_attribute: u.username_attribute,
        username_pattern: u.username_pattern,
        username_replacement: u.username_replacement,
        lowercase_username: u.lowercase_username,
        display_name: u.display_name,
        email_attribute: u.email_attribute,
        migrate: match u.migrate {
            wit::MigrateExisting::Off => settings::Migrate::Off,
            wit::MigrateExisting::ByUsername => settings::Migrate::ByUsername,
            wit::MigrateExisting::ByUsernameOrEmail => settings::Migrate::ByUsernameOrEmail,
        },
    }
}

fn users_out(u: settings::UserSettings) -> wit::UserSettings {
    wit::UserSettings {
        import_users: u.import_users,
        update_users: u.update_users,
        sync_status: u.sync_status,
        create_staged: u.create_staged,
        username_attribute: u.username_attribute,
        username_pattern: u.username_pattern,
        username_replacement: u.username_replacement,
        lowercase_username: u.lowercase_username,
        display_name: u.display_name,
        email_attribute: u.email_attribute,
        migrate: match u.migrate {
            settings::Migrate::Off => wit::MigrateExisting::Off,
            settings::Migrate::ByUsername => wit::MigrateExisting::ByUsername,
            settings::Migrate::ByUsernameOrEmail => wit::MigrateExisting::ByUsernameOrEmail,
        },
    }
}

fn groups_in(g: wit::GroupSettings) -> settings::GroupSettings {
    settings::GroupSettings {
        types: g.types,
        include: g.include_patterns,
        exclude: g.exclude_patterns,
        required: g.required,
        prefix: g.prefix,
        suffix: g.suffix,
        pattern: g.pattern,
        replacement: g.replacement,
        default_groups: g.default_groups,
    }
}

fn groups_out(g: settings::GroupSettings) -> wit::GroupSettings {
    wit::GroupSettings {
        types: g.types,
        include_patterns: g.include,
        exclude_patterns: g.exclude,
        required: g.required,
        prefix: g.prefix,
        suffix: g.suffix,
        pattern: g.pattern,
        replacement: g.replacement,
        default_groups: g.default_groups,
    }
}

fn lifecycle_in(l: wit::LifecycleSettings) -> settings::LifecycleSettings {
    settings::LifecycleSettings {
        missing_users: match l.missing_users {
            wit::MissingUsers::Disable => settings::MissingUsers::Disable,
            wit::MissingUsers::Delete => settings::MissingUsers::Delete,
            wit::MissingUsers::Keep => settings::MissingUsers::Keep,
        },
        remove_memberships_of_missing: l.remove_memberships_of_missing,
        guard_percent: l.guard_percent,
        guard_min_users: l.guard_min_users,
    }
}

fn lifecycle_out(l: settings::LifecycleSettings) -> wit::LifecycleSettings {
    wit::LifecycleSettings {
        missing_users: match l.missing_users {
            settings::MissingUsers::Disable => wit::MissingUsers::Disable,
            settings::MissingUsers::Delete => wit::MissingUsers::Delete,
            settings::MissingUsers::Keep => wit::MissingUsers::Keep,
        },
        remove_memberships_of_missing: l.remove_memberships_of_missing,
        guard_percent: l.guard_percent,
        guard_min_users: l.guard_min_users,
    }
}

fn config_out(c: ConnectorConfig) -> wit::ConnectorConfig {
    wit::ConnectorConfig {
        name: c.name,
        okta_domain: c.okta_domain,
        schedule: c.schedule,
        schedule_enabled: c.schedule_enabled,
        include_built_in_groups: c.include_built_in_groups,
        user_attributes: c.user_attributes,
        full_sync_interval_hours: c.full_sync_interval_hours,
        unknown_at_login: match c.unknown_at_login {
            config::UnknownAtLogin::Keep => wit::UnknownAtLogin::Keep,
            config::UnknownAtLogin::Deny => wit::UnknownAtLogin::Deny,
        },
        member_concurrency: c.member_concurrency,
        users: Some(users_out(c.users)),
        groups: Some(groups_out(c.groups)),
        lifecycle: Some(lifecycle_out(c.lifecycle)),
    }
}

fn field_error(e: FieldError) -> wit::FieldError {
    wit::FieldError {
        field: e.field,
        message: e.message,
    }
}

fn product_name(p: types::Product) -> &'static str {
    match p {
        types::Product::Jira => "jira",
        types::Product::Confluence => "confluence",
        types::Product::Bitbucket => "bitbucket",
        types::Product::Bamboo => "bamboo",
    }
}

fn context(h: &types::HostContext) -> sync::Context {
    sync::Context {
        directory: h.directory.clone(),
        now: h.now,
        product: product_name(h.product).to_string(),
        licensing: h.licensing.as_ref().map(|l| seats::Licensing {
            seat_limit: l.seat_limit,
            access_groups: l.access_groups.clone(),
            seats_used: l.seats_used,
        }),
    }
}

fn sync_error(e: sync::SyncError) -> wit::SyncError {
    use crate::okta::OktaErrorKind as K;
    match e {
        sync::SyncError::InvalidConfig(es) => {
            wit::SyncError::InvalidConfig(es.into_iter().map(field_error).collect())
        }
        sync::SyncError::Store(e) => wit::SyncError::Store(e.to_string()),
        sync::SyncError::Security(s) => wit::SyncError::Security(s),
        sync::SyncError::Guard(g) => wit::SyncError::Guard(wit::GuardRefusal {
            would_remove: g.would_remove,
            active_users: g.active_users,
            percent: g.percent,
            min_users: g.min_users,
        }),
        sync::SyncError::Okta(e) => wit::SyncError::Okta(wit::OktaError {
            kind: match e.kind {
                K::InvalidToken => wit::OktaErrorKind::InvalidToken,
                K::Forbidden => wit::OktaErrorKind::Forbidden,
                K::NotFound => wit::OktaErrorKind::NotFound,
                K::RateLimited => wit::OktaErrorKind::RateLimited,
                K::BadRequest => wit::OktaErrorKind::BadRequest,
                K::ServerError => wit::OktaErrorKind::ServerError,
                K::BadResponse => wit::OktaErrorKind::BadResponse,
                K::Transport | K::ForeignOrigin => wit::OktaErrorKind::Transport,
            },
            status: e.status,
            error_code: e.error_code,
            summary: e.summary,
            path: e.path,
        }),
    }
}

fn entry_out(e: Entry) -> wit::ChangeEntry {
    wit::ChangeEntry {
        action: match e.action {
            Action::CreateUser => wit::ChangeAction::CreateUser,
            Action::UpdateUser => wit::ChangeAction::UpdateUser,
            Action::ActivateUser => wit::ChangeAction::ActivateUser,
            Action::DeactivateUser => wit::ChangeAction::DeactivateUser,
            Action::DeleteUser => wit::ChangeAction::DeleteUser,
            Action::MigrateUser => wit::ChangeAction::MigrateUser,
            Action::CreateGroup => wit::ChangeAction::CreateGroup,
            Action::UpdateGroup => wit::ChangeAction::UpdateGroup,
            Action::AddMembership => wit::ChangeAction::AddMembership,
            Action::RemoveMembership => wit::ChangeAction::RemoveMembership,
        },
        target: e.target,
        group: e.group,
        fields: e
            .fields
            .into_iter()
            .map(|f| wit::FieldChange {
                field: f.field,
                old: f.old,
                new: f.new,
            })
            .collect(),
    }
}

fn mode_out(m: sync::Mode) -> wit::SyncMode {
    match m {
        sync::Mode::Full => wit::SyncMode::Full,
        sync::Mode::Incremental => wit::SyncMode::Incremental,
    }
}

impl wit::Guest for Component {
    fn connector_configure(
        config: wit::ConnectorConfig,
        host: types::HostContext,
    ) -> Result<wit::Configured, Vec<wit::FieldError>> {
        let config = config::configure(&config_in(config))
            .map_err(|es| es.into_iter().map(field_error).collect::<Vec<_>>())?;
        let next_runs = schedule::next_runs(&config.schedule, host.now, 5).unwrap_or_default();
        Ok(wit::Configured {
            config: config_out(config),
            next_runs,
        })
    }

    fn test_connection(
        config: wit::ConnectorConfig,
        _host: types::HostContext,
    ) -> Result<wit::ConnectionInfo, wit::SyncError> {
        let config = config::configure(&config_in(config))
            .map_err(|es| sync_error(sync::SyncError::InvalidConfig(es)))?;
        let mut client = crate::okta::OktaClient::new(Waki, &config.okta_domain);
        let origin = client.origin().to_string();
        client
            .get_json(&format!("{origin}/api/v1/users?limit=1"))
            .map_err(|e| sync_error(e.into()))?;
        let remaining = client
            .remaining("users")
            .map(|r| r.min(u32::MAX as u64) as u32);
        client
            .get_json(&format!("{origin}/api/v1/groups?limit=1"))
            .map_err(|e| sync_error(e.into()))?;
        Ok(wit::ConnectionInfo {
            org_url: origin,
            users_readable: true,
            groups_readable: true,
            rate_limit_remaining: remaining,
        })
    }

    fn sync(
        config: wit::ConnectorConfig,
        host: types::HostContext,
        options: wit::SyncOptions,
    ) -> Result<wit::SyncReport, wit::SyncError> {
        #[cfg(feature = "test-faults")]
        if let Some(result) = crate::faults::trigger(&config.name, &mut Waki) {
            return Err(wit::SyncError::Security(format!("test fault: {result:?}")));
        }
        let opts = sync::Options {
            mode: match options.mode {
                wit::SyncMode::Full => sync::Mode::Full,
                wit::SyncMode::Incremental => sync::Mode::Incremental,
            },
            dry_run: options.dry_run,
            force: options.force,
        };
        let r = sync::sync(
            &config_in(config),
            &context(&host),
            opts,
            Waki,
            &mut Imports,
            &mut Imports,
        )
        .map_err(sync_error)?;
        let c = r.counts;
        Ok(wit::SyncReport {
            mode: mode_out(r.mode),
            dry_run: r.dry_run,
            counts: wit::SyncCounts {
                users_created: c.users_created,
                users_updated: c.users_updated,
                users_activated: c.users_activated,
                users_deactivated: c.users_deactivated,
                users_deleted: c.users_deleted,
                users_migrated: c.users_migrated,
                groups_created: c.groups_created,
                groups_updated: c.groups_updated,
                memberships_added: c.memberships_added,
                memberships_removed: c.memberships_removed,
            },
            changes: r.entries.into_iter().map(entry_out).collect(),
            okta_users: r.okta_users,
            okta_groups: r.okta_groups,
            requests: r.requests,
            writes: r.writes,
            fetch_ms: r.fetch_ms,
            plan_ms: r.plan_ms,
            apply_ms: r.apply_ms,
            warnings: r.warnings,
            retries: r.retries,
            rate_limited: r.rate_limited,
            scoped_token: r.scoped_token,
            seats_denied: r.seats_denied,
        })
    }

    fn sync_user(
        config: wit::ConnectorConfig,
        host: types::HostContext,
        login: String,
    ) -> Result<wit::UserSyncReport, wit::SyncError> {
        let r = sync::sync_user(
            &config_in(config),
            &context(&host),
            &login,
            Waki,
            &mut Imports,
            &mut Imports,
        )
        .map_err(sync_error)?;
        Ok(wit::UserSyncReport {
            login: r.login,
            found: r.found,
            username: r.username,
            active: r.active,
            changes: r.entries.into_iter().map(entry_out).collect(),
            requests: r.requests,
            seat_denied: r.seat_denied,
        })
    }

    fn next_runs(schedule: String, after: i64, count: u32) -> Result<Vec<i64>, wit::FieldError> {
        schedule::next_runs(&schedule, after, count.min(1000) as usize).map_err(|e| {
            wit::FieldError {
                field: "schedule".into(),
                message: e.0,
            }
        })
    }
}
