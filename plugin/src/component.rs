//! WIT glue: binds the plain modules to the world `connector-core`. No logic lives here,
//! only one conversion per type between the WIT records and the modules' types.

use crate::config::{self, ConnectorConfig, FieldError};
use crate::host::{Host, Level};
use crate::okta::{HttpResponse, OktaErrorKind, Transport, TransportError};
use crate::report::{Action, Counts, Entry};
use crate::settings;
use crate::state::{ConnectorState, GroupMark};
use crate::store::{self, Change, Page, Store, StoreError};
use crate::sync::{self, GuardRefusal, Mode, SyncError, UserRef};
use crate::{schedule, seats};
use std::collections::BTreeMap;

wit_bindgen::generate!({ world: "connector-core", path: "../wit" });

use exports::usersync::okta::connector as wit;
use usersync::okta::{report as wr, run, sync_state as wss, types, user_store as ws};

struct Component;
export!(Component);

/// `From` both ways between two enums with the same variants (unit variants, or
/// variants of one value each, written `Name(x)`).
macro_rules! mirror_enum {
    ($a:ty, $b:ty { $($v:ident($x:ident)),* $(,)? }) => {
        impl From<$a> for $b {
            fn from(e: $a) -> Self {
                type Source = $a;
                match e { $(Source::$v($x) => Self::$v($x.into())),* }
            }
        }
        impl From<$b> for $a {
            fn from(e: $b) -> Self {
                type Source = $b;
                match e { $(Source::$v($x) => Self::$v($x.into())),* }
            }
        }
    };
    ($a:ty, $b:ty { $($v:ident),* $(,)? }) => {
        impl From<$a> for $b {
            fn from(x: $a) -> Self {
                match x { $(<$a>::$v => <$b>::$v),* }
            }
        }
        impl From<$b> for $a {
            fn from(x: $b) -> Self {
                match x { $(<$b>::$v => <$a>::$v),* }
            }
        }
    };
}

/// `From` both ways between two records with the same fields: `plain` fields convert
/// with `into`, `lists` element by element, `options` inside the option.
macro_rules! mirror_record {
    ($a:ty, $b:ty { $($f:ident),* $(; lists: $($l:ident),*)? $(; options: $($o:ident),*)? }) => {
        mirror_record!(@one $a, $b { $($f),* $(; $($l),*)? $(;; $($o),*)? });
        mirror_record!(@one $b, $a { $($f),* $(; $($l),*)? $(;; $($o),*)? });
    };
    (@one $a:ty, $b:ty { $($f:ident),* $(; $($l:ident),*)? $(;; $($o:ident),*)? }) => {
        impl From<$a> for $b {
            fn from(x: $a) -> Self {
                Self {
                    $($f: x.$f.into(),)*
                    $($($l: x.$l.into_iter().map(Into::into).collect(),)*)?
                    $($($o: x.$o.map(Into::into),)*)?
                }
            }
        }
    };
}

mirror_enum!(wit::UnknownAtLogin, config::UnknownAtLogin { Keep, Deny });
mirror_enum!(
    wit::NoMatch,
    settings::NoMatch {
        UseRaw,
        Leave,
        Clear,
        SkipUser
    }
);
mirror_enum!(
    wit::MigrateExisting,
    settings::Migrate {
        Off,
        ByUsername,
        ByUsernameOrEmail
    }
);
mirror_enum!(
    wit::MissingUsers,
    settings::MissingUsers {
        Disable,
        Delete,
        Anonymize,
        Keep
    }
);
mirror_enum!(
    wr::SyncMode,
    Mode {
        Full,
        Incremental,
        Feed
    }
);

