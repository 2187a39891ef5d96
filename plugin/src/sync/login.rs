//! A login sync: one user, as an SSO login does (two requests, that user only).

use super::diff::{limit_seats, resolve_existing, seat_warning};
use super::scope::AppScope;
use super::{Call, Context, SyncError, apply, begin};
use crate::config::{ConnectorConfig, UnknownAtLogin};
use crate::host::{Host, Level};
use crate::mapping::{self, Desired};
use crate::okta::{OktaClient, OktaUser, Transport};
use crate::plan::{self, Plan, Policy, Scope};
use crate::report::{Action, Entry, FieldChange};
use crate::settings::MissingUsers;
use crate::store::{
    Change, DirectorySnapshot, Membership, Store, StoreError, StoreUser, UserUpdate,
};
use std::collections::BTreeSet;

/// Whom a login sync is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    /// The Okta login (or email) the person typed.
    Login(String),
    /// The Okta user id (an ID token's `sub`).
    OktaId(String),
}

impl UserRef {
    /// The login or id, as given.
    pub fn as_str(&self) -> &str {
        match self {
            UserRef::Login(s) | UserRef::OktaId(s) => s,
        }
    }
}

/// What a login sync did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserReport {
    /// Login (or Okta id) asked for.
    pub login: String,
    /// Known to Okta.
    pub found: bool,
    /// Username in the product afterwards.
    pub username: Option<String>,
    /// Active afterwards.
    pub active: bool,
    /// Changes made.
    pub entries: Vec<Entry>,
    /// Requests made.
    pub requests: u32,
    /// Denied a seat by the licence's seat limit.
    pub seat_denied: bool,
    /// Why the user may not log in (none: admitted).
    pub refusal: Option<String>,
}

/// Sync one user, as an SSO login does.
pub fn sync_user<T: Transport>(
    cfg: &ConnectorConfig,
    ctx: &Context,
    who: &UserRef,
    transport: T,
    store: &mut impl Store,
    host: &mut impl Host,
) -> Result<UserReport, SyncError> {
    let call = begin(cfg, ctx)?;
    let mut client = OktaClient::new(transport, &call.settings.config.okta_domain)
        .with_rate_share(call.settings.config.rate_limit_percent);
    let mut report = UserReport {
        login: who.as_str().to_string(),
        ..Default::default()
    };
    let Some(user) = client.get_user(who.as_str())? else {
        report.requests = client.requests();
        unknown_user(&call, who, &mut report, store, host)?;
        return Ok(report);
    };
    let mut groups = client.list_user_groups(&user.id)?;
    report.found = true;
    if let Some(app) = &call.settings.config.app_scope
        && !AppScope::admits_login(&mut client, app, &user.id, &mut groups)?
    {
        report.requests = client.requests();
        unassigned_user(&call, &user, app, &mut report, store, host)?;
        return Ok(report);
    }
    report.requests = client.requests();
    let members: Vec<(String, Vec<String>)> = groups
        .iter()
        .map(|g| (g.id.clone(), vec![user.id.clone()]))
        .collect();
    let mut desired = mapping::desired_with(
        std::slice::from_ref(&user),
        &groups,
        &members,
        &call.settings.rules,
        &call.settings.config.user_attributes,
    );
    let plan = user_plan(&call, &user, &mut desired, &mut report, store, host)?;
    report.entries = plan.entries.clone();
    apply::apply(plan, &ctx.directory, false, store, host)?;
    let after = store
        .find_by_okta_id(&user.id)?
        .filter(|u| u.directory == ctx.directory);
    report.username = after.as_ref().map(|u| u.username.clone());
    report.active = after.is_some_and(|u| u.active);
    report.refusal = refusal(&report, Some(&user));
    Ok(report)
}

/// The plan of one user's sync, within the seat limit; its warnings are logged.
fn user_plan(
    call: &Call,
    user: &OktaUser,
    desired: &mut Desired,
    report: &mut UserReport,
    store: &mut impl Store,
    host: &mut impl Host,
) -> Result<Plan, SyncError> {
    let (ctx, rules) = (call.ctx, &call.settings.rules);
    let snapshot = user_snapshot(&user.id, desired, ctx, store)?;
    resolve_existing(desired, &snapshot, rules, ctx, store)?;
    let mut plan = plan::plan_with(
        desired,
        &snapshot,
        Scope::Partial,
        Policy::of(&rules.users, &rules.lifecycle),
    );
    let access = ctx
        .licensing
        .as_ref()
        .map(|l| l.access_members(&snapshot.memberships))
        .unwrap_or_default();
    let denied = limit_seats(&mut plan, snapshot.users, access, desired, ctx, store)?;
    report.seat_denied = !denied.is_empty();
    let seats = seat_warning(ctx, &denied);
    for w in desired.warnings.iter().chain(&plan.warnings).chain(&seats) {
        host.log(Level::Warn, w);
    }
    Ok(plan)
}

