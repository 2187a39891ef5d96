//! What a sync did, as the host stores and shows it: the plugin's report converted once
//! ([`super::wit`]), in camelCase with kebab-case enum values, apart from the generated
//! WIT types so that a WIT change does not change stored runs or the REST API.

use serde::{Deserialize, Serialize};

/// Full or incremental.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncMode {
    /// Everything fetched and diffed.
    Full,
    /// Only what changed since the last sync (`lastUpdated` filters).
    Incremental,
    /// Only what Okta's System Log says changed since the stored cursor.
    Feed,
}

/// What a change does. Its kebab-case name is also its stored name (`run_changes.action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::VariantArray)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeAction {
    /// A new user.
    CreateUser,
    /// A user's fields change.
    UpdateUser,
    /// A user is reactivated.
    ActivateUser,
    /// A user is deactivated.
    DeactivateUser,
    /// A user is deleted.
    DeleteUser,
    /// A user of another directory is taken over.
    MigrateUser,
    /// A user's names are replaced by a pseudonym.
    AnonymizeUser,
    /// A new group.
    CreateGroup,
    /// A group's description changes.
    UpdateGroup,
    /// A user joins a group.
    AddMembership,
    /// A user leaves a group.
    RemoveMembership,
}

impl ChangeAction {
    /// Whether the change is to a user itself (not a group or a membership): what a
    /// user's history lists.
    pub fn is_user_change(self) -> bool {
        !matches!(
            self,
            ChangeAction::CreateGroup
                | ChangeAction::UpdateGroup
                | ChangeAction::AddMembership
                | ChangeAction::RemoveMembership
        )
    }

    /// The stored and shown name (serde's, so that there is one spelling).
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .expect("an action serializes to its name")
    }

    /// The action of a stored name.
    pub fn parse(name: &str) -> Option<ChangeAction> {
        serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
    }
}

/// One field's old and new value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldChange {
    /// Field name.
    pub field: String,
    /// Value before (none: unset).
    pub old: Option<String>,
    /// Value after (none: unset).
    pub new: Option<String>,
}

/// One change of a plan or report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeEntry {
    /// What happens.
    pub action: ChangeAction,
    /// The username or group name.
    pub target: String,
    /// The group, for membership changes.
    pub group: Option<String>,
    /// Field changes, for creates and updates.
    pub fields: Vec<FieldChange>,
}

/// Counts of a sync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncCounts {
    /// Users created.
    pub users_created: u32,
    /// Users whose fields changed.
    pub users_updated: u32,
    /// Users reactivated.
    pub users_activated: u32,
    /// Users deactivated.
    pub users_deactivated: u32,
    /// Users deleted.
    pub users_deleted: u32,
    /// Users taken over from other directories.
    pub users_migrated: u32,
    /// Users anonymized (reports stored before 0.2.0 have none).
    #[serde(default)]
    pub users_anonymized: u32,
    /// Groups created.
    pub groups_created: u32,
    /// Groups whose description changed.
    pub groups_updated: u32,
    /// Memberships added.
    pub memberships_added: u32,
    /// Memberships removed.
    pub memberships_removed: u32,
}

impl SyncCounts {
    /// Memberships added and removed.
    pub fn memberships_changed(&self) -> u32 {
        self.memberships_added + self.memberships_removed
    }
}

