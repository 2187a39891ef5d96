//! The connector form's User settings, Group settings and Cleanup tabs: a field for
//! every setting of [`UserSettings`], [`GroupSettings`] and [`LifecycleSettings`], as
//! typed (so that a refused form comes back as it was), parsed into their patches.
//!
//! Each form field is named by its setting's WIT path (`users.username.pattern`,
//! `lifecycle.guard-percent`, `users.attributes[0].name`): the path the plugin's
//! `field-error`s name, so that its message lands under the field at fault. Lists are
//! one entry a line.

use crate::model::{
    AttributeMapping, ConnectorSettings, FieldMapping, GroupPatch, GroupSettings, InactivityPolicy,
    LifecyclePatch, MigrateExisting, MissingUsers, NoMatch, UserPatch, UserSettings,
};
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// The hidden field that says a form holds these sections: a POST without it (a script
/// that sends a few fields) keeps the saved sections rather than reading every absent
/// checkbox as off.
pub const MARKER: &str = "sections";

/// Empty rows of attribute mappings the form offers under the saved ones.
const SPARE_ATTRIBUTES: usize = 2;

/// The kebab-case name of an enum value (the form's and the REST API's spelling).
pub fn enum_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A field mapping's fields, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MappingFields {
    /// `{attribute}` template.
    pub template: String,
    /// Regex (empty: none).
    pub pattern: String,
    /// Its replacement.
    pub replacement: String,
    /// `use-raw`, `leave`, `clear` or `skip-user`.
    pub on_no_match: String,
}

impl MappingFields {
    fn of(m: &FieldMapping) -> Self {
        MappingFields {
            template: m.template.clone(),
            pattern: m.pattern.clone(),
            replacement: m.replacement.clone(),
            on_no_match: enum_name(&m.on_no_match),
        }
    }

    fn read(f: &Fields<'_>, path: &str) -> Self {
        MappingFields {
            template: f.raw(&format!("{path}.template")),
            pattern: f.raw(&format!("{path}.pattern")),
            replacement: f.raw(&format!("{path}.replacement")),
            on_no_match: f.text(&format!("{path}.on-no-match")),
        }
    }

    fn parse(&self, path: &str, errors: &mut Errors) -> FieldMapping {
        FieldMapping {
            template: self.template.trim().to_string(),
            pattern: self.pattern.clone(),
            replacement: self.replacement.clone(),
            on_no_match: choice(
                &format!("{path}.on-no-match"),
                &self.on_no_match,
                NoMatch::UseRaw,
                errors,
            ),
        }
    }
}

/// The three tabs' values, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sections {
    /// Create users.
    pub import_users: bool,
    /// Update users.
    pub update_users: bool,
    /// Activate and deactivate by Okta status.
    pub sync_status: bool,
    /// Create STAGED and PROVISIONED users, inactive.
    pub create_staged: bool,
    /// The username.
    pub username: MappingFields,
    /// Lowercase usernames.
    pub lowercase_username: bool,
    /// The display name.
    pub display_name: MappingFields,
    /// The email.
    pub email: MappingFields,
    /// Extra attributes: (name, mapping), the saved ones and empty spares.
    pub attributes: Vec<(String, MappingFields)>,
    /// `off`, `by-username`, `by-username-or-email`.
    pub migrate: String,
    /// Sync `OKTA_GROUP`s.
    pub okta_groups: bool,
    /// Sync `APP_GROUP`s.
    pub app_groups: bool,
    /// Include regexes, a line each.
    pub include_patterns: String,
    /// Exclude regexes, a line each.
    pub exclude_patterns: String,
    /// Required groups, a line each.
    pub required: String,
    /// Name prefix.
    pub prefix: String,
    /// Name suffix.
    pub suffix: String,
    /// Name regex.
    pub pattern: String,
    /// Its replacement.
    pub replacement: String,
    /// The product's default groups (the list below is not used).
    pub product_default_groups: bool,
    /// Default groups, a line each.
    pub default_groups: String,
    /// `disable`, `delete`, `anonymize`, `keep`.
    pub missing_users: String,
    /// Remove the memberships of missing users.
    pub remove_memberships_of_missing: bool,
    /// Guard percentage, as typed.
    pub guard_percent: String,
    /// Guard minimum, as typed.
    pub guard_min_users: String,
    /// Inactivity cleanup on.
    pub inactivity: bool,
    /// Its days, as typed.
    pub inactivity_days: String,
    /// Count users who never logged in from their creation.
    pub include_never_logged_in: bool,
    /// Exempt groups, a line each.
    pub exempt_groups: String,
}

