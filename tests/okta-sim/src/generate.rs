//! Deterministic generation of realistic orgs from a seed.

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use crate::ids;
use crate::org::{GroupType, OktaGroup, OktaUser, Org};

/// What [`Org::generate`] should produce.
#[derive(Clone, Debug)]
pub struct GenSpec {
    /// Number of users.
    pub users: usize,
    /// Number of OKTA_GROUP/APP_GROUP groups (the BUILT_IN `Everyone` comes on top).
    pub groups: usize,
    /// About how many OKTA/APP groups each user belongs to.
    pub memberships_per_user: usize,
    /// Seed: the same seed gives the identical org.
    pub seed: u64,
}

const FIRST_NAMES: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Sandra",
    "Mark",
    "Ashley",
    "Priya",
    "Wei",
    "Fatima",
    "Mohammed",
    "Aiko",
    "Hiroshi",
    "Olga",
    "Ivan",
    "Sofia",
    "Lucas",
    "Amara",
    "Kwame",
    "Ingrid",
    "Lars",
    "Chloe",
    "Mateo",
    "Zara",
    "Omar",
];

const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Patel",
    "Chen",
    "Nguyen",
    "Kim",
    "Tanaka",
    "Okafor",
    "Mensah",
    "Ivanova",
    "Novak",
    "Larsen",
    "Dubois",
    "Rossi",
    "Schmidt",
    "Khan",
    "Silva",
    "Cohen",
];

/// Departments with their cost-center codes.
const DEPARTMENTS: &[(&str, &str)] = &[
    ("Engineering", "CC-100"),
    ("Product", "CC-110"),
    ("Design", "CC-120"),
    ("Sales", "CC-200"),
    ("Marketing", "CC-210"),
    ("Customer Success", "CC-220"),
    ("Finance", "CC-300"),
    ("Legal", "CC-310"),
    ("People", "CC-320"),
    ("IT", "CC-400"),
    ("Security", "CC-410"),
    ("Operations", "CC-500"),
];

const TITLES: &[&str] = &[
    "Engineer",
    "Senior Engineer",
    "Staff Engineer",
    "Manager",
    "Senior Manager",
    "Director",
    "Analyst",
    "Specialist",
    "Coordinator",
    "Associate",
    "Lead",
    "Vice President",
];

const GROUP_BASES: &[&str] = &[
    "Engineering",
    "Product",
    "Design",
    "Sales",
    "Marketing",
    "Customer Success",
    "Finance",
    "Legal",
    "People",
    "IT",
    "Security",
    "Operations",
    "Jira Users",
    "Confluence Users",
    "Bitbucket Users",
    "Contractors",
    "Interns",
    "Managers",
    "On-Call",
    "Berlin Office",
    "London Office",
    "New York Office",
    "Sydney Office",
    "Tokyo Office",
    "Project Phoenix",
    "Project Atlas",
    "Project Nova",
    "Release Managers",
    "Site Admins",
    "Auditors",
];

/// All generated timestamps are offsets from this date (well before "now").
fn base_date() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 1, 4, 9, 0, 0).unwrap()
}

/// Generated users are created over this many minutes after the base date (~3 years).
const USER_SPAN_MINUTES: i64 = 3 * 365 * 24 * 60;

/// Statuses sprinkled over ~2% of the users each; the rest are ACTIVE.
const SPRINKLED: &[&str] = &[
    "SUSPENDED",
    "DEPROVISIONED",
    "STAGED",
    "PROVISIONED",
    "LOCKED_OUT",
    "PASSWORD_EXPIRED",
];

