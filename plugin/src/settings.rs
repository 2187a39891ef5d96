//! What an admin sets on a connector beyond the connection: user lifecycle, username and
//! attribute mapping, group filters and mapping, default groups, cleanup and the
//! mass-deactivation guard. Validated here (each error names its setting) and compiled
//! once per sync into [`Rules`].

use crate::config::FieldError;
use regex::Regex;

/// What to do with users of the connector's directory that Okta no longer returns (or
/// that fell out of scope).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MissingUsers {
    /// Deactivate them (the default: history and memberships stay).
    #[default]
    Disable,
    /// Delete them from the directory.
    Delete,
    /// Leave them as they are.
    Keep,
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
    /// Profile attribute the username comes from (`login`, `email`, any attribute).
    pub username_attribute: String,
    /// Regex applied to the username (empty: none), e.g. `(.*)@.*`.
    pub username_pattern: String,
    /// Replacement for `username_pattern`, e.g. `$1`.
    pub username_replacement: String,
    /// Lowercase usernames (Atlassian usernames are case-insensitive).
    pub lowercase_username: bool,
    /// Display name template: `{firstName} {lastName}`, `{displayName}`, any attributes.
    pub display_name: String,
    /// Profile attribute of the email address.
    pub email_attribute: String,
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
            username_attribute: "login".into(),
            username_pattern: String::new(),
            username_replacement: String::new(),
            lowercase_username: true,
            display_name: "{firstName} {lastName}".into(),
            email_attribute: "email".into(),
            migrate: Migrate::ByUsername,
        }
    }
}

/// Group settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupSettings {
    /// Okta group types synced (`OKTA_GROUP`, `APP_GROUP`, `BUILT_IN`).
    pub types: Vec<String>,
    /// Only groups whose Okta name matches one of these regexes (empty: all).
    pub include: Vec<String>,
    /// No group whose Okta name matches one of these regexes.
    pub exclude: Vec<String>,
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
            include: Vec::new(),
            exclude: Vec::new(),
            required: Vec::new(),
            prefix: String::new(),
            suffix: String::new(),
            pattern: String::new(),
            replacement: String::new(),
            default_groups: None,
        }
    }
}

/// Cleanup and safety settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifecycleSettings {
    /// Users no longer in Okta or out of scope.
    pub missing_users: MissingUsers,
    /// Also remove their group memberships (default: yes; deleted users always lose them).
    pub remove_memberships_of_missing: bool,
    /// Refuse a sync that would deactivate or delete more than this percentage of the
    /// connector's active users...
    pub guard_percent: u32,
    /// ... and more than this many users.
    pub guard_min_users: u32,
}

impl Default for LifecycleSettings {
    fn default() -> Self {
        LifecycleSettings {
            missing_users: MissingUsers::Disable,
            remove_memberships_of_missing: true,
            guard_percent: 10,
            guard_min_users: 5,
        }
    }
}

/// The Okta group types.
pub const GROUP_TYPES: [&str; 3] = ["OKTA_GROUP", "APP_GROUP", "BUILT_IN"];

/// A display-name template, parsed: literal text and `{attribute}` references.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Text as written.
    Text(String),
    /// A profile attribute.
    Attr(String),
}

fn attr_name_ok(a: &str) -> bool {
    !a.is_empty()
        && a.len() <= 100
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// Parse a `{attribute}` template.
pub fn parse_template(t: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut rest = t;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(format!("`}}` without `{{` in `{t}`"));
        }
        if open > 0 {
            parts.push(Part::Text(rest[..open].to_string()));
        }
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("`{{` without `}}` in `{t}`"))?
            + open;
        let name = rest[open + 1..close].trim();
        if !attr_name_ok(name) {
            return Err(format!(
                "`{{{name}}}` is not an Okta profile attribute (letters, digits, `_` and `.`)"
            ));
        }
        parts.push(Part::Attr(name.to_string()));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    if !parts.iter().any(|p| matches!(p, Part::Attr(_))) {
        return Err(format!(
            "`{t}` names no attribute; use e.g. {{firstName}} {{lastName}}"
        ));
    }
    Ok(parts)
}

/// The settings compiled for one sync.
#[derive(Clone, Debug)]
pub struct Rules {
    /// User settings.
    pub users: UserSettings,
    /// Username regex.
    pub username_re: Option<Regex>,
    /// Display name template.
    pub display: Vec<Part>,
    /// Group settings.
    pub groups: GroupSettings,
    /// Include regexes.
    pub include: Vec<Regex>,
    /// Exclude regexes.
    pub exclude: Vec<Regex>,
    /// Group-name regex.
    pub group_re: Option<Regex>,
    /// Default groups resolved for the product.
    pub default_groups: Vec<String>,
    /// Lifecycle settings.
    pub lifecycle: LifecycleSettings,
    /// Sync BUILT_IN groups.
    pub include_built_in: bool,
}

