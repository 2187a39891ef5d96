//! Licence seats as the product counts them: each username whose effective user (the one
//! of the earliest directory holding it) is active and a member of an access group of
//! its own directory takes one seat.

use super::{Context, DbError};
use rusqlite::Connection;

/// Seats taken now, over every directory, by members of `access_groups`.
pub fn used(conn: &Connection, access_groups: &[&str]) -> Result<u32, DbError> {
    if access_groups.is_empty() {
        return Ok(0);
    }
    let placeholders = vec!["?"; access_groups.len()].join(", ");
    let sql = format!(
        "SELECT COUNT(DISTINCT u.key) FROM groups g \
         JOIN memberships m ON m.group_id = g.id \
         JOIN users u ON u.key = m.user_key AND u.directory_id = g.directory_id \
         JOIN directories d ON d.id = u.directory_id \
         WHERE g.name COLLATE NOCASE IN ({placeholders}) AND u.active = 1 \
         AND NOT EXISTS (SELECT 1 FROM users o JOIN directories od ON od.id = o.directory_id \
             WHERE o.username = u.username COLLATE NOCASE AND o.key <> u.key \
             AND (od.position < d.position OR (od.position = d.position AND od.id < d.id)))"
    );
    let n: i64 = conn
        .prepare_cached(&sql)
        .ctx("counting licence seats")?
        .query_row(rusqlite::params_from_iter(access_groups), |r| r.get(0))
        .ctx("counting licence seats")?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::product::db::{Db, directory};

    fn add_user(conn: &Connection, key: &str, dir: i64, name: &str, active: bool) {
        conn.execute(
            "INSERT INTO users (key, directory_id, username, display_name, email, active) VALUES (?1, ?2, ?3, ?3, '', ?4)",
            rusqlite::params![key, dir, name, active],
        )
        .unwrap();
    }

    fn add_group(conn: &Connection, dir: i64, name: &str) -> i64 {
        conn.execute(
            "INSERT INTO groups (directory_id, name) VALUES (?1, ?2)",
            rusqlite::params![dir, name],
        )
        .unwrap();
        conn.last_insert_rowid()
    }

    fn join(conn: &Connection, group: i64, key: &str) {
        conn.execute(
            "INSERT INTO memberships (group_id, user_key) VALUES (?1, ?2)",
            rusqlite::params![group, key],
        )
        .unwrap();
    }

    #[test]
    fn counts_active_effective_members_of_their_own_directorys_access_groups() {
        let db = Db::in_memory().unwrap();
        let conn = db.lock();
        let okta = directory::create_directory(&conn, "Okta", "okta").unwrap();
        let internal_access = add_group(&conn, 1, "JIRA-Software-Users");
        let okta_access = add_group(&conn, okta, "jira-software-users");
        let other = add_group(&conn, okta, "developers");
        // Counted: an internal member, an Okta member.
        add_user(&conn, "I1", 1, "ann", true);
        join(&conn, internal_access, "I1");
        add_user(&conn, "O1", okta, "bob", true);
        join(&conn, okta_access, "O1");
        // Not counted: inactive; in another group only; hidden by the internal `Ann`;
        // a member of another directory's access group.
        add_user(&conn, "O2", okta, "cat", false);
        join(&conn, okta_access, "O2");
        add_user(&conn, "O3", okta, "dan", true);
        join(&conn, other, "O3");
        add_user(&conn, "O4", okta, "ANN", true);
        join(&conn, okta_access, "O4");
        add_user(&conn, "O5", okta, "eve", true);
        join(&conn, internal_access, "O5");
        assert_eq!(used(&conn, &["jira-software-users"]).unwrap(), 2);
        assert_eq!(
            used(&conn, &["developers", "jira-software-users"]).unwrap(),
            3
        );
        assert_eq!(used(&conn, &[]).unwrap(), 0);
        // The hidden user counts once the internal one is gone.
        conn.execute("DELETE FROM memberships WHERE user_key = 'I1'", [])
            .unwrap();
        conn.execute("DELETE FROM users WHERE key = 'I1'", [])
            .unwrap();
        assert_eq!(used(&conn, &["jira-software-users"]).unwrap(), 2);
    }
}
