//! The settings compiled for one call: templates parsed and regexes built once, every
//! invalid setting reported with its WIT path (`users.username.pattern`).

use crate::config::{ConnectorConfig, FieldError};
use crate::settings::{FieldMapping, GroupSettings, LifecycleSettings, NoMatch, UserSettings};
use regex::Regex;
use std::collections::HashSet;

/// One piece of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Text as written.
    Text(String),
    /// Profile attributes: the first whose value is not empty (`{a|b}`).
    Attr(Vec<String>),
}

/// A parsed `{attribute}` template.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Template(Vec<Part>);

fn attr_name_ok(a: &str) -> bool {
    !a.is_empty()
        && a.len() <= 100
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// Why `name` is not an Okta profile attribute name, if it is not one.
pub fn check_attribute_name(name: &str) -> Result<(), String> {
    if attr_name_ok(name) {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not an Okta profile attribute name (letters, digits, `_` and `.`)",
            quoted(name)
        ))
    }
}

/// At most 200 characters of a value, for messages.
pub fn quoted(value: &str) -> String {
    const MAX: usize = 200;
    match value.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &value[..end]),
        None => value.to_string(),
    }
}

impl Template {
    /// Parse `t`: text and `{attribute}` or `{a|b|…}` parts; at least one attribute.
    pub fn parse(t: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = t;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err(format!("`}}` without `{{` in `{}`", quoted(t)));
            }
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("`{{` without `}}` in `{}`", quoted(t)))?
                + open;
            let names: Vec<String> = rest[open + 1..close]
                .split('|')
                .map(|n| n.trim().to_string())
                .collect();
            if let Some(bad) = names.iter().find(|n| !attr_name_ok(n)) {
                return Err(format!(
                    "`{{{}}}` is not an Okta profile attribute (letters, digits, `_` and `.`; `|` between fallbacks)",
                    quoted(bad)
                ));
            }
            parts.push(Part::Attr(names));
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        if !parts.iter().any(|p| matches!(p, Part::Attr(_))) {
            return Err(format!(
                "`{}` names no attribute; use e.g. {{firstName}} {{lastName}}",
                quoted(t)
            ));
        }
        Ok(Template(parts))
    }

    /// The template filled in: each attribute part takes the first of its attributes
    /// whose value (trimmed) is not empty; the result is trimmed.
    pub fn render(&self, lookup: &impl Fn(&str) -> Option<String>) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Attr(names) => {
                    if let Some(v) = names
                        .iter()
                        .filter_map(|n| lookup(n))
                        .map(|v| v.trim().to_string())
                        .find(|v| !v.is_empty())
                    {
                        out.push_str(&v);
                    }
                }
            }
        }
        out.trim().to_string()
    }

    /// The attributes the template names, for messages (`login`, `a or b`).
    pub fn names(&self) -> String {
        let names: Vec<&str> = self
            .0
            .iter()
            .filter_map(|p| match p {
                Part::Attr(n) => Some(n.iter().map(String::as_str)),
                Part::Text(_) => None,
            })
            .flatten()
            .collect();
        names.join(" or ")
    }
}

/// What a field mapping gives for one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mapped {
    /// The field's value.
    Set(String),
    /// Leave an existing user's field as it is; a new user gets this value.
    Keep(String),
    /// Skip the user.
    Skip,
}

/// A compiled [`FieldMapping`].
#[derive(Clone, Debug)]
pub struct FieldRule {
    template: Template,
    pattern: Option<Regex>,
    replacement: String,
    on_no_match: NoMatch,
}

impl FieldRule {
    /// Compile `m`, naming its fields under `path` (e.g. `users.username`).
    fn compile(path: &str, m: &FieldMapping, errors: &mut Vec<FieldError>) -> FieldRule {
        let template = Template::parse(&m.template).unwrap_or_else(|e| {
            errors.push(FieldError::new(&format!("{path}.template"), e));
            Template::default()
        });
        let pattern = (!m.pattern.is_empty())
            .then(|| regex(&format!("{path}.pattern"), &m.pattern, errors))
            .flatten();
        FieldRule {
            template,
            pattern,
            replacement: m.replacement.clone(),
            on_no_match: m.on_no_match,
        }
    }

