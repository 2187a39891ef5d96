//! What an admin sets on a connector beyond the connection: user lifecycle, username and
//! attribute mapping, group filters and mapping, default groups, cleanup and the
//! mass-deactivation guard. Plain values with their defaults; validated and compiled
//! once per call into [`crate::rules::Rules`].

/// What to do with users of the connector's directory that Okta no longer returns (or
/// that fell out of scope).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MissingUsers {
    /// Deactivate them (the default: history and memberships stay).
    #[default]
    Disable,
    /// Delete them from the directory.
    Delete,
    /// Deactivate them and replace their names by a stable pseudonym (`pseudonym`);
    /// undone if they return.
    Anonymize,
    /// Leave them as they are.
    Keep,
}

/// What a mapping does with a value its pattern does not match (or an empty template).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NoMatch {
    /// Use the templated value as it is.
    #[default]
    UseRaw,
    /// Leave the product's field as it is (a new user gets the templated value).
    Leave,
    /// Clear the field (refused for usernames).
    Clear,
    /// Skip the user, with a warning.
    SkipUser,
}

/// How one product field is made from an Okta profile (the WIT `field-mapping`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldMapping {
    /// `{attribute}` parts and text; `{a|b}` takes the first of `a`, `b` not empty.
    pub template: String,
    /// Regex applied to the templated value (empty: none).
    pub pattern: String,
    /// Replacement of `pattern`, e.g. `$1`.
    pub replacement: String,
    /// What happens when `pattern` does not match or the template gives nothing.
    pub on_no_match: NoMatch,
}

impl FieldMapping {
    /// A mapping that is the template alone.
    pub fn template(template: &str) -> Self {
        FieldMapping {
            template: template.into(),
            pattern: String::new(),
            replacement: String::new(),
            on_no_match: NoMatch::UseRaw,
        }
    }
}

/// An extra product attribute made from the Okta profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeMapping {
    /// The product attribute's name.
    pub name: String,
    /// How its value is made.
    pub mapping: FieldMapping,
}

/// User settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSettings {
    /// Create users that are in Okta and not in the product.
    pub import_users: bool,
    /// Update display names, emails and attributes.
    pub update_users: bool,
    /// Activate and deactivate users by their Okta status.
    pub sync_status: bool,
    /// Create STAGED and PROVISIONED users too (inactive until activated in Okta).
    pub create_staged: bool,
    /// The username (default `{login}`).
    pub username: FieldMapping,
    /// Lowercase usernames (Atlassian usernames are case-insensitive).
    pub lowercase_username: bool,
    /// The display name (default `{firstName} {lastName}`).
    pub display_name: FieldMapping,
    /// The email (default `{email}`).
    pub email: FieldMapping,
    /// Extra attributes made by templates.
    pub attributes: Vec<AttributeMapping>,
    /// Take over users of other (non-Okta) directories with the same username or email.
    pub migrate: Migrate,
}

/// Which existing users of other directories a connector takes over (keeping their key,
/// so their history stays theirs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Migrate {
    /// None: a username held by an earlier directory is reported, not created.
    Off,
    /// Users with the same username (after mapping).
    #[default]
    ByUsername,
    /// Users with the same username, or else the same email.
    ByUsernameOrEmail,
}

impl Default for UserSettings {
    fn default() -> Self {
        UserSettings {
            import_users: true,
            update_users: true,
            sync_status: true,
            create_staged: false,
            username: FieldMapping::template("{login}"),
            lowercase_username: true,
            display_name: FieldMapping::template("{firstName} {lastName}"),
            email: FieldMapping::template("{email}"),
            attributes: Vec::new(),
            migrate: Migrate::ByUsername,
        }
    }
}

/// Group settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupSettings {
    /// Okta group types synced (`OKTA_GROUP`, `APP_GROUP`).
    pub types: Vec<String>,
    /// Only groups whose Okta name matches one of these regexes (empty: all).
    pub include_patterns: Vec<String>,
    /// No group whose Okta name matches one of these regexes.
    pub exclude_patterns: Vec<String>,
    /// Only members of at least one of these Okta groups (by name) are synced at all.
    pub required: Vec<String>,
    /// Prefix added to synced group names in the product.
    pub prefix: String,
    /// Suffix added to synced group names in the product.
    pub suffix: String,
    /// Regex applied to group names (empty: none).
    pub pattern: String,
    /// Replacement for `pattern`.
    pub replacement: String,
    /// Groups every synced user is added to (`None`: the product's defaults).
    pub default_groups: Option<Vec<String>>,
}

impl Default for GroupSettings {
    fn default() -> Self {
        GroupSettings {
            types: vec!["OKTA_GROUP".into(), "APP_GROUP".into()],
            include_patterns: Vec::new(),
            exclude_patterns: Vec::new(),
            required: Vec::new(),
            prefix: String::new(),
            suffix: String::new(),
            pattern: String::new(),
            replacement: String::new(),
            default_groups: None,
        }
    }
}

/// Deactivation of users who have not logged in for a while (`inactivity`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InactivityPolicy {
    /// Days without a login.
    pub days: u32,
    /// Also users who never logged in.
    pub include_never_logged_in: bool,
    /// Product groups whose members are exempt.
    pub exempt_groups: Vec<String>,
}

/// Cleanup and safety settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifecycleSettings {
    /// Users Okta no longer returns.
    pub missing_users: MissingUsers,
    /// Also remove their group memberships (default: yes; deleted users always lose them).
    pub remove_memberships_of_missing: bool,
    /// Refuse a sync that would deactivate or delete more than this percentage of the
    /// connector's active users...
    pub guard_percent: u32,
    /// ... and more than this many users.
    pub guard_min_users: u32,
    /// Inactivity cleanup (none: off).
    pub inactivity: Option<InactivityPolicy>,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        LifecycleSettings {
            missing_users: MissingUsers::Disable,
            remove_memberships_of_missing: true,
            guard_percent: 10,
            guard_min_users: 5,
            inactivity: None,
        }
    }
}

/// The default groups of each product (the WIT `product`), as Atlassian ships them.
pub fn product_default_groups(product: &str) -> &'static [&'static str] {
    match product {
        "jira" => &["jira-software-users"],
        "confluence" => &["confluence-users"],
        "bitbucket" => &["stash-users"],
        _ => &[],
    }
}
