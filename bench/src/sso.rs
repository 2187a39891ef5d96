//! `usersync-bench --sso-logins N`: the latency of an SSO login with *Update with
//! UserSync* through the whole OpenID Connect flow, against the simulator on loopback:
//! the product's redirect to Okta, Okta's authorize (signing the user in without the
//! form), the callback (state, the code exchange, the ID token verified against the
//! JWKS, the login sync of the user by its Okta id, the decision, the session). Each
//! login is a random active user of a generated org; the first login of a user creates
//! it, the second finds it unchanged. The bare login sync (`Harness::sync_user`) is
//! timed too, so that what SSO adds is seen. Printed as a Markdown table (the
//! `BENCHMARKS.md` section "SSO login latency" is a run of it).

use crate::Args;
use crate::measure::{CONNECTOR, DOMAIN, TOKEN};
use crate::worker::percentile;
use anyhow::{Context as _, anyhow, bail};
use okta_sim::{GenSpec, OidcClient, OidcLogin, Org, SimConfig, Simulator};
use rand::seq::SliceRandom;
use rand::{SeedableRng, rngs::StdRng};
use std::sync::Arc;
use std::time::{Duration, Instant};
use usersync::host::http::Resolve;
use usersync::host::runtime::Runtime;
use usersync::model::idp::{IdpPatch, UpdateMethod};
use usersync::model::{ConnectorPatch, TokenText};
use usersync::surface::web::auth::{Limits, Password};
use usersync::surface::web::{WebConfig, WebServer};
use usersync::{Harness, Options};

const CLIENT_ID: &str = "0oaBenchSsoApp";
const CLIENT_SECRET: &str = "bench-sso-client-secret";

/// Latencies of one kind of login, µs.
struct Series {
    what: &'static str,
    micros: Vec<u64>,
}

impl Series {
    fn row(&mut self) -> String {
        self.micros.sort_unstable();
        let ms = |us: u64| format!("{:.1}", us as f64 / 1e3);
        let mean = self.micros.iter().sum::<u64>() / self.micros.len().max(1) as u64;
        format!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            self.what,
            self.micros.len(),
            ms(mean),
            ms(percentile(&self.micros, 0.5)),
            ms(percentile(&self.micros, 0.95)),
            ms(percentile(&self.micros, 0.99)),
            ms(self.micros.last().copied().unwrap_or(0)),
        )
    }
}