/// (field, message) pairs.
pub type Errors = Vec<(String, String)>;

/// A submitted form's fields.
struct Fields<'a>(&'a HashMap<String, String>);

impl Fields<'_> {
    fn raw(&self, k: &str) -> String {
        self.0.get(k).cloned().unwrap_or_default()
    }
    fn text(&self, k: &str) -> String {
        self.raw(k).trim().to_string()
    }
    fn checked(&self, k: &str) -> bool {
        self.0.get(k).is_some_and(|v| v == "on" || v == "true")
    }
}

fn lines(list: &[String]) -> String {
    list.join("\n")
}

fn list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// An enum setting of a `select` (empty: `default`); a value that is none of its
/// choices is an error naming `field`.
fn choice<T: DeserializeOwned>(field: &str, value: &str, default: T, errors: &mut Errors) -> T {
    if value.is_empty() {
        return default;
    }
    serde_json::from_value(serde_json::Value::String(value.into())).unwrap_or_else(|_| {
        errors.push((field.into(), format!("`{value}` is not one of the choices")));
        default
    })
}

/// A whole number as typed (empty: none, the saved value stays).
pub fn number(field: &str, label: &str, s: &str, errors: &mut Errors) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    s.parse().map(Some).unwrap_or_else(|_| {
        errors.push((field.into(), format!("{label} must be a whole number")));
        None
    })
}

impl Sections {
    /// The sections of saved (or default) settings.
    pub fn of(c: &ConnectorSettings) -> Self {
        let (u, g, l) = (&c.users, &c.groups, &c.lifecycle);
        let mut attributes: Vec<(String, MappingFields)> = u
            .attributes
            .iter()
            .map(|a| (a.name.clone(), MappingFields::of(&a.mapping)))
            .collect();
        attributes.extend(std::iter::repeat_n(
            (String::new(), MappingFields::default()),
            SPARE_ATTRIBUTES,
        ));
        let inactivity = l.inactivity.as_ref();
        Sections {
            import_users: u.import_users,
            update_users: u.update_users,
            sync_status: u.sync_status,
            create_staged: u.create_staged,
            username: MappingFields::of(&u.username),
            lowercase_username: u.lowercase_username,
            display_name: MappingFields::of(&u.display_name),
            email: MappingFields::of(&u.email),
            attributes,
            migrate: enum_name(&u.migrate),
            okta_groups: g.types.iter().any(|t| t == "OKTA_GROUP"),
            app_groups: g.types.iter().any(|t| t == "APP_GROUP"),
            include_patterns: lines(&g.include_patterns),
            exclude_patterns: lines(&g.exclude_patterns),
            required: lines(&g.required),
            prefix: g.prefix.clone(),
            suffix: g.suffix.clone(),
            pattern: g.pattern.clone(),
            replacement: g.replacement.clone(),
            product_default_groups: g.default_groups.is_none(),
            default_groups: g.default_groups.as_deref().map(lines).unwrap_or_default(),
            missing_users: enum_name(&l.missing_users),
            remove_memberships_of_missing: l.remove_memberships_of_missing,
            guard_percent: l.guard_percent.to_string(),
            guard_min_users: l.guard_min_users.to_string(),
            inactivity: inactivity.is_some(),
            inactivity_days: inactivity.map(|i| i.days.to_string()).unwrap_or_default(),
            include_never_logged_in: inactivity.is_some_and(|i| i.include_never_logged_in),
            exempt_groups: inactivity
                .map(|i| lines(&i.exempt_groups))
                .unwrap_or_default(),
        }
    }

