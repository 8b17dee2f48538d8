//! Test rig: the Elasticsearch stand-in, the tansu broker, the daemon as a
//! process, and a producer. Everything binds 127.0.0.1 on free ports and
//! lives in a fresh temporary directory.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("logredact-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Keep the logs of a failed test for whoever investigates.
        if std::thread::panicking() || std::env::var_os("LOGREDACT_KEEP_TEST_DIRS").is_some() {
            eprintln!("test files kept in {}", self.0.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, what: &str) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{what} did not start listening on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

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

/// A minimal HTTP/1.1 request; returns status and body.
pub fn http(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let (status, body) = http_bytes(port, method, path, body);
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// `http`, with the response body as bytes.
pub fn http_bytes(port: u16, method: &str, path: &str, body: &str) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let rest = raw.get(split + 4..).unwrap_or_default();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    (status, body)
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&rest[..line_end]);
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        let tail = &rest[line_end + 2..];
        out.extend_from_slice(&tail[..n]);
        rest = &tail[n + 2..];
    }
    out
}

/// Finds the tansu binary: $TANSU, then ~/.cargo/bin, then PATH.
pub fn tansu_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("TANSU") {
        return p.into();
    }
    if let Some(home) = std::env::var_os("HOME") {
        let p = Path::new(&home).join(".cargo/bin/tansu");
        if p.exists() {
            return p;
        }
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("tansu"))
            .find(|p| p.exists())
    });
    found.unwrap_or_else(|| {
        panic!("tansu is not installed; scripts/test installs it (cargo install --locked tansu --features libsql)")
    })
}

/// A tansu broker with SQLite storage.
pub struct Tansu {
    pub proc: Proc,
    pub port: u16,
    pub bootstrap: String,
    _dir: TempDir,
}

impl Tansu {
    pub fn start() -> Tansu {
        let dir = TempDir::new("tansu");
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let log = std::fs::File::create(dir.path().join("tansu.log")).unwrap();
        let child = Command::new(tansu_binary())
            .current_dir(dir.path())
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
                "--storage-engine",
                "sqlite://tansu.db",
            ])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start tansu");
        let proc = Proc(child);
        wait_for_port(port, "tansu");
        Tansu {
            proc,
            port,
            bootstrap: format!("127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    pub fn create_topic(&self, name: &str, partitions: u32) {
        let out = Command::new(tansu_binary())
            .args([
                "topic",
                "create",
                "--broker",
                &format!("tcp://127.0.0.1:{}", self.port),
                "--partitions",
                &partitions.to_string(),
                name,
            ])
            .output()
            .expect("run tansu topic create");
        assert!(
            out.status.success(),
            "tansu topic create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Counts delivery failures, so a test never runs on events that were not
/// actually produced.
#[derive(Default)]
pub struct DeliveryCheck {
    pub failed: std::sync::Mutex<Vec<String>>,
}

impl rdkafka::ClientContext for DeliveryCheck {}

impl rdkafka::producer::ProducerContext for DeliveryCheck {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &rdkafka::message::DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.failed.lock().unwrap().push(e.to_string());
        }
    }
}

/// A producer that can be used for many sends (keys continue across them).
pub struct TestProducer {
    producer: ThreadedProducer<DeliveryCheck>,
    sent: u64,
}

impl TestProducer {
    pub fn new(bootstrap: &str, linger_ms: u32) -> TestProducer {
        let producer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("linger.ms", linger_ms.to_string())
            .set("message.max.bytes", "10000000")
            .set("enable.idempotence", "false")
            .create_with_context(DeliveryCheck::default())
            .unwrap();
        TestProducer { producer, sent: 0 }
    }

    /// Sends payloads, keyed round-robin, and waits until all are
    /// delivered; panics if any was not.
    pub fn send(&mut self, topic: &str, payloads: impl IntoIterator<Item = Vec<u8>>) -> u64 {
        let mut n = 0u64;
        for payload in payloads {
            let key = (self.sent + n).to_string();
            let mut record = BaseRecord::to(topic).key(&key).payload(&payload);
            loop {
                match self.producer.send(record) {
                    Ok(()) => break,
                    Err((_, r)) => {
                        record = r;
                        self.producer.poll(Duration::from_millis(10));
                    }
                }
            }
            n += 1;
        }
        self.producer.flush(Duration::from_secs(120)).unwrap();
        let failed = self.producer.context().failed.lock().unwrap();
        assert!(
            failed.is_empty(),
            "{} events not delivered: {:?}",
            failed.len(),
            &failed[..failed.len().min(3)]
        );
        drop(failed);
        self.sent += n;
        n
    }
}

/// Produces payloads, keyed round-robin over partitions; waits for all and
/// panics if any was not delivered.
pub fn produce(bootstrap: &str, topic: &str, payloads: impl IntoIterator<Item = Vec<u8>>) -> u64 {
    TestProducer::new(bootstrap, 10).send(topic, payloads)
}

/// Sample events, each made unique by a sequence field.
pub fn sample_events(count: usize) -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/access.ndjson"
    ))
    .unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
        .collect();
    (0..count)
        .map(|i| {
            let line = lines[i % lines.len()];
            format!("{{\"seq\":{i},{}", &line[1..]).into_bytes()
        })
        .collect()
}

