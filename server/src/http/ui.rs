//! The web app (`web/`, built by Vite into `web/dist`) and the GraphQL
//! playground, compiled into the binary so that a voc without internet
//! access serves them.
//!
//! Hashed files under `assets/` never change, so browsers may keep them for
//! a year; `index.html` and the other files are revalidated on each visit.
//! A path that is no file is one of the app's routes (`/stacks/shop`): it
//! gets `index.html`, and the app's router takes it from there.

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

/// `web/dist`, as the web build left it when voc was compiled (empty when
/// the web app was not built).
#[derive(RustEmbed)]
#[folder = "../web/dist/"]
#[allow_missing = true]
struct WebFiles;

/// What a voc built without its web app answers instead of the app.
const NOT_BUILT: &str = "voc's web app is not in this binary: build it with `npm ci && npm run build` \
in web/, then build voc again (scripts/run.sh does both). The GraphQL API is at /graphql.\n";

/// `GET /graphiql`: the playground page of the web build.
pub async fn playground() -> Response {
    serve("graphiql.html")
}

/// Any other path: a file of the web app, or its `index.html`.
pub async fn file(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    if path.is_empty() {
        return serve("index.html");
    }
    if WebFiles::get(path).is_some() {
        return serve(path);
    }
    // A missing asset is a 404 (a stale page asking for an old bundle must
    // not get HTML as JavaScript); anything else is a route of the app.
    if path.starts_with("assets/") || path.contains('.') {
        return (StatusCode::NOT_FOUND, "no such file\n").into_response();
    }
    serve("index.html")
}

fn serve(path: &str) -> Response {
    let Some(file) = WebFiles::get(path) else {
        return (StatusCode::SERVICE_UNAVAILABLE, NOT_BUILT).into_response();
    };
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mime = file.metadata.mimetype();
    let mut response = file.data.into_owned().into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}