    /// The template alone, compiled (for built-in defaults).
    fn of_template(template: Template) -> FieldRule {
        FieldRule {
            template,
            pattern: None,
            replacement: String::new(),
            on_no_match: NoMatch::UseRaw,
        }
    }

    /// What no match (or an empty template) means.
    pub fn on_no_match(&self) -> NoMatch {
        self.on_no_match
    }

    /// The attributes the template names, for messages.
    pub fn names(&self) -> String {
        self.template.names()
    }

    /// The template alone, filled in (before the pattern).
    pub fn render(&self, lookup: &impl Fn(&str) -> Option<String>) -> String {
        self.template.render(lookup)
    }

    /// The value for a profile (`lookup` gives attribute values): the template, then
    /// the pattern's replacement when it matches, else the no-match policy.
    pub fn map(&self, lookup: &impl Fn(&str) -> Option<String>) -> Mapped {
        let raw = self.render(lookup);
        let matched = match &self.pattern {
            _ if raw.is_empty() => None,
            None => Some(raw.clone()),
            Some(re) if re.is_match(&raw) => Some(
                re.replace(&raw, self.replacement.as_str())
                    .trim()
                    .to_string(),
            ),
            Some(_) => None,
        };
        match (matched, self.on_no_match) {
            (Some(v), _) => Mapped::Set(v),
            (None, NoMatch::UseRaw) => Mapped::Set(raw),
            (None, NoMatch::Leave) => Mapped::Keep(raw),
            (None, NoMatch::Clear) => Mapped::Set(String::new()),
            (None, NoMatch::SkipUser) => Mapped::Skip,
        }
    }
}

/// The settings compiled for one call.
#[derive(Clone, Debug)]
pub struct Rules {
    /// User settings (flags; the mappings are compiled below).
    pub users: UserSettings,
    /// The username mapping.
    pub username: FieldRule,
    /// The display-name mapping.
    pub display_name: FieldRule,
    /// The email mapping.
    pub email: FieldRule,
    /// Template-made attributes, by product attribute name.
    pub attributes: Vec<(String, FieldRule)>,
    /// Group settings.
    pub groups: GroupSettings,
    /// Include regexes.
    pub include: Vec<Regex>,
    /// Exclude regexes.
    pub exclude: Vec<Regex>,
    /// Group-name regex.
    pub group_re: Option<Regex>,
    /// Lowercase names of the required Okta groups.
    pub required: HashSet<String>,
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
                format!(
                    "`{}` is not a valid regular expression: {why}",
                    quoted(pattern)
                ),
            ));
            None
        }
    }
}

fn group_name_ok(field: &str, name: &str, errors: &mut Vec<FieldError>) {
    if name.trim().is_empty() || name.len() > 255 || name.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            format!("`{}` is not a usable group name", quoted(name)),
        ));
    }
}

/// A refusal of a setting this plugin version does not build.
pub fn unsupported(field: &str, what: &str) -> FieldError {
    FieldError::new(
        field,
        format!("{what} is not supported by this plugin version yet"),
    )
}

/// The user mappings, compiled; `clear` is refused for the username.
fn compile_users(
    users: &UserSettings,
    errors: &mut Vec<FieldError>,
) -> (FieldRule, FieldRule, FieldRule, Vec<(String, FieldRule)>) {
    let username = FieldRule::compile("users.username", &users.username, errors);
    if users.username.on_no_match == NoMatch::Clear {
        errors.push(FieldError::new(
            "users.username.on-no-match",
            "`clear` would leave a user without a username; use use-raw, leave or skip-user",
        ));
    }
    let display = FieldRule::compile("users.display-name", &users.display_name, errors);
    let email = FieldRule::compile("users.email", &users.email, errors);
    let mut attributes: Vec<(String, FieldRule)> = Vec::new();
    for (i, a) in users.attributes.iter().enumerate() {
        let path = format!("users.attributes[{i}]");
        let name = a.name.trim();
        if let Err(e) = check_attribute_name(name) {
            errors.push(FieldError::new(&format!("{path}.name"), e));
        } else if attributes.iter().any(|(n, _)| n == name) {
            errors.push(FieldError::new(
                &format!("{path}.name"),
                format!("the attribute `{name}` is mapped twice"),
            ));
        }
        let rule = FieldRule::compile(&format!("{path}.mapping"), &a.mapping, errors);
        attributes.push((name.to_string(), rule));
    }
    (username, display, email, attributes)
}

