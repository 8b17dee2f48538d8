//! Faults tests inject (`POST /_standin/faults`): per-item 429s, whole-request
//! failures, outages that close connections, latency, mapping conflicts.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::SeedableRng;
use serde::Deserialize;
use serde_json::json;

use crate::admin::error_response;
use crate::store::{lock, Shared};

/// Faults to inject; all off by default. Replaced as a whole by
/// `POST /_standin/faults`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Faults {
    /// Fraction of bulk items answered with a per-item 429.
    pub(crate) item_429_rate: f64,
    /// Answer this many next bulk requests as a whole with `request_status`.
    pub(crate) request_failures: u64,
    /// 429 or 503 for `request_failures`.
    pub(crate) request_status: u16,
    /// For this many seconds from now, refuse everything: new connections
    /// are closed at once and requests on open ones get 503 and close.
    pub(crate) outage_seconds: f64,
    /// Added before every bulk response.
    pub(crate) latency_ms: u64,
    /// These fields are mapped as `long` in every index, so a document with
    /// a non-numeric value there fails with a mapping error.
    pub(crate) long_fields: Vec<String>,
    /// Answer 413 to bulk bodies larger than this (like a cluster with a
    /// small `http.max_content_length`); 0 means the default 100 MB.
    pub(crate) max_body_bytes: usize,
    /// When set, every request but the stand-in's own must carry this
    /// `Authorization` header value (e.g. `Basic dXNlcjpwYXNz`), else 401.
    pub(crate) require_authorization: Option<String>,
    /// Seed for the random choices, so a run can be repeated.
    pub(crate) seed: u64,
}

/// Closes new connections at once while an outage is on.
pub(crate) struct OutageListener {
    pub(crate) inner: tokio::net::TcpListener,
    pub(crate) store: Shared,
}

impl axum::serve::Listener for OutageListener {
    type Io = tokio::net::TcpStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (io, addr) = match self.inner.accept().await {
                Ok(x) => x,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let down = lock(&self.store)
                .outage_until
                .is_some_and(|t| Instant::now() < t);
            if down {
                drop(io);
                continue;
            }
            let _ = io.set_nodelay(true);
            return (io, addr);
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

pub(crate) async fn product_and_outage(
    State(store): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let is_admin = request.uri().path().starts_with("/_standin");
    let (down, auth_ok, gzip_seen) = {
        let st = lock(&store);
        let given = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        let auth_ok = match &st.faults.require_authorization {
            Some(want) => given == Some(want.as_str()),
            None => true,
        };
        let gzip = request
            .headers()
            .get("content-encoding")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        (
            st.outage_until.is_some_and(|t| Instant::now() < t),
            auth_ok,
            gzip,
        )
    };
    if gzip_seen {
        lock(&store).counters.gzip_requests += 1;
    }
    let mut response = if !auth_ok && !is_admin {
        let mut r = error_response(
            StatusCode::UNAUTHORIZED,
            "security_exception",
            "unable to authenticate user [logredact] for REST request [/_bulk]",
        );
        r.headers_mut().insert(
            "www-authenticate",
            HeaderValue::from_static("Basic realm=\"security\" charset=\"UTF-8\""),
        );
        r
    } else if down && !is_admin {
        let mut r = error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "cluster_block_exception",
            "blocked by: [SERVICE_UNAVAILABLE/1/state not recovered / initialized];",
        );
        r.headers_mut()
            .insert("connection", HeaderValue::from_static("close"));
        r
    } else {
        next.run(request).await
    };
    response.headers_mut().insert(
        "x-elastic-product",
        HeaderValue::from_static("Elasticsearch"),
    );
    response
}

pub(crate) async fn set_faults(State(s): State<Shared>, body: Bytes) -> Response {
    let faults: Faults = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "parse_exception",
                &format!("faults: {e}"),
            )
        }
    };
    let mut st = lock(&s);
    st.outage_until = (faults.outage_seconds > 0.0)
        .then(|| Instant::now() + Duration::from_secs_f64(faults.outage_seconds));
    st.rng = rand::rngs::StdRng::seed_from_u64(faults.seed);
    st.faults = faults;
    axum::Json(json!({"acknowledged": true})).into_response()
}
