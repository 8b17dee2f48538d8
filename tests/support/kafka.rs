//! The tansu broker as a child process, and a producer that checks every
//! delivery.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};

use super::*;

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
