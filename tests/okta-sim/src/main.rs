//! `okta-sim`: serve a generated or loaded org until Ctrl-C.

use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use okta_sim::{
    AdminRole, EventHook, GenSpec, OAuthApp, Org, RateLimits, ScopedToken, SimConfig, Simulator,
};

/// What happens over a rate limit.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum RateMode {
    /// Answer 429 E0000047 over the limit, as Okta does.
    Enforce,
    /// Only count and report in `X-Rate-Limit-*` headers; never a 429.
    Report,
}

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
    /// An OAuth service app: `CLIENT_ID=JWKS_FILE[,OPTION…]` (repeatable). The file
    /// holds the app's public keys (a JWK set or one JWK). Options: `no-dpop` (DPoP
    /// is required by default, as for new Okta service apps), `dpop`,
    /// `scopes=okta.users.read+okta.groups.read` (the default), `no-admin`,
    /// `groups=GROUP+GROUP` (a group admin of those groups, ids or names),
    /// `rate-limit-percent=N` (default 50).
    #[arg(long = "oauth-app")]
    oauth_apps: Vec<String>,
    /// Lifetime of OAuth access tokens in seconds (Okta: 3600).
    #[arg(long, default_value_t = 3600)]
    token_lifetime: u64,
    /// On Ctrl-C, print every request served: status, method, path, the
    /// Authorization scheme and whether a DPoP proof came with it.
    #[arg(long)]
    log_requests: bool,
    /// Origin written into Link headers and hrefs, and the OIDC issuer; `auto`:
    /// `http://127.0.0.1:PORT` (what a browser on this machine reaches).
    #[arg(long, default_value = "https://acme.okta.com")]
    public_origin: String,
    /// Rate limits: `enforce` (429 over the limit) or `report` (headers only).
    #[arg(long, value_enum, default_value_t = RateMode::Report)]
    rate_limits: RateMode,
    /// Length of a rate-limit window in milliseconds (Okta: one minute).
    #[arg(long, default_value_t = 60_000)]
    window_ms: u64,
    /// The percentage of each bucket one SSWS token may use (Okta's default: 50).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100))]
    token_share: u32,
    /// An event hook, registered (and verified) once the server listens:
    /// `URL[,auth=NAME:SECRET][,events=TYPE+TYPE][,timeout-ms=N]` (repeatable;
    /// default events: all the simulator logs).
    #[arg(long = "event-hook")]
    event_hooks: Vec<String>,
    /// An OpenID Connect app: `CLIENT_ID=SECRET,redirect=URL[,redirect=URL…][,pkce|no-pkce]`
    /// (repeatable). An empty secret makes a public client. PKCE is required
    /// unless `no-pkce` (public clients always require it).
    #[arg(long = "oidc-client")]
    oidc_clients: Vec<String>,
    /// A user's sign-in password: `LOGIN=PASSWORD` (repeatable).
    #[arg(long = "user-password")]
    user_passwords: Vec<String>,
    /// The sign-in password of every other user.
    #[arg(long, default_value = okta_sim::oidc::DEFAULT_PASSWORD)]
    default_password: String,
}

impl Args {
    /// The rate limits the flags ask for (Okta's Workforce buckets; enforced, also its
    /// concurrency limit of 75 requests in flight).
    fn rate_limits(&self) -> RateLimits {
        let window = std::time::Duration::from_millis(self.window_ms.max(1));
        let base = match self.rate_limits {
            RateMode::Enforce => RateLimits::okta_defaults(window),
            RateMode::Report => RateLimits {
                window,
                ..RateLimits::default()
            },
        };
        RateLimits {
            token_share: Some(self.token_share),
            ..base
        }
    }
}

