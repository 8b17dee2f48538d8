//! Responses that carry documents' `_source`, byte for byte.
//!
//! ES keeps a document's source as the bytes it was sent and copies them
//! raw into JSON responses (GET, mget, search hits), so what a client reads
//! back is exactly what it indexed: keys in their order, `1.50` and `1e3` as
//! written, escapes as sent. Parsing the held text into a `Value` and
//! writing it out again would sort the keys and re-format the numbers, and a
//! check that compares bytes would then fail against the stand-in where it
//! passes against ES (or pass where it should fail). So responses with
//! sources are typed structs that hold the source as a [`RawValue`], which
//! serde_json writes out untouched.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::value::RawValue;

/// A held source as a raw JSON value; `None` when the stand-in runs without
/// sources, where ES leaves `_source` out.
pub(crate) fn raw_source(source: Option<&str>) -> Option<&RawValue> {
    // Checking is cheap next to the response and cannot fail: every held
    // source was parsed as a JSON object when it was indexed.
    source.map(|s| serde_json::from_str(s).expect("held sources are checked JSON"))
}

/// `body` as a JSON response with `status`.
pub(crate) fn json_reply<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the stand-in could not write its response: {e}"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_written_as_it_was_read() {
        #[derive(Serialize)]
        struct Hit<'a> {
            #[serde(rename = "_source")]
            source: Option<&'a RawValue>,
        }
        let held = r#"{"z": 1.50, "a": 1e3,  "m": "\u00e9"}"#;
        let out = serde_json::to_string(&Hit {
            source: raw_source(Some(held)),
        })
        .unwrap();
        assert_eq!(out, format!(r#"{{"_source":{held}}}"#));
    }
}