mirror_record!(
    wit::FieldMapping,
    settings::FieldMapping {
        template,
        pattern,
        replacement,
        on_no_match
    }
);
mirror_record!(
    wit::AttributeMapping,
    settings::AttributeMapping { name, mapping }
);
mirror_record!(wit::UserSettings, settings::UserSettings {
    import_users, update_users, sync_status, create_staged, username, lowercase_username,
    display_name, email, migrate; lists: attributes
});
mirror_record!(
    wit::GroupSettings,
    settings::GroupSettings {
        types,
        include_patterns,
        exclude_patterns,
        required,
        prefix,
        suffix,
        pattern,
        replacement,
        default_groups
    }
);
mirror_record!(
    wit::InactivityPolicy,
    settings::InactivityPolicy {
        days,
        include_never_logged_in,
        exempt_groups
    }
);
mirror_record!(wit::LifecycleSettings, settings::LifecycleSettings {
    missing_users, remove_memberships_of_missing, guard_percent, guard_min_users;
    options: inactivity
});
mirror_record!(
    wit::ConnectorConfig,
    ConnectorConfig {
        name,
        okta_domain,
        custom_domain,
        schedule,
        schedule_time_zone,
        schedule_enabled,
        include_built_in_groups,
        user_attributes,
        full_sync_interval_hours,
        deep_reconcile_days,
        unknown_at_login,
        member_concurrency,
        rate_limit_percent,
        change_feed,
        app_scope,
        users,
        groups,
        lifecycle
    }
);
mirror_record!(
    wss::GroupMark,
    GroupMark {
        okta_id,
        last_membership_updated
    }
);
mirror_record!(wss::ConnectorState, ConnectorState {
    last_full_sync, last_deep_reconcile, okta_cursor, feed_cursor, seats_denied;
    lists: group_marks
});

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

/// The imported user store, sync state and run.
struct Imports;

impl From<Level> for types::LogLevel {
    fn from(l: Level) -> Self {
        match l {
            Level::Debug => types::LogLevel::Debug,
            Level::Info => types::LogLevel::Info,
            Level::Warn => types::LogLevel::Warn,
            Level::Error => types::LogLevel::Error,
        }
    }
}

impl Host for Imports {
    fn log(&mut self, level: Level, message: &str) {
        run::log(level.into(), message);
    }
    fn record_changes(&mut self, entries: &[Entry]) {
        let entries: Vec<wr::ChangeEntry> = entries.iter().cloned().map(Into::into).collect();
        run::record_changes(&entries);
    }
    fn load_state(&mut self) -> Result<Option<ConnectorState>, StoreError> {
        Ok(wss::load()?.map(Into::into))
    }
    fn save_state(&mut self, state: &ConnectorState) {
        wss::save(&state.clone().into());
    }
}

/// A WIT page as a store page.
fn page<W, T: From<W>>(items: Vec<W>, next: Option<String>) -> Page<T> {
    Page {
        items: items.into_iter().map(Into::into).collect(),
        next,
    }
}

fn users(list: Vec<ws::User>) -> Vec<store::StoreUser> {
    list.into_iter().map(Into::into).collect()
}

