//! The GraphQL endpoint, its WebSocket and its playground.

use std::net::SocketAddr;

use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{HeaderMap, Method};
use axum::response::Response;

use super::{ClientAddr, HttpState, auth};
use crate::api::ErrorCode;

/// `GET` and `POST /graphql`: runs the request as the caller its cookie or
/// token names (or as nobody: then only `login` answers).
///
/// A `GET` may only read: a mutation sent by `GET` is refused, since a
/// browser follows a cross-site link with the `SameSite=Lax` session cookie.
/// Errors that no resolver labelled (a query that does not parse, is too
/// deep or too complex) get `extensions.code` too.
pub async fn query(
    State(state): State<HttpState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    method: Method,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let request = request.into_inner();
    if method == Method::GET && !only_queries(&request) {
        return refusal(
            ErrorCode::Forbidden,
            "mutations and subscriptions must be sent with POST (or over the WebSocket), not GET",
        );
    }
    let caller = auth::authenticate(&state.app, &headers).await;
    let session = auth::session_cookie(&headers);
    let request = request
        .data(caller)
        .data(session)
        .data(ClientAddr(addr));
    let mut response = state.schema.execute(request).await;
    label_errors(&mut response);
    response.into()
}

/// Whether every operation of the request is a query (an unparsable
/// request counts as one: execution reports the parse error).
fn only_queries(request: &async_graphql::Request) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return true;
    };
    match &document.operations {
        DocumentOperations::Single(operation) => operation.node.ty == OperationType::Query,
        DocumentOperations::Multiple(operations) => operations
            .values()
            .all(|operation| operation.node.ty == OperationType::Query),
    }
}

/// A response holding only an error with `code`.
fn refusal(code: ErrorCode, message: &str) -> GraphQLResponse {
    let mut error = async_graphql::ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code.as_str());
    async_graphql::Response::from_errors(vec![error]).into()
}

/// Gives every error without a code one: `VALIDATION` for the request's
/// own errors (parse, unknown field, depth, complexity: no path), else
/// `INTERNAL`.
fn label_errors(response: &mut async_graphql::Response) {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            let code = if error.path.is_empty() {
                ErrorCode::Validation
            } else {
                ErrorCode::Internal
            };
            extensions.set("code", code.as_str());
        }
    }
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