fn append_lines(table: &mut String, lines: &str) {
    table.push_str(lines);
    table.push('\n');
}

/// A daemon config for tests, built from defaults every rig shares: the
/// shipped rules, hot and cold Elasticsearch outputs on one stand-in (hot a
/// dated index, cold a dated index), a `dead` dead-letter directory, JSON
/// logs and metrics on a free localhost port. Setters change one part; the
/// `*_extra` ones add TOML lines to a table.
pub struct TestConfig {
    bootstrap: String,
    es: String,
    group: String,
    topic: String,
    rules_dir: PathBuf,
    properties: Vec<(String, String)>,
    hot_target: String,
    cold_target: String,
    flush_interval: String,
    outputs_extra: String,
    hot_extra: String,
    cold_extra: String,
    pipeline_extra: String,
    metrics_extra: String,
    commit_interval: String,
}

impl TestConfig {
    pub fn new(bootstrap: &str, es: &str) -> TestConfig {
        TestConfig {
            bootstrap: bootstrap.to_owned(),
            es: es.to_owned(),
            group: "logredact-test".to_owned(),
            topic: "access".to_owned(),
            rules_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"),
            properties: Vec::new(),
            hot_target: r#"index = "logs-hot-%Y.%m.%d""#.to_owned(),
            cold_target: r#"index = "logs-cold-%Y.%m.%d""#.to_owned(),
            flush_interval: "50ms".to_owned(),
            outputs_extra: String::new(),
            hot_extra: String::new(),
            cold_extra: String::new(),
            pipeline_extra: String::new(),
            metrics_extra: String::new(),
            commit_interval: "200ms".to_owned(),
        }
    }

    pub fn group(mut self, group: &str) -> Self {
        self.group = group.to_owned();
        self
    }

    pub fn topic(mut self, topic: &str) -> Self {
        self.topic = topic.to_owned();
        self
    }

    pub fn rules(mut self, dir: &Path) -> Self {
        self.rules_dir = dir.to_owned();
        self
    }

    /// A librdkafka property.
    pub fn property(mut self, key: &str, value: &str) -> Self {
        self.properties.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Where hot writes: an `index = ...` or `data_stream = ...` line.
    pub fn hot_target(mut self, line: &str) -> Self {
        self.hot_target = line.to_owned();
        self
    }

    pub fn cold_target(mut self, line: &str) -> Self {
        self.cold_target = line.to_owned();
        self
    }

    pub fn flush_interval(mut self, interval: &str) -> Self {
        self.flush_interval = interval.to_owned();
        self
    }

    pub fn commit_interval(mut self, interval: &str) -> Self {
        self.commit_interval = interval.to_owned();
        self
    }

    /// TOML lines added to both outputs' tables.
    pub fn outputs_extra(mut self, lines: &str) -> Self {
        append_lines(&mut self.outputs_extra, lines);
        self
    }

    /// TOML lines added to the hot output's table.
    pub fn hot_extra(mut self, lines: &str) -> Self {
        append_lines(&mut self.hot_extra, lines);
        self
    }

    /// TOML lines added to the cold output's table.
    pub fn cold_extra(mut self, lines: &str) -> Self {
        append_lines(&mut self.cold_extra, lines);
        self
    }

    /// TOML lines added to `[pipeline]`.
    pub fn pipeline_extra(mut self, lines: &str) -> Self {
        append_lines(&mut self.pipeline_extra, lines);
        self
    }

    /// TOML lines added to `[metrics]`.
    pub fn metrics_extra(mut self, lines: &str) -> Self {
        append_lines(&mut self.metrics_extra, lines);
        self
    }

    pub fn toml(&self) -> String {
        let properties: Vec<String> = self
            .properties
            .iter()
            .map(|(k, v)| format!("{k:?} = {v:?}"))
            .collect();
        let output = |name: &str, target: &str, own: &str| {
            format!(
                "[outputs.{name}]\ntype = \"elasticsearch\"\nnodes = [\"{es}\"]\n{target}\nflush_interval = \"{flush}\"\n{extra}{own}",
                es = self.es,
                flush = self.flush_interval,
                extra = self.outputs_extra,
            )
        };
        format!(
            r#"version = 1
[kafka]
bootstrap_servers = "{bootstrap}"
topics = ["{topic}"]
group_id = "{group}"
properties = {{ {properties} }}
[rules]
dir = "{rules}"
{hot}
{cold}
[dead_letter]
dir = "dead"
[pipeline]
commit_interval = "{commit}"
{pipeline}
[log]
format = "json"
[metrics]
listen = "127.0.0.1:0"
{metrics}"#,
            bootstrap = self.bootstrap,
            group = self.group,
            topic = self.topic,
            properties = properties.join(", "),
            rules = self.rules_dir.display(),
            hot = output("hot", &self.hot_target, &self.hot_extra),
            cold = output("cold", &self.cold_target, &self.cold_extra),
            commit = self.commit_interval,
            pipeline = self.pipeline_extra,
            metrics = self.metrics_extra,
        )
    }

    /// Writes the config into `dir` and returns its path.
    pub fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join("logredact.toml");
        std::fs::write(&path, self.toml()).unwrap();
        path
    }
}

