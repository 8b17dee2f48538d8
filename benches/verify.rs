//! What `logredact verify` costs on a large sealed output: its peak memory
//! (resident set) and its speed, over a file output of `VERIFY_DOCS`
//! documents (default 1,000,000) in 4 partitions, sealed 10,000 offsets a
//! seal, written here with the daemon's own writers (action lines, the
//! chain, the signing key).
//!
//! Then the same with `--since` set to the last tenth of the seals: a
//! scheduled run that checks one day of a long retention.
//!
//! Run: cargo bench --bench verify

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use logredact::seal::{doc_hash, Chain, Fate, SealKey};
use logredact::sink::file::action_line;

const PARTITIONS: i32 = 4;
const PER_SEAL: usize = 10_000;
const TOPIC: &str = "access";

fn main() {
    let docs: i64 = std::env::var("VERIFY_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("logredact-verify-bench-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("cold/seals")).unwrap();
    let samples = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/samples/access.ndjson"
    ))
    .unwrap();
    let samples: Vec<&str> = samples.lines().filter(|l| l.starts_with('{')).collect();

    let key = SealKey::generate();
    std::fs::write(dir.join("seal.pem"), key.private_pem().unwrap()).unwrap();
    let base_ms = 1_790_000_000_000i64;
    let per_partition = docs / i64::from(PARTITIONS);
    let cuts_per_partition = (per_partition as usize).div_ceil(PER_SEAL) as i64;
    let mut data = std::io::BufWriter::new(
        std::fs::File::create(dir.join("cold/logs-cold-000000.ndjson")).unwrap(),
    );
    let mut seals = std::io::BufWriter::new(
        std::fs::File::create(dir.join("cold/seals/seals.ndjson")).unwrap(),
    );
    let mut line = Vec::new();
    for p in 0..PARTITIONS {
        let mut chain = Chain::new("cold", base_ms);
        for o in 0..per_partition {
            let doc = samples[(o as usize * 7 + p as usize) % samples.len()];
            line.clear();
            action_line(
                &mut line,
                "create",
                "logs-cold-2026.11.30",
                &logredact::sink::doc_id(TOPIC, p, o),
            );
            line.extend_from_slice(doc.as_bytes());
            line.push(b'\n');
            data.write_all(&line).unwrap();
            chain.push(o, Fate::Indexed(doc_hash(doc.as_bytes())));
            if (o + 1) as usize % PER_SEAL == 0 || o + 1 == per_partition {
                // One seal a "day" apart, so `--since` can pick the last tenth.
                let k = o / PER_SEAL as i64;
                let at = base_ms + k * 86_400_000;
                for c in chain.cut(TOPIC, p, &key, "bench", PER_SEAL, at) {
                    seals.write_all(&c.line).unwrap();
                    seals.write_all(b"\n").unwrap();
                }
            }
        }
    }
    data.flush().unwrap();
    seals.flush().unwrap();
    drop((data, seals));
    let config = dir.join("c.toml");
    std::fs::write(
        &config,
        r#"version = 1
[kafka]
bootstrap_servers = "127.0.0.1:1"
topics = ["access"]
group_id = "bench"
[outputs.cold]
type = "file"
dir = "cold"
index = "logs-cold-%Y.%m.%d"
seal = true
[dead_letter]
dir = "dead-letter"
[seal]
key = "file:seal.pem"
retention = "100000d"
"#,
    )
    .unwrap();
    let last_tenth = base_ms + (cuts_per_partition * 9 / 10) * 86_400_000;
    println!(
        "verify over {} documents in {PARTITIONS} partitions, {PER_SEAL} a seal",
        per_partition * i64::from(PARTITIONS)
    );
    for (what, since) in [
        ("whole output", None),
        ("last tenth (--since)", Some(last_tenth)),
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_logredact"));
        cmd.args(["verify", "--config"]).arg(&config);
        if let Some(ms) = since {
            cmd.arg("--since").arg(rfc3339(ms));
        }
        let started = Instant::now();
        // Reaped by wait4 below.
        #[allow(clippy::zombie_processes)]
        let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
        let mut text = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        // wait4 rather than Child::wait: it also says this child's own
        // peak resident set.
        let mut status = 0;
        // SAFETY: an all-zero rusage is valid, and wait4 only writes the
        // two values it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
        assert_eq!(pid, child.id() as i32);
        let secs = started.elapsed().as_secs_f64();
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "verify failed: {text}"
        );
        println!(
            "  {what:<22} peak RSS {:>7.1} MiB, {:>6.2} s, {}",
            usage.ru_maxrss as f64 / 1024.0,
            secs,
            text.lines().next().unwrap_or_default()
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
