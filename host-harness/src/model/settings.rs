//! A connector's settings as the host keeps and shows them, and the patch every surface
//! parses into.
//!
//! [`ConnectorSettings`] is the one settings type: it is stored (inside a versioned
//! document, see [`super::stored`]), shown by the REST API, the export, the admin page
//! and the CLI's `--json`, always in camelCase with lower-case (kebab) enum values.
//! [`ConnectorPatch`] has the same fields, each optional: the CLI's flags and its
//! `--settings` file, the REST API's bodies, the admin page's form and an import all
//! parse into it, and [`Patch::apply`] sets the fields present over stored settings (or
//! over the plugin's defaults, for a new connector). Neither type holds a default of its
//! own: the plugin gives them ([`crate::Harness::defaults`]).

use serde::{Deserialize, Deserializer, Serialize};

/// A value that a patch can change: leaves are replaced, records set field by field.
pub trait Patch {
    /// The patch of this type.
    type Patch;
    /// Set what `patch` holds over `self`.
    fn apply(&mut self, patch: Self::Patch);
    /// The patch that sets every field to `self`'s value (e.g. a whole stored connector
    /// given back as an edit).
    fn into_patch(self) -> Self::Patch;
}

/// Leaves: a patch holds the new value.
macro_rules! leaf {
    ($($t:ty),* $(,)?) => {$(
        impl Patch for $t {
            type Patch = $t;
            fn apply(&mut self, patch: $t) {
                *self = patch;
            }
            fn into_patch(self) -> $t {
                self
            }
        }
    )*};
}