    /// The sections of a submitted form (none: the form did not hold them).
    pub fn read(form: &HashMap<String, String>) -> Option<Self> {
        let f = Fields(form);
        if !f.checked(MARKER) {
            return None;
        }
        let mut attributes = Vec::new();
        for i in 0.. {
            let path = format!("users.attributes[{i}]");
            if !form.contains_key(&format!("{path}.name")) {
                break;
            }
            attributes.push((
                f.text(&format!("{path}.name")),
                MappingFields::read(&f, &format!("{path}.mapping")),
            ));
        }
        Some(Sections {
            import_users: f.checked("users.import-users"),
            update_users: f.checked("users.update-users"),
            sync_status: f.checked("users.sync-status"),
            create_staged: f.checked("users.create-staged"),
            username: MappingFields::read(&f, "users.username"),
            lowercase_username: f.checked("users.lowercase-username"),
            display_name: MappingFields::read(&f, "users.display-name"),
            email: MappingFields::read(&f, "users.email"),
            attributes,
            migrate: f.text("users.migrate"),
            okta_groups: f.checked("groups.types.okta-group"),
            app_groups: f.checked("groups.types.app-group"),
            include_patterns: f.raw("groups.include-patterns"),
            exclude_patterns: f.raw("groups.exclude-patterns"),
            required: f.raw("groups.required"),
            prefix: f.raw("groups.prefix"),
            suffix: f.raw("groups.suffix"),
            pattern: f.raw("groups.pattern"),
            replacement: f.raw("groups.replacement"),
            product_default_groups: f.checked("groups.product-default-groups"),
            default_groups: f.raw("groups.default-groups"),
            missing_users: f.text("lifecycle.missing-users"),
            remove_memberships_of_missing: f.checked("lifecycle.remove-memberships-of-missing"),
            guard_percent: f.text("lifecycle.guard-percent"),
            guard_min_users: f.text("lifecycle.guard-min-users"),
            inactivity: f.checked("lifecycle.inactivity"),
            inactivity_days: f.text("lifecycle.inactivity.days"),
            include_never_logged_in: f.checked("lifecycle.inactivity.include-never-logged-in"),
            exempt_groups: f.raw("lifecycle.inactivity.exempt-groups"),
        })
    }

    /// The user settings the fields make (every one set).
    fn users(&self, errors: &mut Errors) -> UserPatch {
        let attributes = self
            .attributes
            .iter()
            .enumerate()
            .filter(|(_, (name, m))| !name.is_empty() || !m.template.trim().is_empty())
            .map(|(i, (name, m))| AttributeMapping {
                name: name.clone(),
                mapping: m.parse(&format!("users.attributes[{i}].mapping"), errors),
            })
            .collect();
        use crate::model::Patch;
        UserSettings {
            import_users: self.import_users,
            update_users: self.update_users,
            sync_status: self.sync_status,
            create_staged: self.create_staged,
            username: self.username.parse("users.username", errors),
            lowercase_username: self.lowercase_username,
            display_name: self.display_name.parse("users.display-name", errors),
            email: self.email.parse("users.email", errors),
            attributes,
            migrate: choice(
                "users.migrate",
                &self.migrate,
                MigrateExisting::ByUsername,
                errors,
            ),
        }
        .into_patch()
    }

    /// The group settings the fields make (every one set).
    fn groups(&self) -> GroupPatch {
        use crate::model::Patch;
        let types = [
            (self.okta_groups, "OKTA_GROUP"),
            (self.app_groups, "APP_GROUP"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, t)| t.to_string())
        .collect();
        GroupSettings {
            types,
            include_patterns: list(&self.include_patterns),
            exclude_patterns: list(&self.exclude_patterns),
            required: list(&self.required),
            prefix: self.prefix.clone(),
            suffix: self.suffix.clone(),
            pattern: self.pattern.clone(),
            replacement: self.replacement.clone(),
            default_groups: (!self.product_default_groups).then(|| list(&self.default_groups)),
        }
        .into_patch()
    }

