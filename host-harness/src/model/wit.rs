//! The one place where the host's model meets the generated WIT types: settings to and
//! from `connector-config`, and the plugin's reports and errors into the host's. A WIT
//! change is absorbed here; the rest of the host sees only [`super`]'s types.

use super::error::{FieldError, OktaError, OktaErrorKind, StoreError, SyncError};
use super::report::{
    ChangeAction, ChangeEntry, ConnectionInfo, FieldChange, GroupPreview, GuardRefusal,
    MappingPreview, SyncCounts, SyncMode, SyncReport, UserPreview, UserSyncReport,
};
use super::settings::{
    AttributeMapping, ConnectorSettings, Credential, FieldMapping, GroupSettings, InactivityPolicy,
    LifecycleSettings, MigrateExisting, MissingUsers, NoMatch, UnknownAtLogin, UserSettings,
};
use crate::host::bindings::{report as wit_report, types, wit};

/// The defaults from the plugin's `default-config` (name and domain have none: empty),
/// with an API token as the credential.
pub fn defaults_from(defaults: wit::ConnectorConfig) -> ConnectorSettings {
    ConnectorSettings {
        name: String::new(),
        okta_domain: String::new(),
        ..settings_from(defaults, Credential::ApiToken)
    }
}

/// Settings as the plugin takes them.
pub fn config(s: &ConnectorSettings) -> wit::ConnectorConfig {
    wit::ConnectorConfig {
        name: s.name.clone(),
        okta_domain: s.okta_domain.clone(),
        custom_domain: s.custom_domain,
        schedule: s.schedule.clone(),
        schedule_time_zone: s.schedule_time_zone.clone(),
        schedule_enabled: s.schedule_enabled,
        include_built_in_groups: s.include_built_in_groups,
        user_attributes: s.user_attributes.clone(),
        full_sync_interval_hours: s.full_sync_interval_hours,
        deep_reconcile_days: s.deep_reconcile_days,
        unknown_at_login: match s.unknown_at_login {
            UnknownAtLogin::Keep => wit::UnknownAtLogin::Keep,
            UnknownAtLogin::Deny => wit::UnknownAtLogin::Deny,
        },
        member_concurrency: s.member_concurrency,
        rate_limit_percent: s.rate_limit_percent,
        change_feed: s.change_feed,
        app_scope: s.app_scope.clone(),
        users: users(&s.users),
        groups: groups(&s.groups),
        lifecycle: lifecycle(&s.lifecycle),
    }
}

fn mapping(m: &FieldMapping) -> wit::FieldMapping {
    wit::FieldMapping {
        template: m.template.clone(),
        pattern: m.pattern.clone(),
        replacement: m.replacement.clone(),
        on_no_match: match m.on_no_match {
            NoMatch::UseRaw => wit::NoMatch::UseRaw,
            NoMatch::Leave => wit::NoMatch::Leave,
            NoMatch::Clear => wit::NoMatch::Clear,
            NoMatch::SkipUser => wit::NoMatch::SkipUser,
        },
    }
}

fn mapping_from(m: wit::FieldMapping) -> FieldMapping {
    FieldMapping {
        template: m.template,
        pattern: m.pattern,
        replacement: m.replacement,
        on_no_match: match m.on_no_match {
            wit::NoMatch::UseRaw => NoMatch::UseRaw,
            wit::NoMatch::Leave => NoMatch::Leave,
            wit::NoMatch::Clear => NoMatch::Clear,
            wit::NoMatch::SkipUser => NoMatch::SkipUser,
        },
    }
}

fn users(u: &UserSettings) -> wit::UserSettings {
    wit::UserSettings {
        import_users: u.import_users,
        update_users: u.update_users,
        sync_status: u.sync_status,
        create_staged: u.create_staged,
        username: mapping(&u.username),
        lowercase_username: u.lowercase_username,
        display_name: mapping(&u.display_name),
        email: mapping(&u.email),
        attributes: u
            .attributes
            .iter()
            .map(|a| wit::AttributeMapping {
                name: a.name.clone(),
                mapping: mapping(&a.mapping),
            })
            .collect(),
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
            MissingUsers::Anonymize => wit::MissingUsers::Anonymize,
            MissingUsers::Keep => wit::MissingUsers::Keep,
        },
        remove_memberships_of_missing: l.remove_memberships_of_missing,
        guard_percent: l.guard_percent,
        guard_min_users: l.guard_min_users,
        inactivity: l.inactivity.as_ref().map(|i| wit::InactivityPolicy {
            days: i.days,
            include_never_logged_in: i.include_never_logged_in,
            exempt_groups: i.exempt_groups.clone(),
        }),
    }
}