/// The daemon as a process; its log goes to a file.
pub struct Daemon {
    pub proc: Proc,
    pub log: PathBuf,
}

impl Daemon {
    pub fn start(config: &Path, log: &Path) -> Daemon {
        Daemon::start_with_env(config, log, &[])
    }

    pub fn start_with_env(config: &Path, log: &Path, env: &[(&str, &str)]) -> Daemon {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        // LOGREDACT_DAEMON_WRAPPER (e.g. "perf record -g -o /tmp/p.data")
        // runs the daemon under a profiler.
        let wrapper = std::env::var("LOGREDACT_DAEMON_WRAPPER").unwrap_or_default();
        let mut words: Vec<String> = wrapper.split_whitespace().map(str::to_owned).collect();
        // systemd sets WATCHDOG_PID to the service's pid; `sh` can do that
        // and then exec the daemon under the same pid.
        if env
            .iter()
            .any(|(k, v)| *k == "WATCHDOG_PID" && *v == "self")
        {
            words.extend(["sh", "-c", "WATCHDOG_PID=$$ exec \"$0\" \"$@\""].map(str::to_owned));
        }
        words.push(env!("CARGO_BIN_EXE_logredact").to_owned());
        let child = Command::new(&words[0])
            .args(&words[1..])
            .args(["run", "--config"])
            .arg(config)
            .envs(env.iter().copied().filter(|(k, _)| *k != "WATCHDOG_PID"))
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("start logredact");
        Daemon {
            proc: Proc(child),
            log: log.to_owned(),
        }
    }

    /// SIGHUP: reload the rules.
    pub fn reload(&self) {
        unsafe_kill(self.proc.0.id() as i32, 1);
    }

    pub fn kill9(&mut self) {
        let _ = self.proc.0.kill();
        let _ = self.proc.0.wait();
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.proc.0.id() as i32;
        unsafe_kill(pid, 15);
        let start = Instant::now();
        loop {
            if let Some(status) = self.proc.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the daemon did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.proc.0.try_wait().unwrap().is_none()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The metrics address the daemon logged, once it has.
    pub fn metrics_port(&self) -> u16 {
        let mut port = 0;
        wait_until(Duration::from_secs(30), || {
            port = self
                .log_text()
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find_map(|v| {
                    let addr = v["fields"]["address"].as_str()?;
                    addr.rsplit(':').next()?.parse().ok()
                })
                .unwrap_or(0);
            port != 0
        });
        assert!(port != 0, "the daemon did not log its metrics address");
        port
    }

    /// Resident memory in KiB, from /proc.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.proc.0.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

fn unsafe_kill(pid: i32, signal: i32) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

/// Polls `cond` until it holds or `limit` passes; returns whether it held.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    cond()
}

/// Dead-letter records in a directory.
pub fn dead_letters(dir: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for p in paths {
        for line in std::fs::read_to_string(p).unwrap().lines() {
            out.push(serde_json::from_str(line).unwrap());
        }
    }
    out
}

/// Scrapes `/metrics` into `name{labels}` → value, checking each line.
pub fn scrape(port: u16) -> BTreeMap<String, f64> {
    let (status, body) = http(port, "GET", "/metrics", "");
    assert_eq!(status, 200);
    let mut out = BTreeMap::new();
    for line in body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (key, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line}"));
        out.insert(
            key.to_owned(),
            value
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("bad value in {line}")),
        );
    }
    out
}

/// A sample's value, 0 when absent.
pub fn get(m: &BTreeMap<String, f64>, key: &str) -> f64 {
    *m.get(key).unwrap_or(&0.0)
}