impl Org {
    /// Generates an org deterministically from `spec.seed` (same spec →
    /// identical org). Includes the BUILT_IN `Everyone` group (all users)
    /// plus `spec.groups` groups, every tenth of them an APP_GROUP. See the
    /// crate docs for the shape of users and statuses.
    pub fn generate(spec: &GenSpec) -> Org {
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let base = base_date();
        let mut used_ids = std::collections::HashSet::new();
        let mut new_id = |prefix: &str, rng: &mut ChaCha8Rng| loop {
            let id = ids::okta_id(prefix, rng);
            if used_ids.insert(id.clone()) {
                return id;
            }
        };

        // Statuses: a seeded shuffle picks ~2% of the users for each sprinkled status.
        let n = spec.users;
        let per_status = if n >= 20 {
            (n * 2).div_ceil(100).max(1)
        } else {
            0
        };
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        let mut statuses = vec!["ACTIVE"; n];
        for (k, idx) in order.iter().take(per_status * SPRINKLED.len()).enumerate() {
            statuses[*idx] = SPRINKLED[k / per_status];
        }

        let step = if n > 0 {
            USER_SPAN_MINUTES / n as i64
        } else {
            0
        };
        let mut login_counts: HashMap<String, usize> = HashMap::new();
        let mut users = Vec::with_capacity(n);
        for (i, status) in statuses.iter().enumerate() {
            let first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
            let last = LAST_NAMES[rng.random_range(0..LAST_NAMES.len())];
            let stem = format!("{}.{}", first.to_lowercase(), last.to_lowercase());
            let count = login_counts.entry(stem.clone()).or_insert(0);
            *count += 1;
            let login = if *count == 1 {
                format!("{stem}@example.com")
            } else {
                format!("{stem}{count}@example.com")
            };
            let (dept, cost_center) = DEPARTMENTS[rng.random_range(0..DEPARTMENTS.len())];
            let title = TITLES[rng.random_range(0..TITLES.len())];

            let created = base
                + Duration::minutes(step * i as i64)
                + Duration::seconds(rng.random_range(0..30))
                + Duration::milliseconds(i as i64 % 1000);
            let user = generated_user(
                new_id("00u", &mut rng),
                status,
                created,
                &mut rng,
                UserNames {
                    first,
                    last,
                    login: &login,
                    dept,
                    cost_center,
                    title,
                    number: i + 1,
                },
            );
            users.push(user);
        }

        let mut groups = Vec::with_capacity(spec.groups + 1);
        let everyone_created = base - Duration::days(30);
        let last_user_created = users.last().map_or(everyone_created, |u| u.created);
        groups.push(OktaGroup {
            id: new_id("00g", &mut rng),
            group_type: GroupType::BuiltIn,
            name: "Everyone".into(),
            description: Some("All users in your organization".into()),
            created: everyone_created,
            last_updated: everyone_created,
            last_membership_updated: last_user_created.max(everyone_created),
            members: users.iter().map(|u| u.id.clone()).collect(),
        });
        for j in 0..spec.groups {
            let round = j / GROUP_BASES.len();
            let base_name = GROUP_BASES[j % GROUP_BASES.len()];
            let name = if round == 0 {
                base_name.to_string()
            } else {
                format!("{base_name} {}", round + 1)
            };
            let group_type = if j % 10 == 9 {
                GroupType::AppGroup
            } else {
                GroupType::OktaGroup
            };
            let description = (j % 4 != 3).then(|| format!("Members of {name}"));
            let created = base - Duration::days(20) + Duration::hours(j as i64);
            let last_updated = created + Duration::days(rng.random_range(0..400));
            groups.push(OktaGroup {
                id: new_id("00g", &mut rng),
                group_type,
                name,
                description,
                created,
                last_updated,
                last_membership_updated: created,
                members: Vec::new(),
            });
        }

        // Memberships: each user joins ~memberships_per_user distinct OKTA/APP groups.
        if spec.groups > 0 && spec.memberships_per_user > 0 {
            for u in &users {
                let jitter: i64 = rng.random_range(-1..=1);
                let k = (spec.memberships_per_user as i64 + jitter).max(1) as usize;
                let k = k.min(spec.groups);
                let picks = rand::seq::index::sample(&mut rng, spec.groups, k);
                for p in picks.iter() {
                    let g = &mut groups[p + 1];
                    g.members.push(u.id.clone());
                    let joined = u.created.max(g.created) + Duration::minutes(5);
                    g.last_membership_updated = g.last_membership_updated.max(joined);
                }
            }
        }

        Org {
            users,
            groups,
            ..Org::default()
        }
    }
}

/// The profile inputs of one generated user.
struct UserNames<'a> {
    first: &'a str,
    last: &'a str,
    login: &'a str,
    dept: &'a str,
    cost_center: &'a str,
    title: &'a str,
    number: usize,
}

