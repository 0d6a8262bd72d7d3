//! Who may call `voc serve` (issue 4, section 5), against the real server:
//! signing in with the session cookie, API tokens over HTTP and on the
//! WebSocket, the `Origin` check for cookies on the WebSocket, roles, the
//! sign-in rate limit, and the first admin's generated password. These
//! need no Docker engine: `voc serve` starts without one.

use std::time::Duration;

use anyhow::Result;
use serde_json::{Value, json};
use voc_tests::server::{
    ADMIN_PASSWORD, ADMIN_USER, Auth, GraphqlClient, ServerOptions, VocServer,
};

const LOGIN: &str = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { user { name role } } }";
const ME: &str = "{ me { id name email role createdAt } }";
const HEARTBEAT: &str = "subscription { heartbeat(seconds: 1) }";
const CREATE_TOKEN: &str = "mutation($n: String!, $d: Int) { createApiToken(name: $n, expiresInDays: $d) \
     { token apiToken { id name prefix active expiresAt user { name } } } }";
const CREATE_USER: &str =
    "mutation($i: CreateUserInput!) { createUser(input: $i) { id name email role } }";

fn server() -> VocServer {
    VocServer::start(ServerOptions::default()).expect("voc serve starts")
}

fn create_user(admin: &GraphqlClient, name: &str, role: &str) -> Result<Value> {
    admin.data(
        CREATE_USER,
        json!({"i": {"name": name, "email": format!("{name}@example.com"),
                     "password": format!("{name}-password"), "role": role}}),
    )
}

/// The code and message of the first error.
fn failure(client: &GraphqlClient, query: &str, variables: Value) -> (String, String) {
    let (code, error) = client.error_code(query, variables).expect("an error");
    (
        code,
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A POST with both an `Authorization` header and a session cookie.
fn post_with_bearer_and_cookie(
    server: &VocServer,
    token: &str,
    cookie: &str,
    query: &str,
) -> Value {
    let mut response = ureq::post(format!("{}/graphql", server.url))
        .header("Authorization", format!("Bearer {token}"))
        .header("Cookie", format!("voc_session={cookie}"))
        .send_json(json!({"query": query}))
        .expect("POST /graphql");
    serde_json::from_str(&response.body_mut().read_to_string().expect("body")).expect("JSON")
}

#[test]
fn login_sets_a_session_cookie_that_authenticates_until_logout() {
    let server = server();
    let anonymous = server.anonymous();

    let (code, message) = failure(&anonymous, ME, json!({}));
    assert_eq!(code, "UNAUTHENTICATED");
    assert!(message.contains("sign in"), "{message}");

    // A wrong password and an unknown name get the same answer.
    let wrong = failure(
        &anonymous,
        LOGIN,
        json!({"u": ADMIN_USER, "p": "not-the-password"}),
    );
    let unknown = failure(
        &anonymous,
        LOGIN,
        json!({"u": "nobody", "p": ADMIN_PASSWORD}),
    );
    assert_eq!(
        wrong,
        (
            "UNAUTHENTICATED".to_owned(),
            "wrong user name or password".to_owned()
        )
    );
    assert_eq!(unknown, wrong);

    let (body, cookies) = anonymous
        .post(LOGIN, json!({"u": ADMIN_USER, "p": ADMIN_PASSWORD}))
        .expect("login");
    assert_eq!(
        body["data"]["login"]["user"],
        json!({"name": "admin", "role": "ADMIN"}),
        "{body}"
    );
    let cookie = cookies
        .iter()
        .find(|c| c.starts_with("voc_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=604800"] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing in {cookie}"
        );
    }
    let session = cookie["voc_session=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(session.len(), 43, "{session}");

    let admin = server.admin().expect("admin");
    let me = admin.data(ME, json!({})).expect("me");
    assert_eq!(me["me"]["name"], "admin");
    assert_eq!(me["me"]["email"], "admin@localhost");
    assert_eq!(me["me"]["role"], "ADMIN");
    assert!(
        me["me"]["createdAt"].as_str().unwrap().ends_with('Z'),
        "{me}"
    );

    // Logging out ends the session and clears the cookie.
    let (body, cookies) = admin
        .post("mutation { logout }", json!({}))
        .expect("logout");
    assert_eq!(body["data"]["logout"], true, "{body}");
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("voc_session=;") && c.contains("Max-Age=0")),
        "{cookies:?}"
    );
    assert_eq!(failure(&admin, ME, json!({})).0, "UNAUTHENTICATED");
    // A made-up cookie is nobody.
    let forged = GraphqlClient {
        url: server.url.clone(),
        auth: Auth::Cookie("A".repeat(43)),
    };
    assert_eq!(failure(&forged, ME, json!({})).0, "UNAUTHENTICATED");

    assert!(
        !server.log_text().contains(&session),
        "the session id is in the log"
    );
    assert!(
        !server.log_text().contains(ADMIN_PASSWORD),
        "the password is in the log"
    );
}