/// The group filters and name mapping, compiled: (include, exclude, name regex).
fn compile_groups(
    groups: &GroupSettings,
    errors: &mut Vec<FieldError>,
) -> (Vec<Regex>, Vec<Regex>, Option<Regex>) {
    for t in &groups.types {
        if !["OKTA_GROUP", "APP_GROUP"].contains(&t.trim()) {
            errors.push(FieldError::new(
                "groups.types",
                format!("`{}` is not a group type to choose; use OKTA_GROUP or APP_GROUP (Everyone, BUILT_IN, has its own setting: include-built-in-groups)", quoted(t)),
            ));
        }
    }
    let include = groups
        .include_patterns
        .iter()
        .filter_map(|p| regex("groups.include-patterns", p, errors))
        .collect();
    let exclude = groups
        .exclude_patterns
        .iter()
        .filter_map(|p| regex("groups.exclude-patterns", p, errors))
        .collect();
    let group_re = (!groups.pattern.is_empty())
        .then(|| regex("groups.pattern", &groups.pattern, errors))
        .flatten();
    for r in &groups.required {
        group_name_ok("groups.required", r, errors);
    }
    (include, exclude, group_re)
}

/// The lifecycle settings checked: ranges and group names.
fn check_lifecycle(lifecycle: &LifecycleSettings, errors: &mut Vec<FieldError>) {
    for (field, value, max) in [
        ("lifecycle.guard-percent", lifecycle.guard_percent, 100),
        (
            "lifecycle.guard-min-users",
            lifecycle.guard_min_users,
            1_000_000,
        ),
    ] {
        if value > max {
            errors.push(FieldError::new(
                field,
                format!("{value} is out of range; use 0 to {max}"),
            ));
        }
    }
    if let Some(policy) = &lifecycle.inactivity {
        if !(1..=MAX_INACTIVITY_DAYS).contains(&policy.days) {
            errors.push(FieldError::new(
                "lifecycle.inactivity.days",
                format!(
                    "{} days is out of range; use 1 to {MAX_INACTIVITY_DAYS}",
                    policy.days
                ),
            ));
        }
        for g in &policy.exempt_groups {
            group_name_ok("lifecycle.inactivity.exempt-groups", g, errors);
        }
    }
}

/// Longest inactivity a policy may name: ten years.
pub const MAX_INACTIVITY_DAYS: u32 = 3_650;

impl Rules {
    /// Validate a config's settings and compile them; `product_defaults` are the
    /// product's default groups, used when the admin set none.
    pub fn compile(
        cfg: &ConnectorConfig,
        product_defaults: &[&str],
    ) -> Result<Rules, Vec<FieldError>> {
        let mut errors = Vec::new();
        let (username, display_name, email, attributes) = compile_users(&cfg.users, &mut errors);
        let (include, exclude, group_re) = compile_groups(&cfg.groups, &mut errors);
        let default_groups: Vec<String> = match &cfg.groups.default_groups {
            Some(list) => list.iter().map(|g| g.trim().to_string()).collect(),
            None => product_defaults.iter().map(|g| g.to_string()).collect(),
        };
        for g in &default_groups {
            group_name_ok("groups.default-groups", g, &mut errors);
        }
        check_lifecycle(&cfg.lifecycle, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Rules {
            users: cfg.users.clone(),
            username,
            display_name,
            email,
            attributes,
            groups: cfg.groups.clone(),
            include,
            exclude,
            group_re,
            required: cfg
                .groups
                .required
                .iter()
                .map(|r| r.trim().to_lowercase())
                .collect(),
            default_groups,
            lifecycle: cfg.lifecycle.clone(),
            include_built_in: cfg.include_built_in_groups,
        })
    }

    /// The fallback of an empty display name: Okta's `displayName`.
    pub fn display_fallback() -> FieldRule {
        FieldRule::of_template(Template(vec![Part::Attr(vec!["displayName".into()])]))
    }

