//! The daemon as a child process, and the config the tests give it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::*;

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

/// Seals the cold output of the config at `config`: a new signing key
/// `NAME.pem` beside it, `seal = true` on cold, a `[seal]` section. Returns
/// the key's path.
pub fn seal_cold(config: &Path, key_name: &str, extra: &str) -> PathBuf {
    let dir = config.parent().unwrap();
    let key = dir.join(format!("{key_name}.pem"));
    if !key.exists() {
        logredact::commands::keys::generate(&key, &mut std::io::sink()).unwrap();
    }
    let text = std::fs::read_to_string(config).unwrap();
    let text = if text.contains("[outputs.cold]\nseal = true\n") {
        text
    } else {
        text.replacen("[outputs.cold]\n", "[outputs.cold]\nseal = true\n", 1)
    };
    let text = match text.find("\n[seal]") {
        Some(at) => text[..at].to_owned(),
        None => text,
    };
    std::fs::write(
        config,
        format!(
            "{text}\n[seal]\nkey = \"file:{}\"\n{extra}\n",
            key.display()
        ),
    )
    .unwrap();
    key
}

/// Runs `logredact verify` on a config; panics with its report unless
/// everything holds.
pub fn assert_verify_clean(config: &Path) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_logredact"))
        .args(["verify", "--config"])
        .arg(config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("everything holds"),
        "verify: {}\n{text}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
