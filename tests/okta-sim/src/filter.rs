//! Okta `filter` / `search` expressions: parsing, per-endpoint validation and
//! evaluation against users and groups.
//!
//! Grammar (operators and `and`/`or` case-insensitive, precedence
//! comparison > parentheses > `and` > `or`):
//!
//! ```text
//! expr   := term ("or" term)*
//! term   := factor ("and" factor)*
//! factor := "(" expr ")" | attr op value | attr "pr"
//! op     := eq | ne | gt | ge | lt | le | sw | co | ew
//! value  := JSON string | number | true | false | null
//! ```

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::dates;
use crate::org::{OktaGroup, OktaUser};
use crate::render::USER_TYPE_ID;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// equals
    Eq,
    /// not equals
    Ne,
    /// greater than
    Gt,
    /// greater than or equal
    Ge,
    /// less than
    Lt,
    /// less than or equal
    Le,
    /// starts with
    Sw,
    /// contains
    Co,
    /// ends with
    Ew,
    /// present (not null)
    Pr,
}

impl Op {
    fn parse(word: &str) -> Option<Op> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            "sw" => Op::Sw,
            "co" => Op::Co,
            "ew" => Op::Ew,
            "pr" => Op::Pr,
            _ => return None,
        })
    }

    fn is_range(self) -> bool {
        matches!(self, Op::Gt | Op::Ge | Op::Lt | Op::Le)
    }
}

/// A literal on the right of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `"text"`
    Str(String),
    /// `42`, `1.5`
    Num(f64),
    /// `true` / `false`
    Bool(bool),
    /// `null`, and the missing value of `pr`
    Null,
}

/// A parsed expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// Both sides match.
    And(Box<Expr>, Box<Expr>),
    /// Either side matches.
    Or(Box<Expr>, Box<Expr>),
    /// `attr op value`.
    Cmp {
        /// Attribute path, e.g. `status`, `profile.login`.
        attr: String,
        /// Operator.
        op: Op,
        /// Right-hand side ([`Literal::Null`] for `pr`).
        value: Literal,
    },
}

/// Why an expression was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError(pub String);

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Open,
    Close,
    Str(String),
    Word(String),
}

fn tokenize(s: &str) -> Result<Vec<Token>, FilterError> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                out.push(Token::Open);
                i += 1;
            }
            b')' => {
                out.push(Token::Close);
                i += 1;
            }
            b'"' => {
                let start = i;
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return Err(FilterError("unterminated string".into())),
                        Some(b'\\') => i += 2,
                        Some(b'"') => break,
                        Some(_) => i += 1,
                    }
                }
                i += 1;
                let lit: String = serde_json::from_str(&s[start..i])
                    .map_err(|e| FilterError(format!("bad string literal: {e}")))?;
                out.push(Token::Str(lit));
            }
            _ => {
                let start = i;
                while i < bytes.len() && !b" \t\n\r()\"".contains(&bytes[i]) {
                    i += 1;
                }
                out.push(Token::Word(s[start..i].to_string()));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.term()?;
        while self.peek_keyword("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.factor()?;
        while self.peek_keyword("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.factor()?));
        }
        Ok(left)
    }

    fn factor(&mut self) -> Result<Expr, FilterError> {
        match self.next() {
            Some(Token::Open) => {
                let e = self.expr()?;
                match self.next() {
                    Some(Token::Close) => Ok(e),
                    _ => Err(FilterError("missing ')'".into())),
                }
            }
            Some(Token::Word(attr)) => {
                let valid_attr = attr
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && attr
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$'));
                if !valid_attr
                    || ["and", "or", "not"]
                        .iter()
                        .any(|k| attr.eq_ignore_ascii_case(k))
                {
                    return Err(FilterError(format!("unexpected '{attr}'")));
                }
                let op = match self.next() {
                    Some(Token::Word(w)) => Op::parse(&w)
                        .ok_or_else(|| FilterError(format!("unknown operator '{w}'")))?,
                    _ => return Err(FilterError(format!("missing operator after '{attr}'"))),
                };
                if op == Op::Pr {
                    return Ok(Expr::Cmp {
                        attr,
                        op,
                        value: Literal::Null,
                    });
                }
                let value = match self.next() {
                    Some(Token::Str(s)) => Literal::Str(s),
                    Some(Token::Word(w)) => match w.as_str() {
                        "true" => Literal::Bool(true),
                        "false" => Literal::Bool(false),
                        "null" => Literal::Null,
                        _ => Literal::Num(
                            w.parse()
                                .map_err(|_| FilterError(format!("bad value '{w}'")))?,
                        ),
                    },
                    _ => return Err(FilterError(format!("missing value after '{attr}'"))),
                };
                Ok(Expr::Cmp { attr, op, value })
            }
            Some(t) => Err(FilterError(format!("unexpected {t:?}"))),
            None => Err(FilterError("unexpected end of expression".into())),
        }
    }
}