/// A patch field present in the document (even as `null`) is `Some`: so that `null`
/// can clear an optional setting (`defaultGroups: null`, the product's groups) where
/// leaving it out keeps it.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A settings record and its patch, from one list of fields: the patch has every field
/// of the record, optional, so that the two can never drift apart.
macro_rules! settings {
    (
        $(#[$meta:meta])*
        pub struct $name:ident / $patch:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty, )*
        }
        $( extra { $( $(#[$xmeta:meta])* $xfield:ident : $xty:ty, )* } )?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        #[doc = concat!("A change to [`", stringify!($name), "`]: the fields present are set, the others kept.")]
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $patch {
            $(
                $(#[$fmeta])*
                #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
                pub $field: Option<<$ty as Patch>::Patch>,
            )*
            $($(
                $(#[$xmeta])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $xfield: Option<$xty>,
            )*)?
        }

        impl Patch for $name {
            type Patch = $patch;
            fn apply(&mut self, patch: $patch) {
                $( if let Some(v) = patch.$field { self.$field.apply(v); } )*
            }
            // Records without patch-only fields set them all.
            #[allow(clippy::needless_update)]
            fn into_patch(self) -> $patch {
                $patch {
                    $( $field: Some(self.$field.into_patch()), )*
                    ..Default::default()
                }
            }
        }
    };
}

settings! {
    /// A connector's settings. Never a credential: the API token is stored apart.
    pub struct ConnectorSettings / ConnectorPatch {
        /// Name shown to admins; unique per host.
        name: String,
        /// The Okta org's domain without protocol, e.g. `acme.okta.com`.
        okta_domain: String,
        /// Whether `oktaDomain` is the org's custom URL domain, outside Okta's own domains.
        custom_domain: bool,
        /// Cron expression of the scheduled sync (in `scheduleTimeZone`), or a preset such
        /// as `every 15 minutes` (saved as cron).
        schedule: String,
        /// IANA time zone of `schedule`, e.g. `Europe/Berlin`.
        schedule_time_zone: String,
        /// Whether the scheduled sync runs.
        schedule_enabled: bool,
        /// Whether Okta `BUILT_IN` groups (`Everyone`) are synced.
        include_built_in_groups: bool,
        /// Okta profile attributes copied to user attributes.
        user_attributes: Vec<String>,
        /// Hours between full syncs when scheduled syncs are incremental.
        full_sync_interval_hours: u32,
        /// Days between deep reconciles (full syncs that re-read every member list).
        deep_reconcile_days: u32,
        /// What a login sync does with a login Okta does not know.
        unknown_at_login: UnknownAtLogin,
        /// Group-member requests in flight at once.
        member_concurrency: u32,
        /// The share of each Okta rate-limit bucket a sync may use, in percent.
        rate_limit_percent: u32,
        /// Incremental syncs read Okta's System Log from a stored cursor.
        change_feed: bool,
        /// Only users and groups assigned to this Okta application (`null`: all).
        app_scope: Option<String>,
        /// How the host authenticates to Okta: an API token or an OAuth service app. Its
        /// secret (`apiToken`, `privateKey`) is stored apart and never shown.
        credential: Credential,
        /// User import, update, status, username and attribute mapping.
        users: UserSettings,
        /// Group filters, name mapping and default groups.
        groups: GroupSettings,
        /// Missing users, cleanup and the mass-deactivation guard.
        lifecycle: LifecycleSettings,
    }
    extra {
        /// The API token (create, replace); absent, empty or `********`: the stored one.
        api_token: TokenText,
        /// The service app's private key as PEM (create, replace); absent, empty or
        /// `********`: the stored one.
        private_key: TokenText,
        /// `true`: generate a new P-256 private key for the service app (the connector's
        /// `publicKey` is then the JWK to register in the Okta app).
        generate_key: bool,
    }
}

settings! {
    /// How users are created, updated and named.
    pub struct UserSettings / UserPatch {
        /// Create users that are in Okta and not in the product.
        import_users: bool,
        /// Update display names, emails, attributes and usernames.
        update_users: bool,
        /// Activate and deactivate users by Okta status.
        sync_status: bool,
        /// Also create STAGED and PROVISIONED users, inactive.
        create_staged: bool,
        /// The username.
        username: FieldMapping,
        /// Lowercase usernames.
        lowercase_username: bool,
        /// The display name.
        display_name: FieldMapping,
        /// The email.
        email: FieldMapping,
        /// Extra attributes made by templates (besides `userAttributes`).
        attributes: Vec<AttributeMapping>,
        /// Which users of other directories are taken over, keeping their key.
        migrate: MigrateExisting,
    }
}

settings! {
    /// How one product field is made from an Okta profile.
    pub struct FieldMapping / FieldMappingPatch {
        /// `{attribute}` parts and literal text; `{a|b}` takes the first not empty.
        template: String,
        /// Regex applied to the templated value (empty: none).
        pattern: String,
        /// Replacement of `pattern`.
        replacement: String,
        /// What happens when `pattern` does not match.
        on_no_match: NoMatch,
    }
}

/// An extra attribute made from the Okta profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttributeMapping {
    /// The product attribute's name.
    pub name: String,
    /// How its value is made.
    pub mapping: FieldMapping,
}

/// Deactivation of users who have not logged in for a while.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InactivityPolicy {
    /// Days without a login after which a user is deactivated.
    pub days: u32,
    /// Also deactivate users who never logged in, counted from their creation.
    pub include_never_logged_in: bool,
    /// Members of these product groups are never deactivated for inactivity.
    pub exempt_groups: Vec<String>,
}

/// What a mapping does with a value its pattern does not match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoMatch {
    /// Use the templated value as it is.
    UseRaw,
    /// Leave the product's field as it is.
    Leave,
    /// Clear the field.
    Clear,
    /// Skip the user, reported.
    SkipUser,
}

settings! {
    /// Which Okta groups are synced, and under which names.
    pub struct GroupSettings / GroupPatch {
        /// Okta group types synced (`OKTA_GROUP`, `APP_GROUP`).
        types: Vec<String>,
        /// Only groups whose Okta name matches one of these regexes (empty: all).
        include_patterns: Vec<String>,
        /// No group whose Okta name matches one of these regexes.
        exclude_patterns: Vec<String>,
        /// Only members of one of these Okta groups are synced at all.
        required: Vec<String>,
        /// Prefix of group names in the product.
        prefix: String,
        /// Suffix of group names in the product.
        suffix: String,
        /// Regex applied to group names (empty: none).
        pattern: String,
        /// Replacement of `pattern`.
        replacement: String,
        /// Groups every synced user joins (`null`: the product's).
        default_groups: Option<Vec<String>>,
    }
}

settings! {
    /// Cleanup and safety.
    pub struct LifecycleSettings / LifecyclePatch {
        /// What happens to users Okta no longer returns.
        missing_users: MissingUsers,
        /// Also remove their memberships.
        remove_memberships_of_missing: bool,
        /// The guard refuses a sync that deactivates or deletes more than this percentage
        /// of the directory's active users...
        guard_percent: u32,
        /// ... and more than this many users.
        guard_min_users: u32,
        /// Inactivity cleanup (`null`: off).
        inactivity: Option<InactivityPolicy>,
    }
}

/// What a login sync does with a login Okta does not know.
/// How the host authenticates a connector's requests to Okta.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Credential {
    /// An SSWS API token (`apiToken`): it acts as the admin who created it.
    ApiToken,
    /// An OAuth 2.0 API service app (`privateKey`): `private_key_jwt` client
    /// credentials, DPoP-bound tokens.
    OauthServiceApp {
        /// The app's client id (`0oa…`).
        client_id: String,
        /// The `kid` of the public key registered in the app (`null`: the key's RFC 7638
        /// thumbprint, the kid shown with the connector's `publicKey`).
        #[serde(default)]
        key_id: Option<String>,
        /// The scopes requested (empty: `okta.users.read okta.groups.read`, plus
        /// `okta.logs.read` when the change feed is on).
        #[serde(default)]
        scopes: Vec<String>,
        /// Request DPoP-bound tokens (Okta's default for apps since 2024); off only for
        /// an app whose "Require DPoP header" is off.
        #[serde(default = "yes")]
        dpop: bool,
    },
}

fn yes() -> bool {
    true
}

impl Credential {
    /// The credential's secret in settings errors and patches (`api-token`, `private-key`).
    pub fn secret_field(&self) -> &'static str {
        match self {
            Credential::ApiToken => "api-token",
            Credential::OauthServiceApp { .. } => "private-key",
        }
    }

    /// The secret's name as admins read it.
    pub fn secret_name(&self) -> &'static str {
        match self {
            Credential::ApiToken => "API token",
            Credential::OauthServiceApp { .. } => "private key",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownAtLogin {
    /// Leave the product's user as it is.
    Keep,
    /// Deactivate the product's user, so that the login is refused.
    Deny,
}

/// Migration of users the product already has in another directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MigrateExisting {
    /// None.
    Off,
    /// Users with the same username.
    ByUsername,
    /// Users with the same username, or else the same email.
    ByUsernameOrEmail,
}

/// What happens to users Okta no longer returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MissingUsers {
    /// Deactivate them.
    Disable,
    /// Delete them from the directory.
    Delete,
    /// Deactivate them and replace their names by a stable pseudonym.
    Anonymize,
    /// Leave them as they are.
    Keep,
}

