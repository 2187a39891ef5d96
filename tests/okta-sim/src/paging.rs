//! Query parameters, page sizes, cursors and Link headers.

use url::form_urlencoded;

use crate::cursor::{Cursor, CursorKind};
use crate::reply::{Rel, Reply};

/// The decoded query string, in order.
#[derive(Clone, Debug, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// Parses a raw query string (`+` and `%20` both decode to a space).
    pub fn parse(query: Option<&str>) -> Params {
        Params(
            query
                .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default(),
        )
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The paging part of a list request.
#[derive(Clone, Debug)]
pub struct Page {
    /// Effective page size (clamped to the endpoint's maximum).
    pub limit: usize,
    /// The raw `after` value.
    pub after: Option<String>,
    /// All other parameters, in request order (kept in links).
    pub rest: Vec<(String, String)>,
}

impl Page {
    /// Reads `limit` (default `default`, clamped to `1..=max`) and `after`.
    pub fn from_params(params: &Params, default: usize, max: usize) -> Result<Page, Reply> {
        let limit = match params.get("limit") {
            None | Some("") => default,
            Some(v) => v
                .trim()
                .parse::<i64>()
                .map_err(|_| Reply::validation("limit", "The value must be an integer."))?
                .max(1) as usize,
        }
        .min(max);
        Ok(Page {
            limit,
            after: params.get("after").map(str::to_string),
            rest: params
                .0
                .iter()
                .filter(|(k, _)| k != "limit" && k != "after")
                .cloned()
                .collect(),
        })
    }

    /// The decoded `after` cursor; 400 E0000031 if it is not one of ours.
    pub fn cursor(&self, kind: CursorKind) -> Result<Option<Cursor>, Reply> {
        match &self.after {
            None => Ok(None),
            Some(a) if a.is_empty() => Ok(None),
            Some(a) => Cursor::decode(kind, a)
                .map(Some)
                .ok_or_else(Reply::invalid_cursor),
        }
    }

    /// The same page request without parameter `key` (in its links).
    pub fn without(&self, key: &str) -> Page {
        Page {
            rest: self
                .rest
                .iter()
                .filter(|(k, _)| k != key)
                .cloned()
                .collect(),
            ..self.clone()
        }
    }

    fn url(&self, origin: &str, path: &str, after: Option<&str>) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if let Some(a) = after {
            q.append_pair("after", a);
        }
        q.append_pair("limit", &self.limit.to_string());
        for (k, v) in &self.rest {
            q.append_pair(k, v);
        }
        format!("{origin}{path}?{}", q.finish())
    }

    /// `self` (with the request's `after`, the effective `limit` and the other
    /// parameters), then `next` when there is a next page.
    pub fn links(&self, origin: &str, path: &str, next: Option<&Cursor>) -> Vec<(String, Rel)> {
        let mut links = vec![(
            self.url(
                origin,
                path,
                self.after.as_deref().filter(|a| !a.is_empty()),
            ),
            Rel::SelfLink,
        )];
        if let Some(c) = next {
            links.push((self.url(origin, path, Some(&c.encode())), Rel::Next));
        }
        links
    }
}

/// Takes one page from `items` (sorted ascending by `key`) after `cursor`.
/// Returns the page and the cursor of its last item when more items follow.
pub fn page_by_key<'a, T>(
    items: &[&'a T],
    kind: CursorKind,
    cursor: Option<&Cursor>,
    limit: usize,
    key: impl Fn(&T) -> (i64, &str),
) -> (Vec<&'a T>, Option<Cursor>) {
    let start = match cursor {
        None => 0,
        Some(c) => items.partition_point(|t| key(t) <= (c.key, c.id.as_str())),
    };
    let rest = &items[start..];
    let page: Vec<&T> = rest.iter().take(limit).copied().collect();
    let next = (rest.len() > limit).then(|| {
        let (k, id) = key(page[page.len() - 1]);
        Cursor {
            kind,
            key: k,
            id: id.to_string(),
        }
    });
    (page, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_follow_okta_conventions() {
        let params = Params::parse(Some("filter=status%20eq%20%22ACTIVE%22&limit=500"));
        let page = Page::from_params(&params, 200, 200).unwrap();
        assert_eq!(page.limit, 200);
        let next = Cursor {
            kind: CursorKind::Users,
            key: 5,
            id: "00uAAAAAAAAAAAAAAAAA".into(),
        };
        let links = page.links("https://acme.okta.com", "/api/v1/users", Some(&next));
        assert_eq!(
            links[0],
            (
                "https://acme.okta.com/api/v1/users?limit=200&filter=status+eq+%22ACTIVE%22"
                    .to_string(),
                Rel::SelfLink
            )
        );
        assert_eq!(
            links[1].0,
            format!(
                "https://acme.okta.com/api/v1/users?after={}&limit=200&filter=status+eq+%22ACTIVE%22",
                next.encode()
            )
        );
        let page = Page::from_params(&Params::parse(None), 200, 200).unwrap();
        assert_eq!(
            page.links("https://o", "/api/v1/users", None),
            vec![(
                "https://o/api/v1/users?limit=200".to_string(),
                Rel::SelfLink
            )]
        );
        assert!(Page::from_params(&Params::parse(Some("limit=abc")), 200, 200).is_err());
        assert_eq!(
            Page::from_params(&Params::parse(Some("limit=0")), 200, 200)
                .unwrap()
                .limit,
            1
        );
    }

    #[test]
    fn pages_by_key() {
        struct T(i64, &'static str);
        let data = [T(1, "a"), T(2, "b"), T(2, "c"), T(3, "d"), T(4, "e")];
        let items: Vec<&T> = data.iter().collect();
        fn key(t: &T) -> (i64, &str) {
            (t.0, t.1)
        }
        let (p1, c1) = page_by_key(&items, CursorKind::Users, None, 2, key);
        assert_eq!(p1.iter().map(|t| t.1).collect::<Vec<_>>(), ["a", "b"]);
        let c1 = c1.unwrap();
        let (p2, c2) = page_by_key(&items, CursorKind::Users, Some(&c1), 2, key);
        assert_eq!(p2.iter().map(|t| t.1).collect::<Vec<_>>(), ["c", "d"]);
        // The cursor item deleted meanwhile: still continues after its position.
        let fewer: Vec<&T> = data.iter().filter(|t| t.1 != "d").collect();
        let (p3, c3) = page_by_key(&fewer, CursorKind::Users, c2.as_ref(), 2, key);
        assert_eq!(p3.iter().map(|t| t.1).collect::<Vec<_>>(), ["e"]);
        assert!(c3.is_none());
        // Exactly full last page: no next cursor.
        let (p4, c4) = page_by_key(&items, CursorKind::Users, None, 5, key);
        assert_eq!(p4.len(), 5);
        assert!(c4.is_none());
    }
}
