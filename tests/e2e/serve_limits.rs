//! What `voc serve` refuses before any resolver runs: anonymous callers,
//! queries too deep or too complex, bodies too large, mutations over GET,
//! requests that do not parse. Each answer is a GraphQL error with
//! `extensions.code` (or a plain 413 for the body), and nothing runs.

use std::time::Duration;

use serde_json::json;
use voc_tests::server::{ServerOptions, VocServer};

fn server() -> VocServer {
    VocServer::start(ServerOptions::default()).expect("starting voc serve")
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

#[test]
fn an_anonymous_caller_is_unauthenticated() {
    let server = server();
    let (code, error) = server
        .anonymous()
        .error_code("{ version }", json!({}))
        .unwrap();
    assert_eq!(code, "UNAUTHENTICATED", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("sign in"),
        "{error}"
    );
}

#[test]
fn a_query_nested_too_deep_is_refused() {
    let server = server();
    let deep = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } }";
    let (code, error) = server.anonymous().error_code(deep, json!({})).unwrap();
    assert_eq!(code, "VALIDATION", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("too deep"),
        "{error}"
    );
}

#[test]
fn a_query_too_complex_is_refused() {
    let server = server();
    let fields: Vec<String> = (0..2500).map(|i| format!("a{i}: version")).collect();
    let query = format!("{{ {} }}", fields.join(" "));
    let (code, error) = server.anonymous().error_code(&query, json!({})).unwrap();
    assert_eq!(code, "VALIDATION", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("complex"),
        "{error}"
    );
}

#[test]
fn a_body_over_one_mebibyte_is_refused_with_413() {
    use std::io::{Read, Write};
    let server = server();
    // voc answers from the Content-Length alone, before reading the body
    // (and then closes): the test sends only the headers, so that no
    // unread body turns the close into a reset that loses the answer.
    let body = json!({"query": "{ __typename }", "variables": {"padding": "x".repeat(2 << 20)}})
        .to_string();
    let mut stream = std::net::TcpStream::connect(&server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        server.addr,
        body.len()
    )
    .unwrap();
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 413");
}

#[test]
fn a_mutation_over_get_is_forbidden_and_a_query_over_get_works() {
    let server = server();
    let mut response = agent()
        .get(format!("{}/graphql", server.url))
        .query("query", "mutation { ping }")
        .call()
        .unwrap();
    let body: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("POST"));

    let mut response = agent()
        .get(format!("{}/graphql", server.url))
        .query("query", "{ __typename }")
        .call()
        .unwrap();
    let body: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
}

#[test]
fn a_query_that_does_not_parse_says_where() {
    let server = server();
    let (code, error) = server
        .anonymous()
        .error_code("{ version ", json!({}))
        .unwrap();
    assert_eq!(code, "VALIDATION", "{error}");
    assert!(error["locations"][0]["line"].is_number(), "{error}");
}

#[test]
fn health_the_app_and_the_playground_are_served_from_the_binary() {
    let server = server();
    let get = |path: &str| {
        let mut response = agent().get(format!("{}{path}", server.url)).call().unwrap();
        let status = response.status().as_u16();
        (status, response.body_mut().read_to_string().unwrap())
    };
    assert_eq!(get("/healthz"), (200, "ok\n".to_owned()));

    // The app, and its routes (deep links) answered with its index.html.
    let (status, index) = get("/");
    assert_eq!(status, 200);
    assert!(index.contains("<div id=\"app\""), "{index}");
    assert_eq!(get("/stacks/some-stack"), (200, index.clone()));
    assert_eq!(get("/assets/no-such-bundle.js").0, 404);

    // The playground loads only voc's own files: it works offline.
    let (status, playground) = get("/graphiql");
    assert_eq!(status, 200);
    assert!(!playground.contains("http://") && !playground.contains("https://"), "{playground}");
    let script = playground
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the playground page names its script");
    assert!(script.starts_with("/assets/"), "{script}");
    assert_eq!(get(script).0, 200);
}