leaf!(
    String,
    bool,
    u32,
    Vec<String>,
    Option<Vec<String>>,
    Option<String>,
    Vec<AttributeMapping>,
    Option<InactivityPolicy>,
    NoMatch,
    UnknownAtLogin,
    MigrateExisting,
    MissingUsers,
    Credential,
);

/// What a redacted token looks like (exports, the REST API, the page).
pub const REDACTED: &str = "********";

/// An API token as typed or imported, not validated yet (the harness does that). Its
/// `Debug` is masked, so that a patch can be logged or shown in an error.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenText(pub String);

fn given(t: &Option<TokenText>) -> Option<&str> {
    t.as_ref()
        .map(|t| t.0.trim())
        .filter(|t| !t.is_empty() && *t != REDACTED)
}

impl std::fmt::Debug for TokenText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

impl ConnectorPatch {
    /// The token to store, unless absent, blank or the redaction mark (keep the stored).
    pub fn token(&self) -> Option<&str> {
        given(&self.api_token)
    }

    /// The private key to store, unless absent, blank or the redaction mark.
    pub fn private_key(&self) -> Option<&str> {
        given(&self.private_key)
    }

    /// The secret the patch gives for `credential` (its token or key), and the field of
    /// the other kind's secret if the patch gives that instead.
    pub fn secret_for(&self, credential: &Credential) -> Result<Option<&str>, &'static str> {
        let (mine, other, other_field) = match credential {
            Credential::ApiToken => (self.token(), self.private_key(), "privateKey"),
            Credential::OauthServiceApp { .. } => (self.private_key(), self.token(), "apiToken"),
        };
        match (mine, other) {
            (None, Some(_)) => Err(other_field),
            (mine, _) => Ok(mine),
        }
    }

    /// The connector name the patch sets, trimmed (none if absent or blank).
    pub fn name(&self) -> Option<&str> {
        self.name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(json: &str) -> Result<ConnectorPatch, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn a_patch_sets_only_what_it_holds_down_to_nested_fields() {
        let p = patch(r#"{"memberConcurrency": 8, "lifecycle": {"guardPercent": 30, "missingUsers": "delete"}}"#)
            .unwrap();
        assert_eq!(p.member_concurrency, Some(8));
        let l = p.lifecycle.as_ref().unwrap();
        assert_eq!(l.guard_percent, Some(30));
        assert_eq!(l.missing_users, Some(MissingUsers::Delete));
        assert_eq!(l.guard_min_users, None);
        assert_eq!(p.users, None);
    }

    #[test]
    fn null_clears_the_default_groups_and_absent_keeps_them() {
        let set = patch(r#"{"groups": {"defaultGroups": null}}"#).unwrap();
        assert_eq!(set.groups.unwrap().default_groups, Some(None));
        let kept = patch(r#"{"groups": {}}"#).unwrap();
        assert_eq!(kept.groups.unwrap().default_groups, None);
    }

    #[test]
    fn unknown_fields_snake_case_and_wit_enum_spellings_are_refused() {
        for bad in [
            r#"{"okta_domain": "a.okta.com"}"#,
            r#"{"lifecycle": {"guard_percent": 5}}"#,
            r#"{"lifecycle": {"missingUsers": "Disable"}}"#,
            r#"{"unknownAtLogin": true}"#,
            r#"{"name": null}"#,
        ] {
            assert!(patch(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn the_token_is_masked_in_debug_and_redacted_or_blank_tokens_keep_the_stored_one() {
        let p = patch(r#"{"apiToken": "SECRET-abc"}"#).unwrap();
        assert_eq!(p.token(), Some("SECRET-abc"));
        assert!(!format!("{p:?}").contains("SECRET"));
        for keep in [r#"{"apiToken": "********"}"#, r#"{"apiToken": "  "}"#, "{}"] {
            assert_eq!(patch(keep).unwrap().token(), None, "{keep}");
        }
    }
}