/// A blocking HTTP client that follows no redirect.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// GET `url` (with `cookie`): the status, `Location` and the `name=value` of `set_cookie`.
fn get(
    agent: &ureq::Agent,
    url: &str,
    cookie: Option<&str>,
    set_cookie: &str,
) -> anyhow::Result<(u16, String, Option<String>)> {
    let mut req = agent.get(url);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let resp = req.call().with_context(|| format!("GET {url}"))?;
    let header = |name: &str| {
        resp.headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let location = header("location").into_iter().next().unwrap_or_default();
    let cookie = header("set-cookie")
        .into_iter()
        .map(|c| c.split(';').next().unwrap_or_default().to_string())
        .find(|c| c.starts_with(&format!("{set_cookie}=")));
    Ok((resp.status().as_u16(), location, cookie))
}

/// One login through the flow; the callback's latency and the whole flow's, µs.
fn login(
    agent: &ureq::Agent,
    base: &str,
    sim: &Simulator,
    who: &str,
) -> anyhow::Result<(u64, u64)> {
    sim.set_oidc_login(OidcLogin::As(who.to_string()));
    let t = Instant::now();
    let start = format!("{base}/plugins/servlet/oidc/start/{CONNECTOR}");
    let (status, to_okta, state) = get(agent, &start, None, "usersync_sso_state")?;
    let state = state
        .filter(|_| status == 303)
        .ok_or_else(|| anyhow!("start answered {status}"))?;
    let (status, back, _) = get(agent, &to_okta, None, "-")?;
    if status != 302 {
        bail!("Okta's authorize answered {status}");
    }
    let c = Instant::now();
    let (status, home, session) = get(agent, &back, Some(&state), "usersync_user_session")?;
    if status != 303 || home != "/home" || session.is_none() {
        bail!("the login of {who} was not admitted ({status})");
    }
    Ok((
        c.elapsed().as_micros() as u64,
        t.elapsed().as_micros() as u64,
    ))
}

/// Run `n` SSO logins (and as many bare login syncs) against an org of the first size.
pub fn run(args: &Args, n: usize) -> anyhow::Result<()> {
    let users = args.sizes.first().copied().unwrap_or(10_000);
    let groups = args.groups_for(0, users);
    let org = Org::generate(&GenSpec {
        users,
        groups,
        memberships_per_user: args.memberships_per_user,
        seed: args.seed,
    });
    let mut logins: Vec<String> = org
        .users
        .iter()
        .filter(|u| u.status == "ACTIVE")
        .filter_map(|u| u.profile.get("login")?.as_str().map(str::to_string))
        .collect();
    logins.shuffle(&mut StdRng::seed_from_u64(args.seed));
    logins.truncate(n);
    let sim = Simulator::start(org, SimConfig::default());
    let dir = tempfile::tempdir()?;
    let mut resolve = Resolve::default();
    resolve.insert(DOMAIN, sim.addr());
    let db = usersync::product::db::Db::open(&dir.path().join("bench.db"))?;
    let runtime = Arc::new(Runtime::bundled().map_err(|e| anyhow!("{e}"))?);
    let harness = Harness::with(
        db,
        runtime,
        Options {
            resolve,
            ..Options::default()
        },
    )?;
    harness.create_connector(&ConnectorPatch {
        name: Some(CONNECTOR.into()),
        okta_domain: Some(DOMAIN.into()),
        api_token: Some(TokenText(TOKEN.into())),
        ..Default::default()
    })?;
    harness.set_identity_provider(
        CONNECTOR,
        &IdpPatch {
            client_id: Some(CLIENT_ID.into()),
            client_secret: Some(CLIENT_SECRET.into()),
            update_method: Some(UpdateMethod::Usersync),
            ..IdpPatch::default()
        },
    )?;
    let config = WebConfig {
        admin_user: "admin".into(),
        admin_password: Password::new("bench admin password").map_err(|e| anyhow!("{e}"))?,
        throttle: Limits::default(),
    };
    let web = WebServer::start(harness.clone(), config, "127.0.0.1:0")?;
    let base = web.url();
    sim.register_oidc_client(
        OidcClient::new(CLIENT_ID, CLIENT_SECRET)
            .with_redirect_uri(&format!("{base}/plugins/servlet/oidc/callback")),
    );
    let agent = agent();
    // One login first: the discovery document and the JWKS are fetched, then cached.
    let warm = logins.pop().ok_or_else(|| anyhow!("no active user"))?;
    login(&agent, &base, &sim, &warm)?;
    let series = |what| Series {
        what,
        micros: Vec::with_capacity(logins.len()),
    };
    let (mut first_cb, mut first_flow) = (
        series("callback, first login (user created)"),
        series("whole flow, first login"),
    );
    let (mut again_cb, mut again_flow) = (
        series("callback, next login (no change)"),
        series("whole flow, next login"),
    );
    let mut bare = series("bare login sync (`Harness::sync_user`, no change)");
    for who in &logins {
        let (cb, flow) = login(&agent, &base, &sim, who)?;
        first_cb.micros.push(cb);
        first_flow.micros.push(flow);
    }
    for who in &logins {
        let (cb, flow) = login(&agent, &base, &sim, who)?;
        again_cb.micros.push(cb);
        again_flow.micros.push(flow);
        let t = Instant::now();
        harness.sync_user(CONNECTOR, who)?;
        bare.micros.push(t.elapsed().as_micros() as u64);
    }
    println!(
        "SSO logins with Update with UserSync: {} users, {groups} groups, {} logins each way\n",
        users,
        logins.len()
    );
    println!("| what | n | mean ms | p50 ms | p95 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|---|");
    for s in [
        &mut first_cb,
        &mut first_flow,
        &mut again_cb,
        &mut again_flow,
        &mut bare,
    ] {
        println!("{}", s.row());
    }
    Ok(())
}