/// Parses an expression.
pub fn parse(s: &str) -> Result<Expr, FilterError> {
    let tokens = tokenize(s)?;
    if tokens.is_empty() {
        return Err(FilterError("empty expression".into()));
    }
    let mut p = Parser { tokens, pos: 0 };
    let e = p.expr()?;
    if p.pos < p.tokens.len() {
        return Err(FilterError(format!("unexpected {:?}", p.tokens[p.pos])));
    }
    Ok(e)
}

/// Attributes holding timestamps; their literals must be ISO 8601 strings.
const DATE_ATTRS: &[&str] = &[
    "created",
    "activated",
    "statusChanged",
    "lastLogin",
    "lastUpdated",
    "passwordChanged",
    "lastMembershipUpdated",
];

/// Which endpoint and parameter an expression is used with; decides what is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// `/api/v1/users?filter=`: `status`, `id`, `profile.login|email|firstName|lastName`
    /// with `eq`; `lastUpdated` with `eq|gt|ge|lt|le`. Case-sensitive.
    UsersFilter,
    /// `/api/v1/users?search=`: any attribute; `eq|sw|co|gt|ge|lt|le|pr`; values case-insensitive.
    UsersSearch,
    /// `/api/v1/groups?filter=`: `id`, `type` with `eq`; `lastUpdated`,
    /// `lastMembershipUpdated` with `eq|gt|ge|lt|le`. Case-sensitive.
    GroupsFilter,
    /// `/api/v1/groups?search=`: any attribute; `eq|sw|co|gt|ge|lt|le|pr`; values case-insensitive.
    GroupsSearch,
    /// `/api/v1/logs?filter=`: any attribute of the event (`eventType`, `target.id`,
    /// `actor.id`, `outcome.result`, …) but `published`, every operator;
    /// case-sensitive. An attribute of several targets matches when any does.
    LogsFilter,
}

impl Dialect {
    /// Whether string values compare case-insensitively.
    pub fn case_insensitive(self) -> bool {
        matches!(self, Dialect::UsersSearch | Dialect::GroupsSearch)
    }

    fn check(self, attr: &str, op: Op, value: &Literal) -> Result<(), FilterError> {
        let allowed = match self {
            Dialect::UsersFilter => match attr {
                "lastUpdated" => op == Op::Eq || op.is_range(),
                "status" | "id" | "profile.login" | "profile.email" | "profile.firstName"
                | "profile.lastName" => op == Op::Eq,
                _ => false,
            },
            Dialect::GroupsFilter => match attr {
                "lastUpdated" | "lastMembershipUpdated" => op == Op::Eq || op.is_range(),
                "id" | "type" => op == Op::Eq,
                _ => false,
            },
            Dialect::LogsFilter => attr != "published",
            Dialect::UsersSearch | Dialect::GroupsSearch => {
                !matches!(op, Op::Ne | Op::Ew)
                    && !attr.starts_with("_links")
                    && !attr.starts_with("_embedded")
            }
        };
        if !allowed {
            return Err(FilterError(format!(
                "unsupported: {attr} {}",
                format!("{op:?}").to_lowercase()
            )));
        }
        if DATE_ATTRS.contains(&attr) && op != Op::Pr {
            let ok = matches!(value, Literal::Str(s) if dates::parse(s).is_some());
            if !ok {
                return Err(FilterError(format!("{attr} needs an ISO 8601 date")));
            }
        }
        Ok(())
    }
}

/// Parses `s` and checks it against the rules of `dialect`.
pub fn parse_for(dialect: Dialect, s: &str) -> Result<Expr, FilterError> {
    let e = parse(s)?;
    e.visit(&mut |attr, op, value| dialect.check(attr, op, value))?;
    Ok(e)
}

/// The value of an attribute of a record.
#[derive(Clone, Debug)]
pub enum Attr {
    /// The record has no such attribute.
    Missing,
    /// A timestamp (`None` when null).
    Date(Option<DateTime<Utc>>),
    /// Any JSON value.
    Json(Value),
}

/// Something a filter can be evaluated against.
pub trait Record {
    /// The value of `path` (`status`, `profile.login`, …).
    fn attr(&self, path: &str) -> Attr;
}

impl Record for OktaUser {
    fn attr(&self, path: &str) -> Attr {
        match path {
            "id" => Attr::Json(Value::from(self.id.as_str())),
            "status" => Attr::Json(Value::from(self.status.as_str())),
            "created" => Attr::Date(Some(self.created)),
            "activated" => Attr::Date(self.activated),
            "statusChanged" => Attr::Date(self.status_changed),
            "lastLogin" => Attr::Date(self.last_login),
            "lastUpdated" => Attr::Date(Some(self.last_updated)),
            "passwordChanged" => Attr::Date(self.password_changed),
            "type.id" => Attr::Json(Value::from(USER_TYPE_ID)),
            _ => match path
                .strip_prefix("profile.")
                .and_then(|k| self.profile.get(k))
            {
                Some(v) => Attr::Json(v.clone()),
                None => Attr::Missing,
            },
        }
    }
}