    /// Whether an Okta group (by its name) is one of the required groups.
    pub fn is_required(&self, okta_name: &str) -> bool {
        self.required.contains(&okta_name.trim().to_lowercase())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::AttributeMapping;

    fn rules_of(users: UserSettings, groups: GroupSettings) -> Result<Rules, Vec<FieldError>> {
        let cfg = ConnectorConfig {
            users,
            groups,
            ..Default::default()
        };
        Rules::compile(&cfg, &["jira-software-users"])
    }

    fn profile(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        |a| {
            pairs
                .iter()
                .find(|(k, _)| *k == a)
                .map(|(_, v)| v.to_string())
        }
    }

    fn mapping(template: &str, pattern: &str, replacement: &str, on: NoMatch) -> FieldMapping {
        FieldMapping {
            template: template.into(),
            pattern: pattern.into(),
            replacement: replacement.into(),
            on_no_match: on,
        }
    }

    #[test]
    fn templates_take_the_first_non_empty_fallback() {
        let t = Template::parse("{nickName|firstName} {lastName}").unwrap();
        let p = profile(&[
            ("nickName", "  "),
            ("firstName", "Ann"),
            ("lastName", "Lee"),
        ]);
        assert_eq!(t.render(&p), "Ann Lee");
        let p = profile(&[("nickName", "Annie"), ("firstName", "Ann")]);
        assert_eq!(t.render(&p), "Annie");
        assert_eq!(t.names(), "nickName or firstName or lastName");
        for (bad, needle) in [
            ("{firstName", "without"),
            ("x}", "without"),
            ("no attributes", "names no attribute"),
            ("{first name}", "not an Okta profile attribute"),
            ("{a||b}", "not an Okta profile attribute"),
        ] {
            assert!(Template::parse(bad).unwrap_err().contains(needle), "{bad}");
        }
    }

    #[test]
    fn each_no_match_policy() {
        let p = profile(&[("login", "ann@other.org")]);
        let rule = |on| {
            let mut errors = Vec::new();
            let m = mapping("{login}", "(.*)@example\\.com", "$1", on);
            let r = FieldRule::compile("f", &m, &mut errors);
            assert!(errors.is_empty());
            r
        };
        assert_eq!(
            rule(NoMatch::UseRaw).map(&p),
            Mapped::Set("ann@other.org".into())
        );
        assert_eq!(
            rule(NoMatch::Leave).map(&p),
            Mapped::Keep("ann@other.org".into())
        );
        assert_eq!(rule(NoMatch::Clear).map(&p), Mapped::Set(String::new()));
        assert_eq!(rule(NoMatch::SkipUser).map(&p), Mapped::Skip);
        let p = profile(&[("login", "ann@example.com")]);
        assert_eq!(rule(NoMatch::SkipUser).map(&p), Mapped::Set("ann".into()));
        let nothing = profile(&[]);
        assert_eq!(
            rule(NoMatch::SkipUser).map(&nothing),
            Mapped::Skip,
            "an empty template"
        );
        assert_eq!(
            rule(NoMatch::UseRaw).map(&nothing),
            Mapped::Set(String::new())
        );
    }

    #[test]
    fn group_filters_and_mapping() {
        let groups = GroupSettings {
            include_patterns: vec!["^eng".into(), "^ops".into()],
            exclude_patterns: vec!["-test$".into()],
            prefix: "okta-".into(),
            pattern: "^(eng|ops)-(.*)".into(),
            replacement: "$2".into(),
            ..Default::default()
        };
        let r = rules_of(UserSettings::default(), groups).unwrap();
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
    fn bad_settings_name_their_wit_path() {
        let users = UserSettings {
            username: mapping("{login}", "(", "", NoMatch::Clear),
            display_name: FieldMapping::template("{a"),
            attributes: vec![
                AttributeMapping {
                    name: "bad attr".into(),
                    mapping: FieldMapping::template("{title}"),
                },
                AttributeMapping {
                    name: "cost".into(),
                    mapping: mapping("{costCenter}", "[", "", NoMatch::UseRaw),
                },
            ],
            ..Default::default()
        };
        let groups = GroupSettings {
            types: vec!["WEIRD".into()],
            exclude_patterns: vec!["[".into()],
            default_groups: Some(vec![" ".into()]),
            ..Default::default()
        };
        let fields: Vec<String> = rules_of(users, groups)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "users.username.pattern",
                "users.username.on-no-match",
                "users.display-name.template",
                "users.attributes[0].name",
                "users.attributes[1].mapping.pattern",
                "groups.types",
                "groups.exclude-patterns",
                "groups.default-groups",
            ]
        );
    }
}