/// Settings as the plugin normalized them, with the host's `credential` (which the
/// plugin never sees).
pub fn settings_from(c: wit::ConnectorConfig, credential: Credential) -> ConnectorSettings {
    let (u, g, l) = (c.users, c.groups, c.lifecycle);
    ConnectorSettings {
        name: c.name,
        okta_domain: c.okta_domain,
        custom_domain: c.custom_domain,
        schedule: c.schedule,
        schedule_time_zone: c.schedule_time_zone,
        schedule_enabled: c.schedule_enabled,
        include_built_in_groups: c.include_built_in_groups,
        user_attributes: c.user_attributes,
        full_sync_interval_hours: c.full_sync_interval_hours,
        deep_reconcile_days: c.deep_reconcile_days,
        unknown_at_login: match c.unknown_at_login {
            wit::UnknownAtLogin::Keep => UnknownAtLogin::Keep,
            wit::UnknownAtLogin::Deny => UnknownAtLogin::Deny,
        },
        member_concurrency: c.member_concurrency,
        rate_limit_percent: c.rate_limit_percent,
        change_feed: c.change_feed,
        app_scope: c.app_scope,
        credential,
        users: UserSettings {
            import_users: u.import_users,
            update_users: u.update_users,
            sync_status: u.sync_status,
            create_staged: u.create_staged,
            username: mapping_from(u.username),
            lowercase_username: u.lowercase_username,
            display_name: mapping_from(u.display_name),
            email: mapping_from(u.email),
            attributes: u
                .attributes
                .into_iter()
                .map(|a| AttributeMapping {
                    name: a.name,
                    mapping: mapping_from(a.mapping),
                })
                .collect(),
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
                wit::MissingUsers::Anonymize => MissingUsers::Anonymize,
                wit::MissingUsers::Keep => MissingUsers::Keep,
            },
            remove_memberships_of_missing: l.remove_memberships_of_missing,
            guard_percent: l.guard_percent,
            guard_min_users: l.guard_min_users,
            inactivity: l.inactivity.map(|i| InactivityPolicy {
                days: i.days,
                include_never_logged_in: i.include_never_logged_in,
                exempt_groups: i.exempt_groups,
            }),
        },
    }
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
            wit::SyncMode::Feed => SyncMode::Feed,
        }
    }
}

impl From<wit_report::ChangeAction> for ChangeAction {
    fn from(a: wit_report::ChangeAction) -> Self {
        use wit_report::ChangeAction as W;
        match a {
            W::CreateUser => ChangeAction::CreateUser,
            W::UpdateUser => ChangeAction::UpdateUser,
            W::ActivateUser => ChangeAction::ActivateUser,
            W::DeactivateUser => ChangeAction::DeactivateUser,
            W::DeleteUser => ChangeAction::DeleteUser,
            W::MigrateUser => ChangeAction::MigrateUser,
            W::AnonymizeUser => ChangeAction::AnonymizeUser,
            W::CreateGroup => ChangeAction::CreateGroup,
            W::UpdateGroup => ChangeAction::UpdateGroup,
            W::AddMembership => ChangeAction::AddMembership,
            W::RemoveMembership => ChangeAction::RemoveMembership,
        }
    }
}

impl From<wit_report::ChangeEntry> for ChangeEntry {
    fn from(e: wit_report::ChangeEntry) -> Self {
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

impl From<wit_report::SyncCounts> for SyncCounts {
    fn from(c: wit_report::SyncCounts) -> Self {
        SyncCounts {
            users_created: c.users_created,
            users_updated: c.users_updated,
            users_activated: c.users_activated,
            users_deactivated: c.users_deactivated,
            users_deleted: c.users_deleted,
            users_migrated: c.users_migrated,
            users_anonymized: c.users_anonymized,
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
            mode_reason: r.mode_reason,
            deep_reconcile: r.deep_reconcile,
            dry_run: r.dry_run,
            counts: r.counts.into(),
            // The run's changes come through `run.record-changes` (run_changes).
            changes: Vec::new(),
            plan_digest: r.plan_digest,
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
            refusal: r.refusal,
        }
    }
}

impl From<wit::ConnectionInfo> for ConnectionInfo {
    fn from(i: wit::ConnectionInfo) -> Self {
        ConnectionInfo {
            org_url: i.org_url,
            users_readable: i.users_readable,
            groups_readable: i.groups_readable,
            logs_readable: i.logs_readable,
            app_readable: i.app_readable,
            rate_limit_remaining: i.rate_limit_remaining,
        }
    }
}

impl From<wit::MappingPreview> for MappingPreview {
    fn from(p: wit::MappingPreview) -> Self {
        MappingPreview {
            users: p
                .users
                .into_iter()
                .map(|u| UserPreview {
                    okta_login: u.okta_login,
                    username: u.username,
                    display_name: u.display_name,
                    email: u.email,
                    note: u.note,
                })
                .collect(),
            groups: p
                .groups
                .into_iter()
                .map(|g| GroupPreview {
                    okta_name: g.okta_name,
                    name: g.name,
                    note: g.note,
                })
                .collect(),
        }
    }
}

impl From<wit::OktaErrorKind> for OktaErrorKind {
    fn from(k: wit::OktaErrorKind) -> Self {
        use wit::OktaErrorKind as W;
        match k {
            W::InvalidToken => OktaErrorKind::InvalidToken,
            W::Forbidden => OktaErrorKind::Forbidden,
            W::MissingScope => OktaErrorKind::MissingScope,
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
            wit::SyncError::Store(s) => SyncError::Store(s.into()),
            wit::SyncError::Security(s) => SyncError::Security(s),
            wit::SyncError::Guard(g) => SyncError::Guard(g.into()),
            wit::SyncError::PlanChanged(g) => SyncError::PlanChanged(g.into()),
        }
    }
}

impl From<wit::GuardRefusal> for GuardRefusal {
    fn from(g: wit::GuardRefusal) -> Self {
        GuardRefusal {
            would_remove: g.would_remove,
            active_users: g.active_users,
            percent: g.percent,
            min_users: g.min_users,
            plan_digest: g.plan_digest,
            counts: g.counts.into(),
        }
    }
}

impl From<types::StoreError> for StoreError {
    fn from(e: types::StoreError) -> Self {
        match e {
            types::StoreError::NotFound(m) => StoreError::NotFound(m),
            types::StoreError::Conflict(m) => StoreError::Conflict(m),
            types::StoreError::Invalid(m) => StoreError::Invalid(m),
            types::StoreError::Busy(m) => StoreError::Busy(m),
            types::StoreError::Failure(m) => StoreError::Failure(m),
        }
    }
}