impl Record for OktaGroup {
    fn attr(&self, path: &str) -> Attr {
        match path {
            "id" => Attr::Json(Value::from(self.id.as_str())),
            "type" => Attr::Json(Value::from(self.group_type.as_str())),
            "created" => Attr::Date(Some(self.created)),
            "lastUpdated" => Attr::Date(Some(self.last_updated)),
            "lastMembershipUpdated" => Attr::Date(Some(self.last_membership_updated)),
            "profile.name" => Attr::Json(Value::from(self.name.as_str())),
            "profile.description" => {
                Attr::Json(self.description.as_deref().map_or(Value::Null, Value::from))
            }
            _ => Attr::Missing,
        }
    }
}

impl Expr {
    fn visit(
        &self,
        f: &mut dyn FnMut(&str, Op, &Literal) -> Result<(), FilterError>,
    ) -> Result<(), FilterError> {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.visit(f)?;
                b.visit(f)
            }
            Expr::Cmp { attr, op, value } => f(attr, *op, value),
        }
    }

    /// Whether `record` matches; `case_insensitive` folds string values.
    pub fn matches<R: Record + ?Sized>(&self, record: &R, case_insensitive: bool) -> bool {
        match self {
            Expr::And(a, b) => {
                a.matches(record, case_insensitive) && b.matches(record, case_insensitive)
            }
            Expr::Or(a, b) => {
                a.matches(record, case_insensitive) || b.matches(record, case_insensitive)
            }
            Expr::Cmp { attr, op, value } => {
                compare(&record.attr(attr), *op, value, case_insensitive)
            }
        }
    }
}

fn ordering_holds(op: Op, ord: Ordering) -> bool {
    match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        _ => false,
    }
}

fn compare(attr: &Attr, op: Op, lit: &Literal, ci: bool) -> bool {
    match attr {
        Attr::Missing => false,
        Attr::Date(None) => false,
        Attr::Date(Some(t)) => {
            if op == Op::Pr {
                return true;
            }
            let Literal::Str(s) = lit else { return false };
            let Some(l) = dates::parse(s) else {
                return false;
            };
            // The API shows milliseconds; compare at that precision.
            ordering_holds(op, t.timestamp_millis().cmp(&l.timestamp_millis()))
        }
        Attr::Json(v) => compare_json(v, op, lit, ci),
    }
}