/// The OIDC settings from `--oidc-client`, `--user-password`, `--default-password`.
fn oidc_config(args: &Args) -> anyhow::Result<okta_sim::OidcConfig> {
    let clients = args
        .oidc_clients
        .iter()
        .map(|spec| okta_sim::OidcClient::parse_cli(spec));
    let passwords = args.user_passwords.iter().map(|spec| {
        let (login, password) = spec
            .split_once('=')
            .context("--user-password wants LOGIN=PASSWORD")?;
        Ok((login.to_string(), password.to_string()))
    });
    Ok(okta_sim::OidcConfig {
        clients: clients.collect::<Result<_, _>>()?,
        passwords: passwords.collect::<anyhow::Result<_>>()?,
        default_password: args.default_password.clone(),
        ..Default::default()
    })
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
    let scoped = args
        .scoped_tokens
        .iter()
        .map(|spec| scoped_token(&org, spec))
        .collect::<anyhow::Result<_>>()?;
    let mut oauth = okta_sim::OAuthConfig {
        token_lifetime: std::time::Duration::from_secs(args.token_lifetime),
        ..Default::default()
    };
    for spec in &args.oauth_apps {
        oauth.apps.push(oauth_app(&org, spec)?);
    }
    let mut config = SimConfig {
        scoped_tokens: scoped,
        public_origin: match args.public_origin.as_str() {
            "auto" => String::new(),
            origin => origin.to_string(),
        },
        oauth,
        rate_limits: args.rate_limits(),
        oidc: oidc_config(&args)?,
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
    print_banner(&sim, &config, &args, users, groups);
    register_hooks(&sim, &args.event_hooks)?;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(tokio::signal::ctrl_c())?;
    if args.log_requests {
        print_requests(&sim);
    }
    sim.shutdown();
    Ok(())
}

/// What the simulator serves: address, org size, tokens, rate limits, OAuth apps,
/// OIDC clients.
fn print_banner(sim: &Simulator, config: &SimConfig, args: &Args, users: usize, groups: usize) {
    println!("okta-sim listening on http://{}", sim.addr());
    println!(
        "{users} users, {groups} groups; tokens: {}; links use {}",
        config.tokens.join(", "),
        sim.issuer()
    );
    println!(
        "rate limits: {:?}, window {} ms, SSWS token share {} %",
        args.rate_limits, args.window_ms, args.token_share
    );
    for app in &config.oauth.apps {
        println!(
            "OAuth app {}: scopes {}; DPoP {}; token endpoint {}",
            app.client_id,
            app.scopes.join(" "),
            required(app.dpop_required),
            sim.token_url()
        );
    }
    for client in &config.oidc.clients {
        println!(
            "OIDC client {}: redirect {}; PKCE {}; issuer {}",
            client.client_id,
            client.redirect_uris.join(" "),
            required(client.pkce_required),
            sim.issuer()
        );
    }
}

fn required(yes: bool) -> &'static str {
    if yes { "required" } else { "optional" }
}

/// The id of a group given by id or name.
fn group_id(org: &Org, group: &str) -> anyhow::Result<String> {
    org.group(group)
        .or_else(|| org.group_by_name(group))
        .map(|g| g.id.clone())
        .with_context(|| format!("no group {group:?}"))
}

/// A `--scoped-token TOKEN=GROUP[,GROUP…]`.
fn scoped_token(org: &Org, spec: &str) -> anyhow::Result<ScopedToken> {
    let (token, groups) = spec
        .split_once('=')
        .context("--scoped-token wants TOKEN=GROUP[,GROUP…]")?;
    Ok(ScopedToken {
        token: token.to_string(),
        target_groups: groups
            .split(',')
            .map(|g| group_id(org, g))
            .collect::<anyhow::Result<_>>()?,
    })
}

/// An `--oauth-app`, its `groups=` given by id or name.
fn oauth_app(org: &Org, spec: &str) -> anyhow::Result<OAuthApp> {
    let app = OAuthApp::parse_cli(spec, |path| std::fs::read_to_string(path))?;
    Ok(match &app.admin_role {
        AdminRole::Groups(groups) => {
            let ids = groups.iter().map(|g| group_id(org, g));
            let role = AdminRole::Groups(ids.collect::<anyhow::Result<_>>()?);
            app.with_admin_role(role)
        }
        _ => app,
    })
}

/// Registers (and so verifies) each `--event-hook`.
fn register_hooks(sim: &Simulator, specs: &[String]) -> anyhow::Result<()> {
    for spec in specs {
        let hook = EventHook::parse_cli(spec)?;
        let id = sim
            .register_event_hook(hook)
            .with_context(|| format!("registering --event-hook {spec}"))?;
        println!("event hook {id} verified: {spec}");
    }
    Ok(())
}

/// One line per request served, for a record of what a client did.
fn print_requests(sim: &Simulator) {
    for r in sim.requests() {
        let scheme = r.authorization.as_deref().and_then(|a| a.split(' ').next());
        println!(
            "{} {} {}{} auth={} dpop={}",
            r.status,
            r.method,
            r.path,
            r.query.map(|q| format!("?{q}")).unwrap_or_default(),
            scheme.unwrap_or("-"),
            if r.dpop.is_some() { "yes" } else { "no" }
        );
    }
    let stats = sim.token_stats();
    println!(
        "token requests: {}, tokens issued: {}",
        stats.requests, stats.issued
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_enforces_or_reports_limits_in_its_window_and_share() {
        let args = Args::try_parse_from([
            "okta-sim",
            "--rate-limits",
            "enforce",
            "--window-ms",
            "1000",
            "--token-share",
            "30",
        ])
        .unwrap();
        let enforced = RateLimits {
            token_share: Some(30),
            ..RateLimits::okta_defaults(std::time::Duration::from_secs(1))
        };
        assert_eq!(args.rate_limits(), enforced);
        let reported = Args::try_parse_from(["okta-sim"]).unwrap().rate_limits();
        assert_eq!(
            reported,
            RateLimits {
                token_share: Some(50),
                ..RateLimits::default()
            }
        );
        let refused = Args::try_parse_from(["okta-sim", "--token-share", "0"]).unwrap_err();
        assert!(refused.to_string().contains("--token-share"), "{refused}");
    }
}