#[test]
fn api_tokens_work_over_http_and_the_websocket_until_revoked() {
    let server = server();
    let admin = server.admin().expect("admin");
    let created = admin
        .data(CREATE_TOKEN, json!({"n": "ci", "d": 30}))
        .expect("createApiToken");
    let token = created["createApiToken"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = &created["createApiToken"]["apiToken"];
    assert!(token.starts_with("voc_") && token.len() == 47, "{token}");
    assert_eq!(listed["name"], "ci");
    assert_eq!(listed["active"], true);
    assert_eq!(listed["user"]["name"], "admin");
    assert_eq!(listed["prefix"].as_str().unwrap(), &token[..10]);
    assert!(listed["expiresAt"].is_string());
    let id = listed["id"].as_str().unwrap().to_owned();

    // Over HTTP.
    let client = server.with_token(&token);
    assert_eq!(
        client.data(ME, json!({})).expect("me")["me"]["name"],
        "admin"
    );
    // On the WebSocket, in connection_init's payload.
    let mut ticks = client.subscribe(HEARTBEAT, json!({})).expect("subscribe");
    assert_eq!(
        ticks.next(Duration::from_secs(10)).expect("tick")["heartbeat"],
        1
    );

    // The list never holds the token itself.
    let tokens = admin
        .data(
            "{ apiTokens { id name prefix active lastUsedAt } }",
            json!({}),
        )
        .expect("apiTokens");
    assert_eq!(tokens["apiTokens"].as_array().unwrap().len(), 1);
    assert!(!tokens.to_string().contains(&token));
    assert!(tokens["apiTokens"][0]["lastUsedAt"].is_string(), "{tokens}");

    // A bad bearer token is nobody, even beside a good cookie.
    let Auth::Cookie(cookie) = admin.auth.clone() else {
        panic!("admin signs in with a cookie")
    };
    let body = post_with_bearer_and_cookie(&server, "voc_not-a-token", &cookie, ME);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{body}"
    );

    let revoked = admin
        .data(
            "mutation($id: ID!) { revokeApiToken(id: $id) { id active revokedAt } }",
            json!({"id": id}),
        )
        .expect("revoke");
    assert_eq!(revoked["revokeApiToken"]["active"], false);
    assert!(revoked["revokeApiToken"]["revokedAt"].is_string());
    assert_eq!(failure(&client, ME, json!({})).0, "UNAUTHENTICATED");
    assert!(
        client.subscribe(HEARTBEAT, json!({})).is_err(),
        "a revoked token opened a socket"
    );

    let (code, _) = failure(
        &admin,
        "mutation { revokeApiToken(id: \"999\") { id } }",
        json!({}),
    );
    assert_eq!(code, "NOT_FOUND");
    let (code, _) = failure(&admin, CREATE_TOKEN, json!({"n": "ci", "d": 0}));
    assert_eq!(code, "VALIDATION");

    assert!(
        !server.log_text().contains(&token),
        "the token is in the log"
    );
}

#[test]
fn the_session_cookie_opens_the_websocket_only_from_a_matching_origin() {
    let server = server();
    let admin = server.admin().expect("admin");
    let mut ticks = admin.subscribe(HEARTBEAT, json!({})).expect("subscribe");
    assert_eq!(
        ticks.next(Duration::from_secs(10)).expect("tick")["heartbeat"],
        1
    );

    let mut foreign = admin
        .subscribe_from("http://evil.example", HEARTBEAT, json!({}))
        .expect("the socket opens; the subscription is refused");
    let refused = foreign.next(Duration::from_secs(10)).expect_err("refused");
    assert!(refused.to_string().contains("UNAUTHENTICATED"), "{refused}");

    // An allowed origin from the configuration works too.
    drop(server);
    let server = VocServer::start(ServerOptions {
        config: "allowed_origins = [\"https://voc.example\"]\n".to_owned(),
        ..ServerOptions::default()
    })
    .expect("voc serve starts");
    let admin = server.admin().expect("admin");
    let mut ticks = admin
        .subscribe_from("https://voc.example", HEARTBEAT, json!({}))
        .expect("subscribe");
    assert_eq!(
        ticks.next(Duration::from_secs(10)).expect("tick")["heartbeat"],
        1
    );
}