fn compare_json(v: &Value, op: Op, lit: &Literal, ci: bool) -> bool {
    if op == Op::Pr {
        return !v.is_null();
    }
    match (v, lit) {
        (Value::Array(items), _) => items.iter().any(|i| compare_json(i, op, lit, ci)),
        (Value::String(a), Literal::Str(b)) => {
            let (a, b) = if ci {
                (a.to_lowercase(), b.to_lowercase())
            } else {
                (a.clone(), b.clone())
            };
            match op {
                Op::Sw => a.starts_with(&b),
                Op::Co => a.contains(&b),
                Op::Ew => a.ends_with(&b),
                _ => ordering_holds(op, a.cmp(&b)),
            }
        }
        (Value::Number(a), Literal::Num(b)) => a
            .as_f64()
            .and_then(|a| a.partial_cmp(b))
            .is_some_and(|o| ordering_holds(op, o)),
        (Value::Number(a), Literal::Str(b)) => match (a.as_f64(), b.parse::<f64>().ok()) {
            (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(|o| ordering_holds(op, o)),
            _ => false,
        },
        (Value::Bool(a), Literal::Bool(b)) => ordering_holds(op, a.cmp(b)),
        (Value::Null, Literal::Null) => op == Op::Eq,
        _ => op == Op::Ne,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::Org;

    fn cmp(attr: &str, op: Op, v: &str) -> Expr {
        Expr::Cmp {
            attr: attr.into(),
            op,
            value: Literal::Str(v.into()),
        }
    }

    #[test]
    fn parses_precedence_and_parentheses() {
        let e = parse(
            r#"status eq "A" or status eq "B" and lastUpdated gt "2020-01-01T00:00:00.000Z""#,
        )
        .unwrap();
        assert_eq!(
            e,
            Expr::Or(
                Box::new(cmp("status", Op::Eq, "A")),
                Box::new(Expr::And(
                    Box::new(cmp("status", Op::Eq, "B")),
                    Box::new(cmp("lastUpdated", Op::Gt, "2020-01-01T00:00:00.000Z"))
                ))
            )
        );
        let e = parse(r#"(status EQ "A" OR status eq "B") AND profile.x pr"#).unwrap();
        assert_eq!(
            e,
            Expr::And(
                Box::new(Expr::Or(
                    Box::new(cmp("status", Op::Eq, "A")),
                    Box::new(cmp("status", Op::Eq, "B"))
                )),
                Box::new(Expr::Cmp {
                    attr: "profile.x".into(),
                    op: Op::Pr,
                    value: Literal::Null
                })
            )
        );
        assert_eq!(
            parse(r#"profile.n eq 5 and profile.b eq true"#).unwrap(),
            Expr::And(
                Box::new(Expr::Cmp {
                    attr: "profile.n".into(),
                    op: Op::Eq,
                    value: Literal::Num(5.0)
                }),
                Box::new(Expr::Cmp {
                    attr: "profile.b".into(),
                    op: Op::Eq,
                    value: Literal::Bool(true)
                })
            )
        );
        assert_eq!(
            parse(r#"profile.lastName eq "O\"Brien""#).unwrap(),
            cmp("profile.lastName", Op::Eq, "O\"Brien")
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "status",
            "status eq",
            r#"status eq "A" and"#,
            r#"status foo "A""#,
            r#"(status eq "A""#,
            r#"status eq "A")"#,
            r#"status eq "A"#,
            r#"status eq ACTIVE"#,
            r#"and eq "x""#,
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dialect_rules() {
        assert!(parse_for(Dialect::UsersFilter, r#"status eq "ACTIVE""#).is_ok());
        assert!(
            parse_for(
                Dialect::UsersFilter,
                r#"lastUpdated ge "2020-01-01T00:00:00.000Z" and (status eq "A" or status eq "B")"#
            )
            .is_ok()
        );
        assert!(parse_for(Dialect::UsersFilter, r#"profile.department eq "IT""#).is_err());
        assert!(parse_for(Dialect::UsersFilter, r#"status gt "A""#).is_err());
        assert!(parse_for(Dialect::UsersFilter, r#"lastUpdated gt "yesterday""#).is_err());
        assert!(parse_for(Dialect::UsersSearch, r#"profile.department eq "IT""#).is_ok());
        assert!(parse_for(Dialect::UsersSearch, r#"status ne "ACTIVE""#).is_err());
        assert!(parse_for(Dialect::GroupsFilter, r#"type eq "OKTA_GROUP""#).is_ok());
        assert!(
            parse_for(
                Dialect::GroupsFilter,
                r#"lastMembershipUpdated gt "2020-01-01T00:00:00Z""#
            )
            .is_ok()
        );
        assert!(parse_for(Dialect::GroupsFilter, r#"profile.name eq "x""#).is_err());
    }

    #[test]
    fn evaluates_against_users_and_groups() {
        let mut org = Org::default();
        let id = org.add_user("Ann.Lee@example.com", "Ann", "Lee", "ACTIVE");
        org.set_profile(&id, "department", Value::from("Engineering"));
        org.set_profile(&id, "level", Value::from(3));
        let u = org.user(&id).unwrap().clone();
        let m = |s: &str, ci| parse(s).unwrap().matches(&u, ci);
        assert!(m(r#"status eq "ACTIVE""#, false));
        assert!(!m(r#"status eq "active""#, false));
        assert!(m(r#"status eq "active""#, true));
        assert!(m(r#"lastUpdated gt "2020-01-01T00:00:00.000Z""#, false));
        assert!(!m(r#"lastUpdated lt "2020-01-01T00:00:00.000Z""#, false));
        let exact = dates::format(&u.last_updated);
        assert!(m(&format!(r#"lastUpdated eq "{exact}""#), false));
        assert!(!m(&format!(r#"lastUpdated gt "{exact}""#), false));
        assert!(m(&format!(r#"lastUpdated ge "{exact}""#), false));
        assert!(m(r#"profile.department sw "eng""#, true));
        assert!(m(r#"profile.login co "lee@""#, true));
        assert!(m(r#"profile.level ge 3 and profile.level lt 4"#, false));
        assert!(m(
            r#"profile.mobilePhone pr or profile.department pr"#,
            false
        ));
        assert!(!m(r#"profile.nothing eq "x""#, false));
        assert!(m(
            r#"status eq "X" or (status eq "ACTIVE" and type.id pr)"#,
            false
        ));
        assert!(!m(r#"activated lt "2000-01-01T00:00:00Z""#, false));

        let g = org.everyone().unwrap().clone();
        assert!(parse(r#"type eq "BUILT_IN""#).unwrap().matches(&g, false));
        assert!(
            parse(r#"profile.name sw "every""#)
                .unwrap()
                .matches(&g, true)
        );
        assert!(!parse(r#"type eq "OKTA_GROUP""#).unwrap().matches(&g, false));
    }
}