impl Store for Imports {
    fn directories(&mut self) -> Result<Vec<store::Directory>, StoreError> {
        Ok(ws::directories()?.into_iter().map(Into::into).collect())
    }
    fn list_users(
        &mut self,
        directory: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<store::StoreUser>, StoreError> {
        let p = ws::list_users(directory, after, limit)?;
        Ok(page(p.users, p.next))
    }
    fn list_groups(
        &mut self,
        directory: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<store::StoreGroup>, StoreError> {
        let p = ws::list_groups(directory, after, limit)?;
        Ok(page(p.groups, p.next))
    }
    fn list_memberships(
        &mut self,
        directory: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Page<store::Membership>, StoreError> {
        let p = ws::list_memberships(directory, after, limit)?;
        Ok(page(p.memberships, p.next))
    }
    fn find_by_okta_id(&mut self, okta_id: &str) -> Result<Option<store::StoreUser>, StoreError> {
        Ok(ws::find_by_okta_id(okta_id)?.map(Into::into))
    }
    fn find_by_username(&mut self, username: &str) -> Result<Vec<store::StoreUser>, StoreError> {
        Ok(users(ws::find_by_username(username)?))
    }
    fn find_by_email(&mut self, email: &str) -> Result<Vec<store::StoreUser>, StoreError> {
        Ok(users(ws::find_by_email(email)?))
    }
    fn user_memberships(
        &mut self,
        directory: &str,
        username: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(ws::user_memberships(directory, username)?)
    }
    fn find_groups(
        &mut self,
        directory: &str,
        names: &[String],
    ) -> Result<Vec<store::StoreGroup>, StoreError> {
        Ok(ws::find_groups(directory, names)?
            .into_iter()
            .map(Into::into)
            .collect())
    }
    fn apply(
        &mut self,
        directory: &str,
        changes: Vec<Change>,
        more: bool,
    ) -> Result<store::ApplyResult, StoreError> {
        let changes: Vec<ws::Change> = changes.into_iter().map(Into::into).collect();
        let r = ws::apply(directory, &changes, more)?;
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

mirror_enum!(types::StoreError, StoreError {
    NotFound(s), Conflict(s), Invalid(s), Busy(s), Failure(s)
});

impl From<ws::Directory> for store::Directory {
    fn from(d: ws::Directory) -> Self {
        store::Directory {
            id: d.id,
            kind: match d.kind {
                ws::DirectoryKind::Internal => store::DirectoryKind::Internal,
                ws::DirectoryKind::Okta => store::DirectoryKind::Okta,
                ws::DirectoryKind::Ldap => store::DirectoryKind::Ldap,
                ws::DirectoryKind::Other => store::DirectoryKind::Other,
            },
            position: d.position,
        }
    }
}

impl From<ws::User> for store::StoreUser {
    fn from(u: ws::User) -> Self {
        store::StoreUser {
            key: u.key,
            directory: u.directory,
            username: u.username,
            display_name: u.display_name,
            email: u.email,
            active: u.active,
            okta_id: u.okta_id,
            attributes: attrs_in(u.attributes),
            last_login: u.last_login,
        }
    }
}

mirror_record!(
    ws::Group,
    store::StoreGroup {
        name,
        description,
        okta_id
    }
);
mirror_record!(ws::Membership, store::Membership { username, group });

impl From<Change> for ws::Change {
    fn from(c: Change) -> Self {
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
            Change::CreateGroup(g) => ws::Change::CreateGroup((*g).into()),
            Change::UpdateGroup(g) => ws::Change::UpdateGroup((*g).into()),
            Change::AddMembership(m) => ws::Change::AddMembership(m.into()),
            Change::RemoveMembership(m) => ws::Change::RemoveMembership(m.into()),
        }
    }
}

impl From<FieldError> for wit::FieldError {
    fn from(e: FieldError) -> Self {
        wit::FieldError {
            field: e.field,
            message: e.message,
        }
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

impl From<&types::HostContext> for sync::Context {
    fn from(h: &types::HostContext) -> Self {
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
}

impl From<Counts> for wr::SyncCounts {
    fn from(c: Counts) -> Self {
        wr::SyncCounts {
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

impl From<GuardRefusal> for wr::GuardRefusal {
    fn from(g: GuardRefusal) -> Self {
        wr::GuardRefusal {
            would_remove: g.would_remove,
            active_users: g.active_users,
            percent: g.percent,
            min_users: g.min_users,
            plan_digest: g.plan_digest,
            counts: g.counts.into(),
        }
    }
}

impl From<OktaErrorKind> for wit::OktaErrorKind {
    fn from(k: OktaErrorKind) -> Self {
        use OktaErrorKind as K;
        match k {
            K::InvalidToken => wit::OktaErrorKind::InvalidToken,
            K::Forbidden => wit::OktaErrorKind::Forbidden,
            K::MissingScope => wit::OktaErrorKind::MissingScope,
            K::NotFound => wit::OktaErrorKind::NotFound,
            K::RateLimited => wit::OktaErrorKind::RateLimited,
            K::BadRequest => wit::OktaErrorKind::BadRequest,
            K::ServerError => wit::OktaErrorKind::ServerError,
            K::BadResponse => wit::OktaErrorKind::BadResponse,
            K::Transport | K::ForeignOrigin => wit::OktaErrorKind::Transport,
        }
    }
}

impl From<SyncError> for wit::SyncError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::InvalidConfig(es) => {
                wit::SyncError::InvalidConfig(es.into_iter().map(Into::into).collect())
            }
            SyncError::Store(e) => wit::SyncError::Store(e.into()),
            SyncError::Security(s) => wit::SyncError::Security(s),
            SyncError::Guard(g) => wit::SyncError::Guard(g.into()),
            SyncError::PlanChanged(g) => wit::SyncError::PlanChanged(g.into()),
            SyncError::Okta(e) => wit::SyncError::Okta(wit::OktaError {
                kind: e.kind.into(),
                status: e.status,
                error_code: e.error_code,
                summary: e.summary,
                path: e.path,
            }),
        }
    }
}

impl From<Action> for wr::ChangeAction {
    fn from(a: Action) -> Self {
        match a {
            Action::CreateUser => wr::ChangeAction::CreateUser,
            Action::UpdateUser => wr::ChangeAction::UpdateUser,
            Action::ActivateUser => wr::ChangeAction::ActivateUser,
            Action::DeactivateUser => wr::ChangeAction::DeactivateUser,
            Action::DeleteUser => wr::ChangeAction::DeleteUser,
            Action::MigrateUser => wr::ChangeAction::MigrateUser,
            Action::AnonymizeUser => wr::ChangeAction::AnonymizeUser,
            Action::CreateGroup => wr::ChangeAction::CreateGroup,
            Action::UpdateGroup => wr::ChangeAction::UpdateGroup,
            Action::AddMembership => wr::ChangeAction::AddMembership,
            Action::RemoveMembership => wr::ChangeAction::RemoveMembership,
        }
    }
}

impl From<Entry> for wr::ChangeEntry {
    fn from(e: Entry) -> Self {
        wr::ChangeEntry {
            action: e.action.into(),
            target: e.target,
            group: e.group,
            fields: e
                .fields
                .into_iter()
                .map(|f| wr::FieldChange {
                    field: f.field,
                    old: f.old,
                    new: f.new,
                })
                .collect(),
        }
    }
}

impl From<sync::Report> for wr::SyncReport {
    fn from(r: sync::Report) -> Self {
        wr::SyncReport {
            mode: r.mode.into(),
            mode_reason: r.mode_reason,
            deep_reconcile: r.deep_reconcile,
            dry_run: r.dry_run,
            counts: r.counts.into(),
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

impl From<sync::UserReport> for wr::UserSyncReport {
    fn from(r: sync::UserReport) -> Self {
        wr::UserSyncReport {
            login: r.login,
            found: r.found,
            username: r.username,
            active: r.active,
            changes: r.entries.into_iter().map(Into::into).collect(),
            requests: r.requests,
            seat_denied: r.seat_denied,
            refusal: r.refusal,
        }
    }
}

impl From<wit::SyncOptions> for sync::Options {
    fn from(o: wit::SyncOptions) -> Self {
        sync::Options {
            mode: o.mode.into(),
            dry_run: o.dry_run,
            force: o.force,
            deep_reconcile: o.deep_reconcile,
            approved_plan: o.approved_plan,
        }
    }
}

impl From<wit::UserRef> for UserRef {
    fn from(w: wit::UserRef) -> Self {
        match w {
            wit::UserRef::Login(l) => UserRef::Login(l),
            wit::UserRef::OktaId(id) => UserRef::OktaId(id),
        }
    }
}

fn field_errors(es: Vec<FieldError>) -> Vec<wit::FieldError> {
    es.into_iter().map(Into::into).collect()
}

impl wit::Guest for Component {
    fn default_config(host: types::HostContext) -> wit::ConnectorConfig {
        config::default_config(product_name(host.product)).into()
    }

    fn connector_configure(
        config: wit::ConnectorConfig,
        host: types::HostContext,
    ) -> Result<wit::Configured, Vec<wit::FieldError>> {
        let defaults = settings::product_default_groups(product_name(host.product));
        let settings = config::validate(&config.into(), defaults).map_err(field_errors)?;
        let config = settings.config;
        // Both were validated: a run time that cannot be computed gives no run times.
        let next_runs = schedule::time_zone(&config.schedule_time_zone)
            .and_then(|zone| schedule::next_runs(&config.schedule, zone, host.now, 5))
            .unwrap_or_default();
        Ok(wit::Configured {
            config: config.into(),
            next_runs,
        })
    }

    fn test_connection(
        config: wit::ConnectorConfig,
        host: types::HostContext,
    ) -> Result<wit::ConnectionInfo, wit::SyncError> {
        let ctx = sync::Context::from(&host);
        let call = sync::begin(&config.into(), &ctx)?;
        let mut client = crate::okta::OktaClient::new(Waki, &call.settings.config.okta_domain);
        let origin = client.origin().to_string();
        client
            .get_json(&format!("{origin}/api/v1/users?limit=1"))
            .map_err(SyncError::from)?;
        let remaining = client
            .remaining("users")
            .map(|r| r.min(u32::MAX as u64) as u32);
        client
            .get_json(&format!("{origin}/api/v1/groups?limit=1"))
            .map_err(SyncError::from)?;
        // An app that does not exist (or that the credential may not read) fails the test
        // with Okta's error, naming the request.
        let app_readable = match &call.settings.config.app_scope {
            Some(app) => {
                client
                    .get_json(&format!(
                        "{origin}/api/v1/apps/{}/users?limit=1",
                        crate::okta::client::encode_segment(app)
                    ))
                    .map_err(SyncError::from)?;
                Some(true)
            }
            None => None,
        };
        Ok(wit::ConnectionInfo {
            org_url: origin,
            users_readable: true,
            groups_readable: true,
            // The change feed is not built (refused by `connector-configure`).
            logs_readable: None,
            app_readable,
            rate_limit_remaining: remaining,
        })
    }

    fn preview(
        config: wit::ConnectorConfig,
        host: types::HostContext,
        limit: u32,
    ) -> Result<wit::MappingPreview, wit::SyncError> {
        let ctx = sync::Context::from(&host);
        let p = crate::preview::preview(&config.into(), &ctx, limit, Waki)?;
        Ok(wit::MappingPreview {
            users: p
                .users
                .into_iter()
                .map(|u| wit::UserPreview {
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
                .map(|g| wit::GroupPreview {
                    okta_name: g.okta_name,
                    name: g.name,
                    note: g.note,
                })
                .collect(),
        })
    }

    fn sync(
        config: wit::ConnectorConfig,
        host: types::HostContext,
        options: wit::SyncOptions,
    ) -> Result<wr::SyncReport, wit::SyncError> {
        #[cfg(feature = "test-faults")]
        if let Some(result) = crate::faults::trigger(&config.name, &mut Waki) {
            return Err(wit::SyncError::Security(format!("test fault: {result:?}")));
        }
        let ctx = sync::Context::from(&host);
        let r = sync::sync(
            &config.into(),
            &ctx,
            options.into(),
            Waki,
            &mut Imports,
            &mut Imports,
        )?;
        Ok(r.into())
    }

    fn sync_user(
        config: wit::ConnectorConfig,
        host: types::HostContext,
        who: wit::UserRef,
    ) -> Result<wr::UserSyncReport, wit::SyncError> {
        let ctx = sync::Context::from(&host);
        let r = sync::sync_user(
            &config.into(),
            &ctx,
            &who.into(),
            Waki,
            &mut Imports,
            &mut Imports,
        )?;
        Ok(r.into())
    }

    fn next_runs(
        schedule: String,
        time_zone: String,
        after: i64,
        count: u32,
    ) -> Result<Vec<i64>, wit::FieldError> {
        let error = |field: &'static str| {
            move |e: schedule::ScheduleError| wit::FieldError {
                field: field.into(),
                message: e.0,
            }
        };
        let zone = schedule::time_zone(&time_zone).map_err(error("schedule-time-zone"))?;
        schedule::next_runs(&schedule, zone, after, count.min(1000) as usize)
            .map_err(error("schedule"))
    }
}
