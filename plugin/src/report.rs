//! What a sync tells the admin: every change with old and new values, and counts.

/// What a change does (the WIT `change-action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// New user.
    CreateUser,
    /// User fields change.
    UpdateUser,
    /// User reactivated.
    ActivateUser,
    /// User deactivated.
    DeactivateUser,
    /// User deleted.
    DeleteUser,
    /// User of another directory taken over (same key).
    MigrateUser,
    /// User's username, email and display name replaced by a pseudonym (same key).
    AnonymizeUser,
    /// New group.
    CreateGroup,
    /// Group description changes.
    UpdateGroup,
    /// Membership added.
    AddMembership,
    /// Membership removed.
    RemoveMembership,
}

/// One field's old and new value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    /// Field.
    pub field: String,
    /// Before.
    pub old: Option<String>,
    /// After.
    pub new: Option<String>,
}

/// One line of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// What happens.
    pub action: Action,
    /// Username or group name.
    pub target: String,
    /// Group of a membership change.
    pub group: Option<String>,
    /// Field changes.
    pub fields: Vec<FieldChange>,
}

impl Entry {
    /// An entry without fields.
    pub fn new(action: Action, target: &str) -> Self {
        Entry {
            action,
            target: target.to_string(),
            group: None,
            fields: Vec::new(),
        }
    }
}

/// Counts per action (the WIT `sync-counts`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Users created.
    pub users_created: u32,
    /// Users updated.
    pub users_updated: u32,
    /// Users reactivated.
    pub users_activated: u32,
    /// Users deactivated.
    pub users_deactivated: u32,
    /// Users deleted.
    pub users_deleted: u32,
    /// Users taken over from other directories.
    pub users_migrated: u32,
    /// Users anonymized.
    pub users_anonymized: u32,
    /// Groups created.
    pub groups_created: u32,
    /// Groups updated.
    pub groups_updated: u32,
    /// Memberships added.
    pub memberships_added: u32,
    /// Memberships removed.
    pub memberships_removed: u32,
}

impl Counts {
    /// Count a list of entries.
    pub fn of(entries: &[Entry]) -> Self {
        let mut c = Counts::default();
        for e in entries {
            let n = match e.action {
                Action::CreateUser => &mut c.users_created,
                Action::UpdateUser => &mut c.users_updated,
                Action::ActivateUser => &mut c.users_activated,
                Action::DeactivateUser => &mut c.users_deactivated,
                Action::DeleteUser => &mut c.users_deleted,
                Action::MigrateUser => &mut c.users_migrated,
                Action::AnonymizeUser => &mut c.users_anonymized,
                Action::CreateGroup => &mut c.groups_created,
                Action::UpdateGroup => &mut c.groups_updated,
                Action::AddMembership => &mut c.memberships_added,
                Action::RemoveMembership => &mut c.memberships_removed,
            };
            *n += 1;
        }
        c
    }
}