/// Why the user may not log in after the sync, if it may not.
fn refusal(report: &UserReport, okta: Option<&OktaUser>) -> Option<String> {
    if report.active && !report.seat_denied {
        return None;
    }
    Some(match okta {
        _ if report.seat_denied => "no licence seat is free (the seat limit is reached)".into(),
        None => "not known to Okta".into(),
        Some(u) if mapping::status_active(&u.status) != Some(true) => {
            format!("not active in Okta (status {})", u.status)
        }
        Some(_) if report.username.is_none() => {
            "not synced to the product (see the sync log's warnings)".into()
        }
        Some(_) => "inactive in the product".into(),
    })
}

/// A login Okta does not know: the product's user of this directory is deactivated
/// when the settings say deny, else left as it is.
fn unknown_user(
    call: &Call,
    who: &UserRef,
    report: &mut UserReport,
    store: &mut impl Store,
    host: &mut impl Host,
) -> Result<(), SyncError> {
    let ctx = call.ctx;
    let existing = match who {
        UserRef::Login(l) => store.find_by_username(&l.to_lowercase())?,
        UserRef::OktaId(id) => store.find_by_okta_id(id)?.into_iter().collect(),
    }
    .into_iter()
    .find(|u| u.directory == ctx.directory);
    report.username = existing.as_ref().map(|u| u.username.clone());
    report.active = existing.as_ref().is_some_and(|u| u.active);
    let login = who.as_str();
    match existing {
        Some(u) if u.active && call.settings.config.unknown_at_login == UnknownAtLogin::Deny => {
            let plan = deactivation(u);
            report.entries = plan.entries.clone();
            apply::apply(plan, &ctx.directory, false, store, host)?;
            report.active = false;
            report.refusal = Some("not known to Okta (unknown users are denied)".into());
            host.log(
                Level::Warn,
                &format!("login sync: {login} is not known to Okta; deactivated (login denied)"),
            );
        }
        _ => {
            report.refusal = refusal(report, None);
            host.log(
                Level::Info,
                &format!("login sync: {login} is not known to Okta; nothing changed"),
            );
        }
    }
    Ok(())
}

/// A user not assigned to the connector's application: out of scope, as a full sync
/// would find it (deactivated, unless missing users are kept), and refused.
fn unassigned_user(
    call: &Call,
    user: &OktaUser,
    app: &str,
    report: &mut UserReport,
    store: &mut impl Store,
    host: &mut impl Host,
) -> Result<(), SyncError> {
    let ctx = call.ctx;
    let existing = store
        .find_by_okta_id(&user.id)?
        .filter(|u| u.directory == ctx.directory);
    report.username = existing.as_ref().map(|u| u.username.clone());
    report.refusal = Some(format!("not assigned to the Okta application {app}"));
    let keep = call.settings.rules.lifecycle.missing_users == MissingUsers::Keep;
    match existing {
        Some(u) if u.active && !keep => {
            let plan = deactivation(u);
            report.entries = plan.entries.clone();
            apply::apply(plan, &ctx.directory, false, store, host)?;
        }
        u => report.active = u.is_some_and(|u| u.active),
    }
    host.log(
        Level::Warn,
        &format!(
            "login sync: {} is not assigned to the Okta application {app}; login refused",
            user.id
        ),
    );
    Ok(())
}

/// The plan that deactivates one user.
fn deactivation(u: StoreUser) -> Plan {
    let mut e = Entry::new(Action::DeactivateUser, &u.username);
    e.fields.push(FieldChange {
        field: "active".into(),
        old: Some("true".into()),
        new: Some("false".into()),
    });
    let change = Change::UpdateUser(Box::new(UserUpdate {
        key: u.key,
        active: Some(false),
        ..Default::default()
    }));
    let mut plan = Plan::default();
    plan.push(change, [e]);
    plan
}

/// The part of the directory one user's sync can touch: that user, its memberships and
/// the groups involved.
fn user_snapshot(
    okta_id: &str,
    desired: &Desired,
    ctx: &Context,
    store: &mut impl Store,
) -> Result<DirectorySnapshot, StoreError> {
    let in_dir = |u: &StoreUser| u.directory == ctx.directory;
    let mut users: Vec<StoreUser> = store
        .find_by_okta_id(okta_id)?
        .into_iter()
        .filter(in_dir)
        .collect();
    if users.is_empty()
        && let Some(du) = desired.users.first()
    {
        users = store
            .find_by_username(&du.username)?
            .into_iter()
            .filter(in_dir)
            .collect();
    }
    let mut memberships: Vec<Membership> = Vec::new();
    for u in &users {
        for group in store.user_memberships(&ctx.directory, &u.username)? {
            memberships.push(Membership {
                username: u.username.clone(),
                group,
            });
        }
    }
    let names: BTreeSet<String> = memberships
        .iter()
        .map(|m| m.group.clone())
        .chain(desired.groups.iter().map(|g| g.name.clone()))
        .chain(desired.default_groups.iter().cloned())
        .collect();
    let groups = store.find_groups(&ctx.directory, &names.into_iter().collect::<Vec<_>>())?;
    Ok(DirectorySnapshot {
        users,
        groups,
        memberships,
    })
}
