//! Whom a login sync is for, checked before it reaches Okta. A login becomes a path
//! segment of `GET /api/v1/users/{login}`: `.` and `..` would make that another route
//! (the user list), and URL parsing drops tabs and line breaks, which synced
//! `xss1@exa\nmple.com` as `xss1@example.com`. So such logins are refused, naming what
//! is wrong, and never altered.

use super::FieldError;

/// Longest login taken: the product's username limit (Okta's own is 100).
pub const MAX_LOGIN: usize = 255;

/// At most this many characters of a refused input are quoted back.
const QUOTED: usize = 60;

fn refused(what: &str, value: &str, why: &str) -> FieldError {
    let (quoted, more) = super::error::cut(value, QUOTED);
    FieldError {
        field: what.into(),
        message: format!("{what} `{}`{more} {why}", quoted.escape_debug()),
    }
}

/// A login (or email) as a person typed it at sign-in.
pub fn check_login(login: &str) -> Result<(), FieldError> {
    let why = if login.is_empty() {
        "is empty"
    } else if login == "." || login == ".." {
        "is not a login (it would name another Okta route)"
    } else if login.chars().any(char::is_control) {
        "holds a control character (tab, line break or other); logins have none"
    } else if login.trim() != login {
        "has spaces around it"
    } else if login.chars().count() > MAX_LOGIN {
        "is longer than 255 characters"
    } else {
        return Ok(());
    };
    Err(refused("login", login, why))
}

/// An Okta user id (an ID token's `sub`, e.g. `00u1ab2CD3ef4GH5i6j7`): letters and
/// digits only.
pub fn check_okta_id(id: &str) -> Result<(), FieldError> {
    if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Ok(());
    }
    Err(refused(
        "oktaId",
        id,
        "is not an Okta user id (1 to 64 letters and digits)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_that_would_change_the_request_are_refused_as_typed() {
        for ok in ["ann@example.com", "Ann.Lee", "ñandú@example.com"] {
            assert_eq!(check_login(ok), Ok(()), "{ok}");
        }
        let message = |l: &str| check_login(l).unwrap_err().message;
        assert_eq!(
            message(".."),
            "login `..` is not a login (it would name another Okta route)"
        );
        assert_eq!(
            message("xss1@exa\nmple.com"),
            "login `xss1@exa\\nmple.com` holds a control character (tab, line break or other); logins have none"
        );
        assert!(message("a\tb").contains("control character"));
        assert_eq!(message(" ann"), "login ` ann` has spaces around it");
        assert_eq!(message(""), "login `` is empty");
        assert_eq!(
            message(&"a".repeat(300)),
            format!("login `{}`… is longer than 255 characters", "a".repeat(60)),
            "only the start is quoted"
        );
        assert_eq!(check_login(&"a".repeat(255)), Ok(()));
        assert_eq!(check_login(".").unwrap_err().field, "login");
    }

    #[test]
    fn okta_ids_are_letters_and_digits() {
        assert_eq!(check_okta_id("00u1ab2CD3ef4GH5i6j7"), Ok(()));
        for bad in ["", "..", "00u/../groups", "00u 1", &"0".repeat(65)] {
            let e = check_okta_id(bad).unwrap_err();
            assert_eq!(e.field, "oktaId", "{bad}");
        }
    }
}