#[test]
fn roles_limit_what_users_may_do() {
    let server = server();
    let admin = server.admin().expect("admin");
    let viewer = create_user(&admin, "vera", "VIEWER").expect("create vera");
    assert_eq!(viewer["createUser"]["role"], "VIEWER");
    create_user(&admin, "otto", "OPERATOR").expect("create otto");

    let vera = server
        .login("vera", "vera-password")
        .expect("vera signs in");
    let otto = server
        .login("otto", "otto-password")
        .expect("otto signs in");
    let me = vera.data(ME, json!({})).expect("me");
    assert_eq!(
        (me["me"]["name"].clone(), me["me"]["role"].clone()),
        (json!("vera"), json!("VIEWER"))
    );

    for client in [&vera, &otto] {
        let (code, message) = failure(
            client,
            CREATE_USER,
            json!({"i": {"name": "eve", "email": "eve@example.com", "password": "eve-password", "role": "ADMIN"}}),
        );
        assert_eq!(code, "FORBIDDEN", "{message}");
        assert!(message.contains("admin role"), "{message}");
        assert_eq!(
            failure(client, "{ users { name } }", json!({})).0,
            "FORBIDDEN"
        );
        assert_eq!(
            failure(
                client,
                "mutation { deleteUser(name: \"admin\") }",
                json!({})
            )
            .0,
            "FORBIDDEN"
        );
    }

    // Anyone signed in has their own tokens, with their own role.
    let vera_token = vera
        .data(CREATE_TOKEN, json!({"n": "mine"}))
        .expect("vera's token");
    let vera_token = vera_token["createApiToken"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let as_vera = server.with_token(&vera_token);
    assert_eq!(as_vera.data(ME, json!({})).unwrap()["me"]["role"], "VIEWER");
    assert_eq!(
        failure(&as_vera, "{ users { name } }", json!({})).0,
        "FORBIDDEN"
    );
    let admin_token = admin
        .data(CREATE_TOKEN, json!({"n": "admin's"}))
        .expect("admin's token");
    let admin_token_id = admin_token["createApiToken"]["apiToken"]["id"].clone();
    let own = vera
        .data("{ apiTokens { name user { name } } }", json!({}))
        .unwrap();
    assert_eq!(
        own["apiTokens"],
        json!([{"name": "mine", "user": {"name": "vera"}}])
    );
    let all = admin
        .data("{ apiTokens { name user { name } } }", json!({}))
        .unwrap();
    assert_eq!(all["apiTokens"].as_array().unwrap().len(), 2, "{all}");
    let (code, _) = failure(
        &vera,
        "mutation($id: ID!) { revokeApiToken(id: $id) { id } }",
        json!({"id": admin_token_id}),
    );
    assert_eq!(code, "FORBIDDEN");

    // Admins manage users.
    let users = admin.data("{ users { name role } }", json!({})).unwrap();
    let names: Vec<&str> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "otto", "vera"]);
    let (code, message) = failure(
        &admin,
        CREATE_USER,
        json!({"i": {"name": "vera", "email": "v@example.com", "password": "another-password", "role": "ADMIN"}}),
    );
    assert_eq!(code, "CONFLICT", "{message}");
    let (code, error) = admin
        .error_code(
            CREATE_USER,
            json!({"i": {"name": "eve", "email": "not an address", "password": "eve-password", "role": "VIEWER"}}),
        )
        .unwrap();
    assert_eq!(code, "VALIDATION");
    assert_eq!(
        error["extensions"]["problems"][0]["field"], "input.email",
        "{error}"
    );
    let (code, error) = admin
        .error_code(
            CREATE_USER,
            json!({"i": {"name": "eve", "email": "eve@example.com", "password": "short", "role": "VIEWER"}}),
        )
        .unwrap();
    assert_eq!(code, "VALIDATION");
    assert_eq!(
        error["extensions"]["problems"][0]["field"], "input.password",
        "{error}"
    );
    assert_eq!(
        failure(
            &admin,
            "mutation { deleteUser(name: \"admin\") }",
            json!({})
        )
        .0,
        "CONFLICT"
    );
    assert_eq!(
        failure(
            &admin,
            "mutation { updateUser(name: \"admin\", input: {role: VIEWER}) { role } }",
            json!({})
        )
        .0,
        "CONFLICT"
    );
    assert_eq!(
        failure(
            &admin,
            "mutation { deleteUser(name: \"nobody\") }",
            json!({})
        )
        .0,
        "NOT_FOUND"
    );

    // A promotion applies to the running session at once.
    let promoted = admin
        .data(
            "mutation { updateUser(name: \"otto\", input: {role: ADMIN, email: \"otto@new.example\"}) { role email } }",
            json!({}),
        )
        .unwrap();
    assert_eq!(
        promoted["updateUser"],
        json!({"role": "ADMIN", "email": "otto@new.example"})
    );
    assert_eq!(
        otto.data("{ users { name } }", json!({})).unwrap()["users"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // A deleted user's session and tokens stop working.
    assert_eq!(
        admin
            .data("mutation { deleteUser(name: \"vera\") }", json!({}))
            .unwrap()["deleteUser"],
        true
    );
    assert_eq!(failure(&vera, ME, json!({})).0, "UNAUTHENTICATED");
    assert_eq!(failure(&as_vera, ME, json!({})).0, "UNAUTHENTICATED");
    assert!(!server.log_text().contains("vera-password"));
}

#[test]
fn changing_the_password_ends_the_other_sessions() {
    let server = server();
    let here = server.admin().expect("admin");
    let elsewhere = server.admin().expect("admin again");
    let change = "mutation($c: String!, $n: String!) { changePassword(current: $c, new: $n) }";

    let (code, error) = here
        .error_code(change, json!({"c": ADMIN_PASSWORD, "n": "short"}))
        .unwrap();
    assert_eq!(code, "VALIDATION");
    assert!(
        error["message"].as_str().unwrap().contains("at least 10"),
        "{error}"
    );
    let (code, error) = here
        .error_code(
            change,
            json!({"c": "not-the-password", "n": "a-new-password"}),
        )
        .unwrap();
    assert_eq!(code, "VALIDATION");
    assert_eq!(
        error["extensions"]["problems"][0]["field"], "current",
        "{error}"
    );

    let changed = here
        .data(change, json!({"c": ADMIN_PASSWORD, "n": "a-new-password"}))
        .expect("changePassword");
    assert_eq!(changed["changePassword"], true);
    assert_eq!(here.data(ME, json!({})).unwrap()["me"]["name"], "admin");
    assert_eq!(failure(&elsewhere, ME, json!({})).0, "UNAUTHENTICATED");
    assert!(server.admin().is_err(), "the old password still works");
    server
        .login(ADMIN_USER, "a-new-password")
        .expect("the new password works");
}

#[test]
fn five_wrong_passwords_lock_the_name_even_for_the_right_one() {
    let server = server();
    let admin = server.admin().expect("admin");
    create_user(&admin, "vera", "VIEWER").expect("create vera");
    let anonymous = server.anonymous();
    for attempt in 1..=5 {
        let (code, message) = failure(
            &anonymous,
            LOGIN,
            json!({"u": "admin", "p": format!("guess-{attempt}")}),
        );
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("UNAUTHENTICATED", "wrong user name or password")
        );
    }
    let (code, message) = failure(
        &anonymous,
        LOGIN,
        json!({"u": "admin", "p": ADMIN_PASSWORD}),
    );
    assert_eq!(code, "UNAUTHENTICATED");
    assert!(message.contains("too many failed sign-ins"), "{message}");
    assert!(message.contains("try again in"), "{message}");
    // The running session and other names are not locked.
    assert_eq!(admin.data(ME, json!({})).unwrap()["me"]["name"], "admin");
    server
        .login("vera", "vera-password")
        .expect("vera signs in");
}

#[test]
fn a_generated_first_admin_password_is_printed_once() {
    let server = VocServer::start(ServerOptions {
        env: vec![("VOC_ADMIN_PASSWORD".to_owned(), String::new())],
        ..ServerOptions::default()
    })
    .expect("voc serve starts");
    let lines: Vec<String> = server
        .stdout_lines()
        .into_iter()
        .filter(|line| line.contains("created the first admin"))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let rest = lines[0]
        .strip_prefix("voc: created the first admin: user admin, password ")
        .unwrap_or_else(|| panic!("unexpected line: {}", lines[0]));
    let (password, note) = rest.split_once(' ').expect("password and note");
    assert_eq!(
        note,
        "(shown only now; change it with the changePassword mutation)"
    );
    assert!(password.len() >= 20, "{password}");
    assert!(
        server.admin().is_err(),
        "the test password works without being configured"
    );
    let admin = server
        .login(ADMIN_USER, password)
        .expect("the printed password works");
    assert_eq!(admin.data(ME, json!({})).unwrap()["me"]["role"], "ADMIN");
    assert!(
        !server.log_text().contains(password),
        "the password is in the log"
    );
}
