//! The axum app both HTTP benchmark servers serve (feature `http`): the
//! same `Router`, so the runtimes are the only difference.

use axum::extract::Path;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

/// `GET /plaintext` (a fixed text body), `GET /json` (a small JSON object)
/// and `GET /users/{id}` (a path parameter echoed as JSON).
pub fn app() -> Router {
    Router::new()
        .route("/plaintext", get(|| async { "Hello, World!" }))
        .route(
            "/json",
            get(|| async { Json(json!({ "message": "Hello, World!" })) }),
        )
        .route("/users/{id}", get(user))
}

async fn user(Path(id): Path<u64>) -> Json<Value> {
    Json(json!({ "id": id, "name": format!("user{id}") }))
}