fn generated_user(
    id: String,
    status: &str,
    created: DateTime<Utc>,
    rng: &mut ChaCha8Rng,
    names: UserNames<'_>,
) -> OktaUser {
    let mut profile = Map::new();
    profile.insert("firstName".into(), Value::from(names.first));
    profile.insert("lastName".into(), Value::from(names.last));
    profile.insert(
        "displayName".into(),
        Value::from(format!("{} {}", names.first, names.last)),
    );
    profile.insert("mobilePhone".into(), Value::Null);
    profile.insert("secondEmail".into(), Value::Null);
    profile.insert("login".into(), Value::from(names.login));
    profile.insert("email".into(), Value::from(names.login));
    profile.insert("department".into(), Value::from(names.dept));
    profile.insert("title".into(), Value::from(names.title));
    profile.insert(
        "employeeNumber".into(),
        Value::from(format!("E{:06}", names.number)),
    );
    profile.insert("costCenter".into(), Value::from(names.cost_center));

    let minutes = |rng: &mut ChaCha8Rng, max: i64| Duration::minutes(rng.random_range(1..max));
    let never_activated = matches!(status, "STAGED" | "PROVISIONED");
    let activated = (!never_activated).then(|| created + minutes(rng, 60));
    let password_changed = activated.map(|a| a + minutes(rng, 60 * 24 * 90));
    let status_changed = match status {
        "STAGED" => None,
        "ACTIVE" => activated,
        _ => Some(activated.unwrap_or(created) + minutes(rng, 60 * 24 * 200)),
    };
    let last_login = match status {
        "ACTIVE" | "PASSWORD_EXPIRED" | "LOCKED_OUT" | "SUSPENDED" | "DEPROVISIONED" => {
            Some(activated.unwrap_or(created) + minutes(rng, 60 * 24 * 300))
        }
        _ => None,
    };
    let profile_edit = created + minutes(rng, 60 * 24 * 365);
    let last_updated = [
        Some(created),
        activated,
        status_changed,
        password_changed,
        Some(profile_edit),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(created);
    OktaUser {
        id,
        status: status.to_string(),
        created,
        activated,
        status_changed,
        last_login,
        last_updated,
        password_changed,
        profile,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn spec(seed: u64) -> GenSpec {
        GenSpec {
            users: 1000,
            groups: 50,
            memberships_per_user: 3,
            seed,
        }
    }

    #[test]
    fn deterministic() {
        let a = Org::generate(&spec(42));
        let b = Org::generate(&spec(42));
        assert_eq!(a.to_json(), b.to_json());
        let c = Org::generate(&spec(43));
        assert_ne!(a.to_json(), c.to_json());
    }

    #[test]
    fn shape() {
        let org = Org::generate(&spec(42));
        assert_eq!(org.users.len(), 1000);
        assert_eq!(org.groups.len(), 51);
        let everyone = org.everyone().unwrap();
        assert_eq!(everyone.group_type, GroupType::BuiltIn);
        assert_eq!(everyone.members.len(), 1000);
        assert_eq!(
            org.groups
                .iter()
                .filter(|g| g.group_type == GroupType::AppGroup)
                .count(),
            5
        );

        let ids: HashSet<_> = org
            .users
            .iter()
            .map(|u| u.id.as_str())
            .chain(org.groups.iter().map(|g| g.id.as_str()))
            .collect();
        assert_eq!(ids.len(), 1051);
        for u in &org.users {
            assert!(u.id.starts_with("00u") && u.id.len() == 20);
            assert!(u.last_updated >= u.created && u.last_updated < Utc::now());
        }
        for g in &org.groups {
            assert!(g.id.starts_with("00g") && g.id.len() == 20);
            assert!(g.last_membership_updated >= g.created);
            let unique: HashSet<_> = g.members.iter().collect();
            assert_eq!(unique.len(), g.members.len());
        }
        let logins: HashSet<_> = org
            .users
            .iter()
            .map(|u| u.profile["login"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(logins.len(), 1000);
        for s in SPRINKLED {
            let count = org.users.iter().filter(|u| u.status == *s).count();
            assert_eq!(count, 20, "{s}");
        }
        assert!(org.users.windows(2).all(|w| w[0].created < w[1].created));
        let memberships: usize = org.groups[1..].iter().map(|g| g.members.len()).sum();
        assert!((2500..=3500).contains(&memberships), "{memberships}");
    }
}
