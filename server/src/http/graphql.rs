//! The GraphQL endpoint, its WebSocket and its playground.

use std::net::SocketAddr;

use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};

use super::{ClientAddr, HttpState, auth};

/// `GET` and `POST /graphql`: runs the request as the caller its cookie or
/// token names (or as nobody: then only `login` answers).
pub async fn query(
    State(state): State<HttpState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let caller = auth::authenticate(&state.app, &headers).await;
    let session = auth::session_cookie(&headers);
    let request = request
        .into_inner()
        .data(caller)
        .data(session)
        .data(ClientAddr(addr));
    state.schema.execute(request).await.into()
}

/// `GET /graphql/ws`: subscriptions. The caller is the token in the
/// connection parameters (`{"authorization": "Bearer <token>"}`), else the
/// session cookie when the page's `Origin` is allowed.
pub async fn subscribe(
    State(state): State<HttpState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let cookie_caller = if auth::origin_allowed(&state.app, &headers) {
        auth::authenticate(&state.app, &headers).await
    } else {
        None
    };
    let app = state.app.clone();
    let schema = state.schema.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| {
            GraphQLWebSocket::new(stream, schema, protocol)
                .on_connection_init(move |params| async move {
                    let caller = match auth::bearer_in_params(&params) {
                        Some(token) => Some(auth::authenticate_token(&app, &token).await.ok_or_else(
                            || async_graphql::Error::new("the API token in the connection parameters is not valid"),
                        )?),
                        None => cookie_caller,
                    };
                    let mut data = Data::default();
                    data.insert(caller);
                    data.insert(ClientAddr(addr));
                    Ok(data)
                })
                .serve()
        })
}

/// `GET /graphiql`: the playground, pointed at this server.
pub async fn playground() -> impl IntoResponse {
    Html(PLAYGROUND_HTML)
}

/// GraphiQL from its published bundle, sending the session cookie with
/// each request. The web app replaces it with a bundled copy that works
/// without internet access.
const PLAYGROUND_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>voc · GraphQL playground</title>
<style>body{margin:0;height:100vh}#graphiql{height:100vh}</style>
<link rel="stylesheet" href="https://unpkg.com/graphiql@3/graphiql.min.css">
</head>
<body>
<div id="graphiql">Loading the playground…</div>
<script crossorigin src="https://unpkg.com/react@18/umd/react.production.min.js"></script>
<script crossorigin src="https://unpkg.com/react-dom@18/umd/react-dom.production.min.js"></script>
<script crossorigin src="https://unpkg.com/graphiql@3/graphiql.min.js"></script>
<script>
const wsUrl = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql/ws';
const fetcher = GraphiQL.createFetcher({ url: '/graphql', subscriptionUrl: wsUrl });
ReactDOM.createRoot(document.getElementById('graphiql'))
  .render(React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: true }));
</script>
</body>
</html>
"#;