fn regex(field: &str, pattern: &str, errors: &mut Vec<FieldError>) -> Option<Regex> {
    match Regex::new(pattern) {
        Ok(r) => Some(r),
        Err(e) => {
            let why = e
                .to_string()
                .lines()
                .last()
                .unwrap_or("invalid")
                .trim()
                .to_string();
            errors.push(FieldError::new(
                field,
                format!("`{pattern}` is not a valid regular expression: {why}"),
            ));
            None
        }
    }
}

fn attribute(field: &str, name: &str, errors: &mut Vec<FieldError>) {
    if !attr_name_ok(name) {
        errors.push(FieldError::new(
            field,
            format!(
                "`{name}` is not an Okta profile attribute name (letters, digits, `_` and `.`)"
            ),
        ));
    }
}

fn group_name_ok(field: &str, name: &str, errors: &mut Vec<FieldError>) {
    if name.trim().is_empty() || name.len() > 255 || name.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            format!("`{name}` is not a usable group name"),
        ));
    }
}

impl Rules {
    /// Validate a config's settings and compile them; `product_defaults` are the
    /// product's default groups, used when the admin set none.
    pub fn compile(
        cfg: &crate::config::ConnectorConfig,
        product_defaults: &[&str],
    ) -> Result<Rules, Vec<FieldError>> {
        let (users, groups, lifecycle) = (&cfg.users, &cfg.groups, &cfg.lifecycle);
        let mut errors = Vec::new();
        attribute("username-attribute", &users.username_attribute, &mut errors);
        attribute("email-attribute", &users.email_attribute, &mut errors);
        let username_re = (!users.username_pattern.is_empty())
            .then(|| regex("username-pattern", &users.username_pattern, &mut errors))
            .flatten();
        let display = parse_template(&users.display_name).unwrap_or_else(|e| {
            errors.push(FieldError::new("display-name", e));
            Vec::new()
        });
        for t in &groups.types {
            if !["OKTA_GROUP", "APP_GROUP"].contains(&t.trim()) {
                errors.push(FieldError::new(
                    "group-types",
                    format!("`{t}` is not a group type to choose; use OKTA_GROUP or APP_GROUP (Everyone, BUILT_IN, has its own setting: include-built-in-groups)"),
                ));
            }
        }
        let include = groups
            .include
            .iter()
            .filter_map(|p| regex("group-include", p, &mut errors))
            .collect();
        let exclude = groups
            .exclude
            .iter()
            .filter_map(|p| regex("group-exclude", p, &mut errors))
            .collect();
        let group_re = (!groups.pattern.is_empty())
            .then(|| regex("group-pattern", &groups.pattern, &mut errors))
            .flatten();
        for r in &groups.required {
            group_name_ok("required-groups", r, &mut errors);
        }
        let default_groups: Vec<String> = match &groups.default_groups {
            Some(list) => list.iter().map(|g| g.trim().to_string()).collect(),
            None => product_defaults.iter().map(|g| g.to_string()).collect(),
        };
        for g in &default_groups {
            group_name_ok("default-groups", g, &mut errors);
        }
        if lifecycle.guard_percent > 100 {
            errors.push(FieldError::new(
                "guard-percent",
                format!(
                    "{} % is out of range; use 0 to 100",
                    lifecycle.guard_percent
                ),
            ));
        }
        if lifecycle.guard_min_users > 1_000_000 {
            errors.push(FieldError::new(
                "guard-min-users",
                format!(
                    "{} is out of range; use 0 to 1000000",
                    lifecycle.guard_min_users
                ),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Rules {
            users: users.clone(),
            username_re,
            display,
            groups: groups.clone(),
            include,
            exclude,
            group_re,
            default_groups,
            lifecycle: lifecycle.clone(),
            include_built_in: cfg.include_built_in_groups,
        })
    }

    /// The product username for an Okta attribute value, or `None` when it maps to nothing.
    pub fn username(&self, raw: &str) -> Option<String> {
        let mut name = raw.trim().to_string();
        if let Some(re) = &self.username_re {
            name = re
                .replace(&name, self.users.username_replacement.as_str())
                .trim()
                .to_string();
        }
        if self.users.lowercase_username {
            name = name.to_lowercase();
        }
        (!name.is_empty()).then_some(name)
    }

    /// The display name from the template, with `lookup` giving attribute values.
    pub fn display_name(&self, lookup: impl Fn(&str) -> Option<String>) -> String {
        let mut out = String::new();
        for p in &self.display {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Attr(a) => out.push_str(lookup(a).unwrap_or_default().trim()),
            }
        }
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Whether an Okta group (type and name) is synced.
    pub fn group_synced(&self, group_type: &str, name: &str) -> bool {
        let type_ok = match group_type {
            "BUILT_IN" => self.include_built_in,
            "OKTA_GROUP" | "APP_GROUP" => self.groups.types.iter().any(|t| t == group_type),
            // Unknown types are synced like Okta groups, and reported.
            _ => self.groups.types.iter().any(|t| t == "OKTA_GROUP"),
        };
        type_ok
            && (self.include.is_empty() || self.include.iter().any(|r| r.is_match(name)))
            && !self.exclude.iter().any(|r| r.is_match(name))
    }

    /// The product's name for a synced Okta group.
    pub fn group_name(&self, okta_name: &str) -> String {
        let base = match &self.group_re {
            Some(re) => re
                .replace(okta_name, self.groups.replacement.as_str())
                .into_owned(),
            None => okta_name.to_string(),
        };
        format!(
            "{}{}{}",
            self.groups.prefix,
            base.trim(),
            self.groups.suffix
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(
        users: UserSettings,
        groups: GroupSettings,
        lifecycle: LifecycleSettings,
    ) -> crate::config::ConnectorConfig {
        crate::config::ConnectorConfig {
            users,
            groups,
            lifecycle,
            ..Default::default()
        }
    }

    fn rules(users: UserSettings, groups: GroupSettings) -> Rules {
        Rules::compile(
            &cfg(users, groups, LifecycleSettings::default()),
            &["jira-software-users"],
        )
        .unwrap()
    }

    #[test]
    fn username_from_regex_and_case() {
        let r = rules(
            UserSettings {
                username_pattern: "(.*)@.*".into(),
                username_replacement: "$1".into(),
                ..Default::default()
            },
            GroupSettings::default(),
        );
        assert_eq!(
            r.username("Ann.Lee@Example.com").as_deref(),
            Some("ann.lee")
        );
        let r = rules(
            UserSettings {
                lowercase_username: false,
                ..Default::default()
            },
            GroupSettings::default(),
        );
        assert_eq!(r.username(" Ann@X.com ").as_deref(), Some("Ann@X.com"));
        let r = rules(
            UserSettings {
                username_pattern: ".*".into(),
                ..Default::default()
            },
            GroupSettings::default(),
        );
        assert_eq!(r.username("a"), None, "mapped to nothing");
    }

    #[test]
    fn display_name_templates() {
        let r = rules(
            UserSettings {
                display_name: "{lastName}, {firstName} ({department})".into(),
                ..Default::default()
            },
            GroupSettings::default(),
        );
        let v = |a: &str| match a {
            "firstName" => Some("Ann".to_string()),
            "lastName" => Some("Lee".to_string()),
            _ => None,
        };
        assert_eq!(r.display_name(v), "Lee, Ann ()");
        assert!(
            parse_template("{firstName")
                .unwrap_err()
                .contains("without")
        );
        assert!(
            parse_template("no attributes")
                .unwrap_err()
                .contains("names no attribute")
        );
        assert!(
            parse_template("{first name}")
                .unwrap_err()
                .contains("not an Okta profile attribute")
        );
    }

    #[test]
    fn group_filters_and_mapping() {
        let groups = GroupSettings {
            include: vec!["^eng".into(), "^ops".into()],
            exclude: vec!["-test$".into()],
            prefix: "okta-".into(),
            pattern: "^(eng|ops)-(.*)".into(),
            replacement: "$2".into(),
            ..Default::default()
        };
        let r = rules(UserSettings::default(), groups);
        assert!(r.group_synced("OKTA_GROUP", "eng-backend"));
        assert!(!r.group_synced("OKTA_GROUP", "eng-backend-test"));
        assert!(!r.group_synced("OKTA_GROUP", "sales"));
        assert!(!r.group_synced("BUILT_IN", "eng-everyone"));
        assert!(
            r.group_synced("SOMETHING_NEW", "eng-x"),
            "unknown types sync like Okta groups"
        );
        assert_eq!(r.group_name("eng-backend"), "okta-backend");
        assert_eq!(r.default_groups, ["jira-software-users"]);
    }

    #[test]
    fn bad_settings_name_their_field() {
        let users = UserSettings {
            username_pattern: "(".into(),
            display_name: "{a".into(),
            username_attribute: "bad attr".into(),
            ..Default::default()
        };
        let groups = GroupSettings {
            types: vec!["WEIRD".into()],
            exclude: vec!["[".into()],
            default_groups: Some(vec![" ".into()]),
            ..Default::default()
        };
        let lifecycle = LifecycleSettings {
            guard_percent: 101,
            ..Default::default()
        };
        let fields: Vec<String> = Rules::compile(&cfg(users, groups, lifecycle), &[])
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "username-attribute",
                "username-pattern",
                "display-name",
                "group-types",
                "group-exclude",
                "default-groups",
                "guard-percent"
            ]
        );
        let e = Rules::compile(
            &cfg(
                UserSettings {
                    username_pattern: "(".into(),
                    ..Default::default()
                },
                GroupSettings::default(),
                LifecycleSettings::default(),
            ),
            &[],
        )
        .unwrap_err();
        assert!(
            e[0].message
                .starts_with("`(` is not a valid regular expression"),
            "{}",
            e[0].message
        );
    }
}
