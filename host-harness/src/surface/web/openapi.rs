//! The REST API's contract: an OpenAPI 3.1 document kept by hand next to the router
//! (`openapi.json`, so that changing a handler never means annotating it), served at
//! `/rest/usersync/1.0/openapi.json` behind the API's guard, as Atlassian serves its REST
//! API descriptions to authenticated users only. The unit test below holds the document to
//! the router's routes; `host-harness/tests/schemathesis.rs` holds a live `usersync serve`
//! to the document's schemas.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The OpenAPI document of `/rest/usersync/1.0/`.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// `GET /openapi.json`: the document as it is.
pub async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT).into_response()
}

#[cfg(test)]
mod tests {
    use super::DOCUMENT;
    use std::collections::BTreeSet;

    const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

    /// Every (path, method) the router of `rest.rs` declares, and the routes it merges
    /// from `sso/rest.rs` and `approvals.rs`, read from their source: the `.route("PATH", get(a).post(b))`
    /// calls of their `routes` functions.
    fn router_routes() -> BTreeSet<(String, String)> {
        let mut routes = routes_in(include_str!("rest.rs"), ".fallback(");
        routes.extend(routes_in(include_str!("sso/rest.rs"), "\n}\n"));
        routes.extend(routes_in(
            include_str!("approvals.rs"),
            "/// Who acts through",
        ));
        routes
    }

    /// The routes of the `routes` function of `source`, up to `end`.
    fn routes_in(source: &str, end: &str) -> BTreeSet<(String, String)> {
        let start = source
            .find("pub fn routes(")
            .expect("the source has `routes`");
        let body = &source[start..];
        let body = &body[..body.find(end).expect("the router ends")];
        let mut routes = BTreeSet::new();
        for call in body.split(".route(").skip(1) {
            let path = call.split('"').nth(1).expect("a route's path is a literal");
            let handlers = &call[call.find(',').expect("a route has handlers")..];
            for (at, _) in handlers.match_indices('(') {
                let word = handlers[..at]
                    .rsplit(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .next()
                    .unwrap_or_default();
                if METHODS.contains(&word) {
                    routes.insert((path.to_string(), word.to_string()));
                }
            }
        }
        routes
    }

    /// Every (path, method) the document describes.
    fn documented_routes() -> BTreeSet<(String, String)> {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("the document is JSON");
        let paths = doc["paths"].as_object().expect("the document has paths");
        paths
            .iter()
            .flat_map(|(path, item)| {
                let item = item.as_object().expect("a path item is an object");
                METHODS
                    .iter()
                    .filter(|m| item.contains_key(**m))
                    .map(move |m| (path.clone(), m.to_string()))
            })
            .collect()
    }

    #[test]
    fn the_document_describes_exactly_the_routes_of_the_router() {
        let router = router_routes();
        assert!(
            router.contains(&("/connectors/{name}".into(), "delete".into())),
            "the source reader finds the routes: {router:?}"
        );
        let documented = documented_routes();
        let undocumented: Vec<_> = router.difference(&documented).collect();
        let absent: Vec<_> = documented.difference(&router).collect();
        assert!(
            undocumented.is_empty() && absent.is_empty(),
            "routes of rest.rs missing from openapi.json: {undocumented:?}; \
             operations of openapi.json the router lacks: {absent:?}"
        );
    }

    #[test]
    fn every_reference_of_the_document_resolves() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).unwrap();
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        assert!(refs.len() > 50, "the document refers to its components");
        for r in refs {
            let pointer = r.strip_prefix('#').expect("local references only");
            assert!(doc.pointer(pointer).is_some(), "`{r}` resolves to nothing");
        }
    }

    fn collect_refs(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                    out.push(r.clone());
                }
                map.values().for_each(|v| collect_refs(v, out));
            }
            serde_json::Value::Array(list) => list.iter().for_each(|v| collect_refs(v, out)),
            _ => {}
        }
    }
}
