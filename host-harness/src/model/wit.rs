//! The one place where the host's model meets the generated WIT types: settings to and
//! from `connector-config`, and the plugin's reports and errors into the host's. A WIT
//! change is absorbed here; the rest of the host sees only [`super`]'s types.

use super::error::{FieldError, OktaError, OktaErrorKind, SyncError};
use super::report::{
    ChangeAction, ChangeEntry, ConnectionInfo, FieldChange, GuardRefusal, SyncCounts, SyncMode,
    SyncReport, UserSyncReport,
};
use super::settings::{
    ConnectorSettings, GroupSettings, LifecycleSettings, MigrateExisting, MissingUsers,
    UnknownAtLogin, UserSettings,
};
use crate::host::bindings::wit;

/// The request whose normalized form is every default: the plugin's `connector-configure`
/// fills each unset setting (0, empty, none) with its default. The name and the domain
/// have none; they are set to values that pass and cleared from the answer
/// ([`defaults_from`]). (WIT 0.2.0 has `default-config` for this.)
pub fn defaults_request() -> wit::ConnectorConfig {
    wit::ConnectorConfig {
        name: "defaults".into(),
        okta_domain: "defaults.okta.com".into(),
        schedule: String::new(),
        schedule_enabled: false,
        include_built_in_groups: false,
        user_attributes: Vec::new(),
        full_sync_interval_hours: 0,
        unknown_at_login: wit::UnknownAtLogin::Keep,
        member_concurrency: 0,
        users: None,
        groups: None,
        lifecycle: None,
    }
}

/// The defaults from the plugin's answer to [`defaults_request`].
pub fn defaults_from(
    normalized: wit::ConnectorConfig,
) -> Result<ConnectorSettings, MissingSection> {
    Ok(ConnectorSettings {
        name: String::new(),
        okta_domain: String::new(),
        ..settings_from(normalized)?
    })
}

/// The plugin returned settings without one of their sections (it always fills them).
#[derive(Debug, thiserror::Error)]
#[error("the sync plugin returned settings without `{0}`")]
pub struct MissingSection(pub &'static str);

/// Settings as the plugin takes them.
pub fn config(s: &ConnectorSettings) -> wit::ConnectorConfig {
    wit::ConnectorConfig {
        name: s.name.clone(),
        okta_domain: s.okta_domain.clone(),
        schedule: s.schedule.clone(),
        schedule_enabled: s.schedule_enabled,
        include_built_in_groups: s.include_built_in_groups,
        user_attributes: s.user_attributes.clone(),
        full_sync_interval_hours: s.full_sync_interval_hours,
        unknown_at_login: match s.unknown_at_login {
            UnknownAtLogin::Keep => wit::UnknownAtLogin::Keep,
            UnknownAtLogin::Deny => wit::UnknownAtLogin::Deny,
        },
        member_concurrency: s.member_concurrency,
        users: Some(users(&s.users)),
        groups: Some(groups(&s.groups)),
        lifecycle: Some(lifecycle(&s.lifecycle)),
    }
}

fn users(u: &UserSettings) -> wit::UserSettings {
    wit::UserSettings {
        import_users: u.import_users,
        update_users: u.update_users,
        sync_status: u.sync_status,
        create_staged: u.create_staged,
        username_attribute: u.username_attribute.clone(),
        username_pattern: u.username_pattern.clone(),
        username_replacement: u.username_replacement.clone(),
        lowercase_username: u.lowercase_username,
        display_name: u.display_name.clone(),
        email_attribute: u.email_attribute.clone(),
        migrate: match u.migrate {
            MigrateExisting::Off => wit::MigrateExisting::Off,
            MigrateExisting::ByUsername => wit::MigrateExisting::ByUsername,
            MigrateExisting::ByUsernameOrEmail => wit::MigrateExisting::ByUsernameOrEmail,
        },
    }
}

fn groups(g: &GroupSettings) -> wit::GroupSettings {
    wit::GroupSettings {
        types: g.types.clone(),
        include_patterns: g.include_patterns.clone(),
        exclude_patterns: g.exclude_patterns.clone(),
        required: g.required.clone(),
        prefix: g.prefix.clone(),
        suffix: g.suffix.clone(),
        pattern: g.pattern.clone(),
        replacement: g.replacement.clone(),
        default_groups: g.default_groups.clone(),
    }
}

fn lifecycle(l: &LifecycleSettings) -> wit::LifecycleSettings {
    wit::LifecycleSettings {
        missing_users: match l.missing_users {
            MissingUsers::Disable => wit::MissingUsers::Disable,
            MissingUsers::Delete => wit::MissingUsers::Delete,
            MissingUsers::Keep => wit::MissingUsers::Keep,
        },
        remove_memberships_of_missing: l.remove_memberships_of_missing,
        guard_percent: l.guard_percent,
        guard_min_users: l.guard_min_users,
    }
}

/// Settings as the plugin normalized them.
pub fn settings_from(c: wit::ConnectorConfig) -> Result<ConnectorSettings, MissingSection> {
    let u = c.users.ok_or(MissingSection("users"))?;
    let g = c.groups.ok_or(MissingSection("groups"))?;
    let l = c.lifecycle.ok_or(MissingSection("lifecycle"))?;
    Ok(ConnectorSettings {
        name: c.name,
        okta_domain: c.okta_domain,
        schedule: c.schedule,
        schedule_enabled: c.schedule_enabled,
        include_built_in_groups: c.include_built_in_groups,
        user_attributes: c.user_attributes,
        full_sync_interval_hours: c.full_sync_interval_hours,
        unknown_at_login: match c.unknown_at_login {
            wit::UnknownAtLogin::Keep => UnknownAtLogin::Keep,
            wit::UnknownAtLogin::Deny => UnknownAtLogin::Deny,
        },
        member_concurrency: c.member_concurrency,
        users: UserSettings {
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
                wit::MigrateExisting::Off => MigrateExisting::Off,
                wit::MigrateExisting::ByUsername => MigrateExisting::ByUsername,
                wit::MigrateExisting::ByUsernameOrEmail => MigrateExisting::ByUsernameOrEmail,
            },
        },
        groups: GroupSettings {
            types: g.types,
            include_patterns: g.include_patterns,
            exclude_patterns: g.exclude_patterns,
            required: g.required,
            prefix: g.prefix,
            suffix: g.suffix,
            pattern: g.pattern,
            replacement: g.replacement,
            default_groups: g.default_groups,
        },
        lifecycle: LifecycleSettings {
            missing_users: match l.missing_users {
                wit::MissingUsers::Disable => MissingUsers::Disable,
                wit::MissingUsers::Delete => MissingUsers::Delete,
                wit::MissingUsers::Keep => MissingUsers::Keep,
            },
            remove_memberships_of_missing: l.remove_memberships_of_missing,
            guard_percent: l.guard_percent,
            guard_min_users: l.guard_min_users,
        },
    })
}