    /// The cleanup settings the fields make (an empty number keeps its value).
    fn lifecycle(&self, errors: &mut Errors) -> LifecyclePatch {
        let inactivity = self.inactivity.then(|| InactivityPolicy {
            days: number(
                "lifecycle.inactivity.days",
                "The days without a login",
                &self.inactivity_days,
                errors,
            )
            .unwrap_or_else(|| {
                if self.inactivity_days.is_empty() {
                    errors.push((
                        "lifecycle.inactivity.days".into(),
                        "Inactivity cleanup needs the days without a login".into(),
                    ));
                }
                0
            }),
            include_never_logged_in: self.include_never_logged_in,
            exempt_groups: list(&self.exempt_groups),
        });
        LifecyclePatch {
            missing_users: Some(choice(
                "lifecycle.missing-users",
                &self.missing_users,
                MissingUsers::Disable,
                errors,
            )),
            remove_memberships_of_missing: Some(self.remove_memberships_of_missing),
            guard_percent: number(
                "lifecycle.guard-percent",
                "The guard's percentage",
                &self.guard_percent,
                errors,
            ),
            guard_min_users: number(
                "lifecycle.guard-min-users",
                "The guard's number of users",
                &self.guard_min_users,
                errors,
            ),
            inactivity: Some(inactivity),
        }
    }

