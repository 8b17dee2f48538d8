//! The Elasticsearch stand-in as a child process.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use super::*;

/// The Elasticsearch stand-in, as a process.
pub struct StandIn {
    pub proc: Proc,
    pub url: String,
    pub port: u16,
}

impl StandIn {
    pub fn start() -> StandIn {
        StandIn::start_with(&[])
    }

    /// With extra arguments, such as `--no-source`.
    pub fn start_with(args: &[&str]) -> StandIn {
        let mut child = Command::new(env!("CARGO_BIN_EXE_es-standin"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start es-standin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("es-standin said {line:?}"))
            .to_owned();
        let port = addr.rsplit(':').next().unwrap().parse().unwrap();
        StandIn {
            proc: Proc(child),
            url: format!("http://{addr}"),
            port,
        }
    }

    pub fn faults(&self, json: &str) {
        let (status, body) = http(self.port, "POST", "/_standin/faults", json);
        assert_eq!(status, 200, "{body}");
    }

    pub fn stats(&self) -> serde_json::Value {
        let (_, body) = http(self.port, "GET", "/_standin/stats", "");
        serde_json::from_str(&body).unwrap()
    }

    /// Every `_id` held in the indices matching `pattern`.
    /// Documents held in the indices whose names start with `prefix`
    /// (each `_id` once: an overwrite does not add one).
    pub fn docs(&self, prefix: &str) -> u64 {
        self.stats()["docs"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v.as_u64().unwrap())
            .sum()
    }

    pub fn ids(&self, pattern: &str) -> Vec<String> {
        let (status, body) = http(
            self.port,
            "GET",
            &format!("/_standin/ids?index={pattern}"),
            "",
        );
        assert_eq!(status, 200, "{body}");
        body.lines().map(str::to_owned).collect()
    }

    pub fn search(&self, index: &str, query: &str) -> serde_json::Value {
        let (_, body) = http(self.port, "POST", &format!("/{index}/_search"), query);
        serde_json::from_str(&body).unwrap()
    }
}