impl From<wit::FieldError> for FieldError {
    fn from(e: wit::FieldError) -> Self {
        FieldError {
            field: e.field,
            message: e.message,
        }
    }
}

/// The plugin's field errors.
pub fn field_errors(es: Vec<wit::FieldError>) -> Vec<FieldError> {
    es.into_iter().map(FieldError::from).collect()
}

impl From<wit::SyncMode> for SyncMode {
    fn from(m: wit::SyncMode) -> Self {
        match m {
            wit::SyncMode::Full => SyncMode::Full,
            wit::SyncMode::Incremental => SyncMode::Incremental,
        }
    }
}

impl From<wit::ChangeAction> for ChangeAction {
    fn from(a: wit::ChangeAction) -> Self {
        use wit::ChangeAction as W;
        match a {
            W::CreateUser => ChangeAction::CreateUser,
            W::UpdateUser => ChangeAction::UpdateUser,
            W::ActivateUser => ChangeAction::ActivateUser,
            W::DeactivateUser => ChangeAction::DeactivateUser,
            W::DeleteUser => ChangeAction::DeleteUser,
            W::MigrateUser => ChangeAction::MigrateUser,
            W::CreateGroup => ChangeAction::CreateGroup,
            W::UpdateGroup => ChangeAction::UpdateGroup,
            W::AddMembership => ChangeAction::AddMembership,
            W::RemoveMembership => ChangeAction::RemoveMembership,
        }
    }
}

impl From<wit::ChangeEntry> for ChangeEntry {
    fn from(e: wit::ChangeEntry) -> Self {
        ChangeEntry {
            action: e.action.into(),
            target: e.target,
            group: e.group,
            fields: e
                .fields
                .into_iter()
                .map(|f| FieldChange {
                    field: f.field,
                    old: f.old,
                    new: f.new,
                })
                .collect(),
        }
    }
}

impl From<wit::SyncCounts> for SyncCounts {
    fn from(c: wit::SyncCounts) -> Self {
        SyncCounts {
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
        }
    }
}

impl From<wit::SyncReport> for SyncReport {
    fn from(r: wit::SyncReport) -> Self {
        SyncReport {
            mode: r.mode.into(),
            dry_run: r.dry_run,
            counts: r.counts.into(),
            changes: r.changes.into_iter().map(ChangeEntry::from).collect(),
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
        }
    }
}

impl From<wit::UserSyncReport> for UserSyncReport {
    fn from(r: wit::UserSyncReport) -> Self {
        UserSyncReport {
            login: r.login,
            found: r.found,
            username: r.username,
            active: r.active,
            changes: r.changes.into_iter().map(ChangeEntry::from).collect(),
            requests: r.requests,
            seat_denied: r.seat_denied,
        }
    }
}

impl From<wit::ConnectionInfo> for ConnectionInfo {
    fn from(i: wit::ConnectionInfo) -> Self {
        ConnectionInfo {
            org_url: i.org_url,
            users_readable: i.users_readable,
            groups_readable: i.groups_readable,
            rate_limit_remaining: i.rate_limit_remaining,
        }
    }
}

impl From<wit::OktaErrorKind> for OktaErrorKind {
    fn from(k: wit::OktaErrorKind) -> Self {
        use wit::OktaErrorKind as W;
        match k {
            W::InvalidToken => OktaErrorKind::InvalidToken,
            W::Forbidden => OktaErrorKind::Forbidden,
            W::NotFound => OktaErrorKind::NotFound,
            W::RateLimited => OktaErrorKind::RateLimited,
            W::BadRequest => OktaErrorKind::BadRequest,
            W::ServerError => OktaErrorKind::ServerError,
            W::BadResponse => OktaErrorKind::BadResponse,
            W::Transport => OktaErrorKind::Transport,
        }
    }
}

impl From<wit::SyncError> for SyncError {
    fn from(e: wit::SyncError) -> Self {
        match e {
            wit::SyncError::InvalidConfig(es) => SyncError::InvalidConfig(field_errors(es)),
            wit::SyncError::Okta(o) => SyncError::Okta(OktaError {
                kind: o.kind.into(),
                status: o.status,
                error_code: o.error_code,
                summary: o.summary,
                path: o.path,
            }),
            wit::SyncError::Store(s) => SyncError::Store(s),
            wit::SyncError::Security(s) => SyncError::Security(s),
            wit::SyncError::Guard(g) => SyncError::Guard(GuardRefusal {
                would_remove: g.would_remove,
                active_users: g.active_users,
                percent: g.percent,
                min_users: g.min_users,
            }),
        }
    }
}
