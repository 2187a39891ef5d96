//! `okta-sim`: serve a generated or loaded org until Ctrl-C.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use okta_sim::{GenSpec, Org, ScopedToken, SimConfig, Simulator};

/// An Okta Management API simulator (users and groups, read-only).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 8089)]
    port: u16,
    /// Number of generated users.
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Number of generated groups (besides Everyone).
    #[arg(long, default_value_t = 50)]
    groups: usize,
    /// Group memberships per generated user.
    #[arg(long, default_value_t = 3)]
    memberships: usize,
    /// Seed of the generated org.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Serve this org JSON (as written by --write-org) instead of generating one.
    #[arg(long)]
    org: Option<std::path::PathBuf>,
    /// Write the served org as JSON to this file.
    #[arg(long)]
    write_org: Option<std::path::PathBuf>,
    /// Accepted SSWS token (repeatable; default `test-token`).
    #[arg(long = "token")]
    tokens: Vec<String>,
    /// A group-scoped token: `TOKEN=GROUP[,GROUP…]` with group ids or names (repeatable).
    #[arg(long = "scoped-token")]
    scoped_tokens: Vec<String>,
    /// Answer out-of-scope single objects with 403 E0000006 instead of 404 E0000007.
    #[arg(long)]
    out_of_scope_forbidden: bool,
    /// Origin written into Link headers and hrefs.
    #[arg(long, default_value = "https://acme.okta.com")]
    public_origin: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let org = match &args.org {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Org::from_json(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        None => Org::generate(&GenSpec {
            users: args.users,
            groups: args.groups,
            memberships_per_user: args.memberships,
            seed: args.seed,
        }),
    };
    if let Some(path) = &args.write_org {
        std::fs::write(path, org.to_json())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let mut scoped = Vec::new();
    for spec in &args.scoped_tokens {
        let (token, groups) = spec
            .split_once('=')
            .context("--scoped-token wants TOKEN=GROUP[,GROUP…]")?;
        let target_groups = groups
            .split(',')
            .map(|g| {
                org.group(g)
                    .or_else(|| org.group_by_name(g))
                    .map(|g| g.id.clone())
                    .with_context(|| format!("no group {g:?}"))
            })
            .collect::<anyhow::Result<_>>()?;
        scoped.push(ScopedToken {
            token: token.to_string(),
            target_groups,
        });
    }
    let mut config = SimConfig {
        scoped_tokens: scoped,
        public_origin: args.public_origin.clone(),
        ..SimConfig::default()
    };
    if !args.tokens.is_empty() {
        config.tokens = args.tokens.clone();
    }
    if args.out_of_scope_forbidden {
        config.out_of_scope = okta_sim::OutOfScope::Forbidden;
    }
    let (users, groups) = (org.users.len(), org.groups.len());
    let sim = Simulator::start_on(
        org,
        config.clone(),
        SocketAddr::from(([127, 0, 0, 1], args.port)),
    )
    .with_context(|| format!("binding 127.0.0.1:{}", args.port))?;
    println!("okta-sim listening on http://{}", sim.addr());
    println!(
        "{users} users, {groups} groups; tokens: {}; links use {}",
        config.tokens.join(", "),
        config.public_origin
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(tokio::signal::ctrl_c())?;
    sim.shutdown();
    Ok(())
}
