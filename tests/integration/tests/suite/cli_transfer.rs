//! `usersync export` and `usersync import`, in process: the token is redacted unless
//! asked for, an import creates or updates connectors, and a refused import (a redacted
//! connector that does not exist yet, bad settings, not an export) changes nothing.

use super::cli_support::Cli;
use okta_sim::GenSpec;

/// The org of these tests.
fn cli() -> Cli {
    Cli::new(GenSpec {
        users: 20,
        groups: 2,
        memberships_per_user: 1,
        seed: 5,
    })
}

impl Cli {
    fn create(&self, db: &str, name: &str) {
        self.ok_on(
            db,
            &[
                "connector",
                "create",
                "--name",
                name,
                "--domain",
                "acme.okta.com",
                "--token-file",
                "TOKEN_FILE",
                "--schedule",
                "every 30 minutes",
                "--schedule-enabled",
                "true",
                "--attribute",
                "department,title",
            ],
        );
    }
}

#[test]
fn export_redacts_the_token_unless_asked() {
    let cli = cli();
    cli.create("a.db", "Okta");
    let out = cli.ok_on("a.db", &["export"]);
    assert!(!out.contains("test-token"), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["usersyncExport"], 4);
    assert_eq!(v["connectors"][0]["lifecycle"]["missingUsers"], "disable");
    assert_eq!(v["secretsIncluded"], false);
    let c = &v["connectors"][0];
    assert_eq!(c["name"], "Okta");
    assert_eq!(c["oktaDomain"], "acme.okta.com");
    assert_eq!(c["apiToken"], "********");
    assert_eq!(c["schedule"], "0 */30 * * * *");
    assert_eq!(c["scheduleEnabled"], true);
    assert_eq!(
        c["userAttributes"],
        serde_json::json!(["department", "title"])
    );

    let out = cli.ok_on("a.db", &["export", "--include-secrets"]);
    assert!(out.contains("\"apiToken\": \"test-token\""), "{out}");

    // To a file, readable by its owner only.
    let file = cli.path("export.json");
    assert_eq!(
        cli.ok_on("a.db", &["export", "--include-secrets", "-o", &file]),
        ""
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("test-token"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn import_creates_and_updates_connectors() {
    let cli = cli();
    cli.create("a.db", "Okta");
    cli.create("a.db", "Second");
    let full = cli.path("full.json");
    cli.ok_on("a.db", &["export", "--include-secrets", "-o", &full]);

    // Into an empty database: both created, with their tokens (the connection works).
    let out = cli.ok_on("b.db", &["import", &full]);
    assert_eq!(
        out,
        "Imported 2 connectors: created Okta, Second; updated none.\n"
    );
    let test = cli.ok_on("b.db", &["connector", "test", "Second"]);
    assert!(
        test.starts_with("Connection to https://acme.okta.com works"),
        "{test}"
    );
    let show = cli.ok_on("b.db", &["--json", "connector", "show", "Okta"]);
    let v: serde_json::Value = serde_json::from_str(&show).unwrap();
    assert_eq!(v["schedule"], "0 */30 * * * *");
    assert_eq!(v["userAttributes"][1], "title");

    // A redacted export updates the existing connectors and keeps their tokens.
    cli.ok_on(
        "a.db",
        &["connector", "edit", "Okta", "--schedule", "daily at 02:30"],
    );
    let redacted = cli.path("redacted.json");
    cli.ok_on("a.db", &["export", "-o", &redacted]);
    let out = cli.ok_on("b.db", &["--json", "import", &redacted]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["updated"], serde_json::json!(["Okta", "Second"]));
    let show = cli.ok_on("b.db", &["--json", "connector", "show", "Okta"]);
    assert!(show.contains("\"schedule\": \"0 30 2 * * *\""), "{show}");
    assert!(
        cli.ok_on("b.db", &["connector", "test", "Okta"])
            .starts_with("Connection to")
    );
}

#[test]
fn a_refused_import_changes_nothing() {
    let cli = cli();
    cli.create("a.db", "Okta");
    let redacted = cli.path("redacted.json");
    cli.ok_on("a.db", &["export", "-o", &redacted]);

    // A redacted connector that does not exist yet: refused, naming it.
    let o = cli.run_on("c.db", &["import", &redacted]);
    assert_eq!(o.code, 2);
    assert_eq!(
        o.stderr,
        "error: connector `Okta` does not exist yet and its API token is redacted in the import; export with secrets included or create the connector first; nothing was imported\n"
    );
    assert!(cli.ok_on("c.db", &["connector", "list"]).lines().count() == 1);

    // One bad connector among good ones: nothing is imported.
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&redacted).unwrap()).unwrap();
    doc["connectors"][0]["schedule"] = "every 2 hours".into();
    let mut bad = doc["connectors"][0].clone();
    bad["name"] = "Bad".into();
    bad["apiToken"] = "test-token".into();
    bad["schedule"] = "0 61 * * * ?".into();
    doc["connectors"].as_array_mut().unwrap().push(bad);
    let file = cli.path("bad.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let o = cli.run_on("a.db", &["import", &file]);
    assert_eq!(o.code, 2);
    assert_eq!(
        o.stderr,
        "error: connector `Bad`: invalid connector settings: schedule: the minutes field `61` is not valid; nothing was imported\n"
    );
    let show = cli.ok_on("a.db", &["connector", "show", "Okta"]);
    assert!(show.contains("0 */30 * * * *"), "unchanged: {show}");
    assert_eq!(cli.run_on("a.db", &["connector", "show", "Bad"]).code, 3);

    // Not an export; not a file.
    std::fs::write(cli.path("x.json"), "{\"hello\": 1}").unwrap();
    let o = cli.run_on("a.db", &["import", &cli.path("x.json")]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr
            .starts_with("error: the import is not a usersync export: "),
        "{}",
        o.stderr
    );
    let o = cli.run_on("a.db", &["import", &cli.path("missing.json")]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.starts_with("error: cannot read "), "{}", o.stderr);
}

#[test]
fn an_export_of_format_one_imports_with_its_snake_case_sections() {
    let cli = cli();
    // As the release on WIT 0.1.0 wrote it: camelCase connectors, WIT-shaped sections.
    let doc = serde_json::json!({
        "usersyncExport": 1, "product": "Jira", "secretsIncluded": true,
        "connectors": [{
            "name": "Old", "oktaDomain": "acme.okta.com", "apiToken": "test-token",
            "denyUnknownAtLogin": true, "memberConcurrency": 6, "users": null,
            "lifecycle": {"missing_users": "Delete", "remove_memberships_of_missing": false,
                "guard_percent": 40, "guard_min_users": 9},
        }],
    });
    let file = cli.path("v1.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    assert_eq!(
        cli.ok_on("a.db", &["import", &file]),
        "Imported 1 connectors: created Old; updated none.\n"
    );
    let v: serde_json::Value =
        serde_json::from_str(&cli.ok_on("a.db", &["--json", "connector", "show", "Old"])).unwrap();
    assert_eq!(v["unknownAtLogin"], "deny");
    assert_eq!(v["memberConcurrency"], 6);
    assert_eq!(v["lifecycle"]["missingUsers"], "delete");
    assert_eq!(v["lifecycle"]["guardPercent"], 40);
    assert_eq!(
        v["users"]["username"]["template"], "{login}",
        "null: the defaults"
    );
    // A version this release does not know is refused, naming the field.
    std::fs::write(&file, r#"{"usersyncExport": 5, "connectors": []}"#).unwrap();
    let o = cli.run_on("a.db", &["import", &file]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr
            .contains("format version 5; this version reads versions 1 to 4"),
        "{}",
        o.stderr
    );
}
