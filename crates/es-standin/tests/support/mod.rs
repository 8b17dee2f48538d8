//! The stand-in served in the test's own runtime, and a bare HTTP/1.1
//! client: the bytes of each response are what the tests look at, so no
//! client library re-reads them.

#![allow(dead_code)] // each test file uses part of it

use std::net::SocketAddr;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct StandIn {
    addr: SocketAddr,
}

impl StandIn {
    pub async fn start() -> StandIn {
        StandIn::start_with(true).await
    }

    /// `keep_source: false` is `--no-source`.
    pub async fn start_with(keep_source: bool) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(es_standin::serve_on(listener, keep_source));
        StandIn { addr }
    }

    /// The status and body text of one request.
    pub async fn call(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nhost: standin\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let text = String::from_utf8(raw).unwrap();
        let (head, rest) = text.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let chunked = head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        let body = if chunked {
            dechunk(rest)
        } else {
            rest.to_owned()
        };
        (status, body)
    }

    /// The status and body of one request, the body parsed.
    pub async fn json(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let (status, text) = self.call(method, path, body).await;
        let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        (status, value)
    }

    /// Indexes NDJSON `lines` (each action and source, without newlines).
    pub async fn bulk(&self, lines: &[String]) {
        let mut body = lines.join("\n");
        body.push('\n');
        let (status, response) = self.json("POST", "/_bulk", &body).await;
        assert_eq!(status, 200, "{response}");
        assert_eq!(response["errors"], false, "{response}");
    }

    /// Opens a point in time over `index`; its id.
    pub async fn open_pit(&self, index: &str) -> String {
        let (status, response) = self
            .json("POST", &format!("/{index}/_pit?keep_alive=1m"), "")
            .await;
        assert_eq!(status, 200, "{response}");
        response["id"].as_str().unwrap().to_owned()
    }
}

/// An `index` action line and its source line.
pub fn index_op(index: &str, id: &str, source: &str) -> [String; 2] {
    [
        format!(r#"{{"index":{{"_index":"{index}","_id":"{id}"}}}}"#),
        source.to_owned(),
    ]
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
}

/// The ids of a search response's hits, in order.
pub fn hit_ids(response: &Value) -> Vec<String> {
    response["hits"]["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits: {response}"))
        .iter()
        .map(|h| h["_id"].as_str().unwrap().to_owned())
        .collect()
}