    /// The patches of the three sections, or what does not parse.
    pub fn patches(&self) -> Result<(UserPatch, GroupPatch, LifecyclePatch), Errors> {
        let mut errors = Vec::new();
        let users = self.users(&mut errors);
        let groups = self.groups();
        let lifecycle = self.lifecycle(&mut errors);
        if errors.is_empty() {
            Ok((users, groups, lifecycle))
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Patch;

    fn settings() -> ConnectorSettings {
        let mut c: ConnectorSettings = serde_json::from_value(serde_json::json!({
            "name": "o", "oktaDomain": "acme.okta.com", "customDomain": false,
            "schedule": "0 0 * * * ?", "scheduleTimeZone": "UTC", "scheduleEnabled": false,
            "includeBuiltInGroups": false, "userAttributes": [], "fullSyncIntervalHours": 24,
            "deepReconcileDays": 7, "unknownAtLogin": "keep", "memberConcurrency": 4,
            "rateLimitPercent": 50, "changeFeed": false, "appScope": null,
            "credential": {"type": "api-token"},
            "users": {"importUsers": true, "updateUsers": true, "syncStatus": true, "createStaged": false,
                "username": {"template": "{login}", "pattern": "(.*)@.*", "replacement": "$1", "onNoMatch": "skip-user"},
                "lowercaseUsername": true,
                "displayName": {"template": "{firstName} {lastName}", "pattern": "", "replacement": "", "onNoMatch": "use-raw"},
                "email": {"template": "{email}", "pattern": "", "replacement": "", "onNoMatch": "leave"},
                "attributes": [{"name": "team", "mapping": {"template": "{department|title}", "pattern": "", "replacement": "", "onNoMatch": "clear"}}],
                "migrate": "by-username-or-email"},
            "groups": {"types": ["APP_GROUP"], "includePatterns": ["^eng-", "^ops-"], "excludePatterns": [],
                "required": ["staff"], "prefix": "okta-", "suffix": "", "pattern": "", "replacement": "",
                "defaultGroups": ["jira-software-users", "everyone"]},
            "lifecycle": {"missingUsers": "delete", "removeMembershipsOfMissing": false, "guardPercent": 20,
                "guardMinUsers": 3, "inactivity": {"days": 90, "includeNeverLoggedIn": true, "exemptGroups": ["admins"]}}
        }))
        .unwrap();
        c.name = "o".into();
        c
    }

    /// The fields a browser would post for `s`'s form.
    fn posted(s: &Sections) -> HashMap<String, String> {
        let mut f = HashMap::new();
        let mut put = |k: &str, v: &str| {
            f.insert(k.to_string(), v.to_string());
        };
        put(MARKER, "on");
        let on = |b: bool| if b { "on" } else { "" };
        for (k, b) in [
            ("users.import-users", s.import_users),
            ("users.update-users", s.update_users),
            ("users.sync-status", s.sync_status),
            ("users.create-staged", s.create_staged),
            ("users.lowercase-username", s.lowercase_username),
            ("groups.types.okta-group", s.okta_groups),
            ("groups.types.app-group", s.app_groups),
            ("groups.product-default-groups", s.product_default_groups),
            (
                "lifecycle.remove-memberships-of-missing",
                s.remove_memberships_of_missing,
            ),
            ("lifecycle.inactivity", s.inactivity),
            (
                "lifecycle.inactivity.include-never-logged-in",
                s.include_never_logged_in,
            ),
        ] {
            if b {
                put(k, on(b));
            }
        }
        for (path, m) in [
            ("users.username", &s.username),
            ("users.display-name", &s.display_name),
            ("users.email", &s.email),
        ] {
            put(&format!("{path}.template"), &m.template);
            put(&format!("{path}.pattern"), &m.pattern);
            put(&format!("{path}.replacement"), &m.replacement);
            put(&format!("{path}.on-no-match"), &m.on_no_match);
        }
        for (i, (name, m)) in s.attributes.iter().enumerate() {
            let path = format!("users.attributes[{i}]");
            put(&format!("{path}.name"), name);
            put(&format!("{path}.mapping.template"), &m.template);
            put(&format!("{path}.mapping.pattern"), &m.pattern);
            put(&format!("{path}.mapping.replacement"), &m.replacement);
            put(&format!("{path}.mapping.on-no-match"), &m.on_no_match);
        }
        for (k, v) in [
            ("users.migrate", &s.migrate),
            ("groups.include-patterns", &s.include_patterns),
            ("groups.exclude-patterns", &s.exclude_patterns),
            ("groups.required", &s.required),
            ("groups.prefix", &s.prefix),
            ("groups.suffix", &s.suffix),
            ("groups.pattern", &s.pattern),
            ("groups.replacement", &s.replacement),
            ("groups.default-groups", &s.default_groups),
            ("lifecycle.missing-users", &s.missing_users),
            ("lifecycle.guard-percent", &s.guard_percent),
            ("lifecycle.guard-min-users", &s.guard_min_users),
            ("lifecycle.inactivity.days", &s.inactivity_days),
            ("lifecycle.inactivity.exempt-groups", &s.exempt_groups),
        ] {
            put(k, v);
        }
        f
    }

    #[test]
    fn every_setting_goes_through_its_fields_and_back_unchanged() {
        let c = settings();
        let sections = Sections::of(&c);
        assert_eq!(sections.attributes.len(), 1 + SPARE_ATTRIBUTES);
        let read = Sections::read(&posted(&sections)).expect("the marker is there");
        assert_eq!(read, sections);
        let (u, g, l) = read.patches().unwrap();
        let mut back = c.clone();
        back.users.apply(u);
        back.groups.apply(g);
        back.lifecycle.apply(l);
        assert_eq!(back, c);
    }

    #[test]
    fn bad_values_name_their_field_and_a_form_without_the_marker_holds_no_sections() {
        let mut f = posted(&Sections::of(&settings()));
        f.insert("lifecycle.guard-percent".into(), "ten".into());
        f.insert("users.username.on-no-match".into(), "maybe".into());
        f.insert("lifecycle.inactivity.days".into(), String::new());
        let errors = Sections::read(&f).unwrap().patches().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "users.username.on-no-match",
                "lifecycle.inactivity.days",
                "lifecycle.guard-percent"
            ]
        );
        assert_eq!(errors[2].1, "The guard's percentage must be a whole number");
        f.remove(MARKER);
        assert_eq!(Sections::read(&f), None);
    }
}