/// What a sync did (or, in a dry run, would do).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// The mode that ran.
    pub mode: SyncMode,
    /// Why this mode ran when it is not the one asked for.
    #[serde(default)]
    pub mode_reason: Option<String>,
    /// The sync re-read every member list and compared the whole store.
    #[serde(default)]
    pub deep_reconcile: bool,
    /// Nothing was written because of a dry run.
    pub dry_run: bool,
    /// Counts of changes.
    pub counts: SyncCounts,
    /// Every change, in apply order: the run's recorded changes (stored apart, in
    /// `run_changes`, and filled in when a run is read).
    #[serde(default)]
    pub changes: Vec<ChangeEntry>,
    /// The digest of the plan (what an approval names).
    #[serde(default)]
    pub plan_digest: String,
    /// Users seen in Okta.
    pub okta_users: u32,
    /// Groups seen in Okta (after filters).
    pub okta_groups: u32,
    /// HTTP requests made to Okta.
    pub requests: u32,
    /// Store rows written.
    pub writes: u32,
    /// Milliseconds fetching from Okta.
    pub fetch_ms: u64,
    /// Milliseconds computing the plan.
    pub plan_ms: u64,
    /// Milliseconds applying it.
    pub apply_ms: u64,
    /// Things the admin should know.
    pub warnings: Vec<String>,
    /// Requests that were retries.
    pub retries: u32,
    /// 429 answers met.
    pub rate_limited: u32,
    /// The token sees only some groups.
    pub scoped_token: bool,
    /// Users who did not get a seat because the licence's seat limit was reached.
    pub seats_denied: Vec<String>,
}

/// What a login sync did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSyncReport {
    /// The login asked for.
    pub login: String,
    /// Whether Okta knows the user.
    pub found: bool,
    /// The username in the product after the sync, if it exists there.
    pub username: Option<String>,
    /// Whether the user is active in the product after the sync.
    pub active: bool,
    /// Changes made.
    pub changes: Vec<ChangeEntry>,
    /// HTTP requests made.
    pub requests: u32,
    /// The user did not get a seat because the seat limit was reached.
    pub seat_denied: bool,
    /// Why the login is refused (none: admitted).
    #[serde(default)]
    pub refusal: Option<String>,
}

/// A few Okta users and groups through a connector's mapping (the admin page's live
/// preview), as the plugin's `preview` gives them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingPreview {
    /// Sample users.
    pub users: Vec<UserPreview>,
    /// Sample groups.
    pub groups: Vec<GroupPreview>,
}

/// One Okta user as the settings would map it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserPreview {
    /// The Okta login.
    pub okta_login: String,
    /// The username it would get (none: skipped).
    pub username: Option<String>,
    /// The display name it would get.
    pub display_name: String,
    /// The email it would get.
    pub email: String,
    /// Why it would be skipped, or what is odd about it.
    pub note: Option<String>,
}

/// One Okta group as the settings would filter and name it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupPreview {
    /// The Okta group name.
    pub okta_name: String,
    /// The product group name (none: filtered out).
    pub name: Option<String>,
    /// Why it is filtered out.
    pub note: Option<String>,
}

/// The result of a connection test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInfo {
    /// The org URL that answered.
    pub org_url: String,
    /// The first page of users could be read.
    pub users_readable: bool,
    /// Groups could be read.
    pub groups_readable: bool,
    /// The System Log could be read (asked only with the change feed).
    #[serde(default)]
    pub logs_readable: Option<bool>,
    /// The scoping application's assignments could be read (with `appScope`).
    #[serde(default)]
    pub app_readable: Option<bool>,
    /// Rate limit left in the users bucket, if Okta said.
    pub rate_limit_remaining: Option<u32>,
}

/// Why the mass-deactivation guard refused a sync.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuardRefusal {
    /// Users the sync would deactivate or delete.
    pub would_remove: u32,
    /// Active users of the directory before the sync.
    pub active_users: u32,
    /// The guard's percentage.
    pub percent: u32,
    /// The guard's minimum number of users.
    pub min_users: u32,
    /// The refused plan's digest (approve it to apply it).
    #[serde(default)]
    pub plan_digest: String,
    /// The refused plan's counts.
    #[serde(default)]
    pub counts: SyncCounts,
}

#[cfg(test)]
mod tests {
    use super::ChangeAction;

    #[test]
    fn action_names_round_trip() {
        assert_eq!(ChangeAction::AnonymizeUser.name(), "anonymize-user");
        assert_eq!(
            ChangeAction::parse("remove-membership"),
            Some(ChangeAction::RemoveMembership)
        );
        assert_eq!(ChangeAction::parse("RemoveMembership"), None);
    }
}
