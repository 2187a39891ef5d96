//! Shared by the command-line tests: a simulator serving `acme.okta.com`, a temp dir with
//! a token file, and `usersync` run in process against a database in that dir.

use okta_sim::{GenSpec, Org, SimConfig, Simulator};

/// The simulator and the temp dir of one test.
pub struct Cli {
    /// Serves `acme.okta.com` (through `--resolve`).
    pub sim: Simulator,
    /// Holds `token` (`test-token`) and the databases.
    pub dir: tempfile::TempDir,
}

/// What a command printed, and its exit code.
pub struct Out {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Cli {
    /// A simulator serving an org generated from `spec`.
    pub fn new(spec: GenSpec) -> Cli {
        let cli = Cli {
            sim: Simulator::start(Org::generate(&spec), SimConfig::default()),
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::write(cli.dir.path().join("token"), "test-token\n").unwrap();
        cli
    }

    /// The path of `name` in the temp dir.
    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// Run `args` against database `db` (a file name in the temp dir); `TOKEN_FILE` in an
    /// argument is the token file's path.
    pub fn run_on(&self, db: &str, args: &[&str]) -> Out {
        let mut argv: Vec<String> = vec![
            "usersync".into(),
            "--db".into(),
            self.path(db),
            "--resolve".into(),
            format!("acme.okta.com={}", self.sim.addr()),
        ];
        argv.extend(
            args.iter()
                .map(|s| s.replace("TOKEN_FILE", &self.path("token"))),
        );
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = usersync::surface::cli::run(argv, &mut out, &mut err);
        Out {
            code,
            stdout: String::from_utf8(out).unwrap(),
            stderr: String::from_utf8(err).unwrap(),
        }
    }

    /// Run `args` against the database `u.db`.
    pub fn run(&self, args: &[&str]) -> Out {
        self.run_on("u.db", args)
    }

    /// The standard output of `args` on `u.db`, which must succeed.
    pub fn ok(&self, args: &[&str]) -> String {
        self.ok_on("u.db", args)
    }

    /// The standard output of `args` on `db`, which must succeed.
    pub fn ok_on(&self, db: &str, args: &[&str]) -> String {
        let o = self.run_on(db, args);
        assert_eq!(o.code, 0, "{args:?}: {}", o.stderr);
        o.stdout
    }
}
