//! `logredact gen`: realistic access logs with synthetic personal data, to
//! Kafka at a steady rate or to standard output. Feeds docker-compose, the
//! soak script and anyone trying a rule.
//!
//! The personal data is synthetic but valid: resident IDs carry a correct
//! GB 11643 check character and a real birth date, bank cards pass Luhn,
//! mobiles start 13-19. Decoys that must survive masking are planted too:
//! 18-digit order numbers with a wrong check character, 13-digit
//! epoch-millisecond timestamps and 16-digit trace IDs that fail Luhn.
//! Some events write a phone in a header, nest one twelve levels deep, or
//! repeat it as JSON `\u` escapes.
//!
//! The one generator of synthetic access logs: `gen --samples` writes
//! `samples/access.ndjson` (fixed times and seed, two broken lines; a test
//! checks the file is what it writes), which `demo`, the tests and the
//! benches read; `gen --brokers` feeds docker-compose and the soak.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rdkafka::config::ClientConfig;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use serde_json::{json, Value};

use crate::rules::detect::{cn_id_check_char, luhn_valid};

pub struct Options {
    /// Kafka bootstrap servers; `None` writes NDJSON to standard output.
    pub brokers: Option<String>,
    pub topic: String,
    /// Events per second; 0 means as fast as possible.
    pub rate: u64,
    /// How many events; 0 means until stopped.
    pub count: u64,
    pub seed: u64,
    /// The sample file's form: times from 2026-11-20 08:00 UTC, 137 ms
    /// apart, no `seq` field, and two broken lines (a line cut in half by a
    /// crashed shipper, and a plain-text error log line).
    pub samples: bool,
}

/// The seed `gen --samples` uses by default, and wrote the shipped samples
/// with.
pub const SAMPLES_SEED: u64 = 20261124;

/// Line numbers (from 0) of the sample file's broken lines.
const CUT_LINE: u64 = 700;
const TEXT_LINE: u64 = 1400;

const REGIONS: [&str; 8] = [
    "110105", "310104", "440305", "330106", "510107", "420111", "320102", "370202",
];
const SURNAMES: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"];
const GIVEN: [&str; 10] = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋"];
const PRIVILEGED: [&str; 5] = [
    "delete_user",
    "grant_role",
    "reset_password",
    "export_data",
    "update_permission",
];
const ORDINARY: [&str; 7] = [
    "login",
    "logout",
    "view_profile",
    "submit_application",
    "query_status",
    "download_form",
    "search",
];
const PATHS: [&str; 5] = [
    "/api/v1/profile",
    "/api/v1/applications",
    "/api/v1/search",
    "/admin/users",
    "/api/v1/forms/download",
];
const AGENTS: [&str; 3] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50",
    "okhttp/4.12.0",
];

/// Makes events; deterministic for a seed (apart from the timestamps).
pub struct Generator {
    rng: StdRng,
}

impl Generator {
    pub fn new(seed: u64) -> Generator {
        Generator {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.random_range(0..items.len())]
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.rng.random_range(0..10u8)))
            .collect()
    }

    pub fn cn_id(&mut self) -> String {
        let days = self.rng.random_range(0..365 * 55);
        let born = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).expect("a real date")
            + chrono::Days::new(days);
        let mut id = format!(
            "{}{}{}",
            self.pick(&REGIONS),
            born.format("%Y%m%d"),
            self.digits(3)
        );
        id.push(char::from(cn_id_check_char(id.as_bytes())));
        id
    }

    /// 18 digits shaped like an ID whose check character is wrong.
    fn order_no(&mut self) -> String {
        let id = self.cn_id();
        let right = id.as_bytes()[17];
        let wrong = if right == b'0' { b'1' } else { b'0' };
        let mut id = id[..17].to_owned();
        id.push(char::from(wrong));
        id
    }

    pub fn mobile(&mut self) -> String {
        format!("1{}{}", self.rng.random_range(3..10u8), self.digits(9))
    }

    pub fn bank_card(&mut self, len: usize) -> String {
        let prefix = self.pick(&["622202", "621700", "436742", "622848"]);
        let body = format!("{prefix}{}", self.digits(len - 7));
        let check = (0..10u8)
            .map(|d| format!("{body}{d}"))
            .find(|c| luhn_valid(c.as_bytes()))
            .expect("one check digit makes any body pass Luhn");
        check
    }

    /// 16 digits that fail Luhn.
    fn trace_id(&mut self) -> String {
        loop {
            let t = self.digits(16);
            if !luhn_valid(t.as_bytes()) && t.as_bytes()[0] != b'0' {
                return t;
            }
        }
    }

    fn email(&mut self) -> String {
        let user = self.pick(&["zhang.wei", "li_na", "wangfang88", "chen.min", "liu-yang"]);
        let domain = self.pick(&["example.com", "mail.example.cn", "corp.example.org"]);
        format!("{user}{}@{domain}", self.rng.random_range(0..100))
    }

    /// One access-log event, stamped `now`, as one NDJSON line (without
    /// the newline). `seq` numbers the event in a field, when given.
    pub fn line(&mut self, seq: Option<u64>, now: chrono::DateTime<chrono::Utc>) -> String {
        let phone = self.mobile();
        let mut event = self.event(now, &phone);
        if let Some(seq) = seq {
            event["seq"] = json!(seq);
        }
        let mut line = event.to_string();
        if self.rng.random_bool(0.05) {
            // The same phone written with JSON escapes: detectors must see
            // through them.
            let escaped: String = phone
                .chars()
                .map(|c| format!("\\u{:04x}", u32::from(c)))
                .collect();
            line.pop();
            line.push_str(&format!(",\"callback\":\"{escaped}\"}}"));
        }
        line
    }

    /// The sample file's line `i` (see [`Options::samples`]).
    pub fn sample_line(&mut self, i: u64) -> String {
        let start = chrono::DateTime::parse_from_rfc3339("2026-11-20T08:00:00Z")
            .expect("a fixed time")
            .with_timezone(&chrono::Utc);
        let at = start
            + chrono::Duration::milliseconds((i * 137 + self.rng.random_range(0..100)) as i64);
        let line = self.line(None, at);
        match i {
            CUT_LINE => {
                let mut cut = line.len() / 2;
                while !line.is_char_boundary(cut) {
                    cut -= 1;
                }
                line[..cut].to_owned()
            }
            TEXT_LINE => format!(
                "2026/11/20 08:03:11 [error] upstream timed out, client phone {}",
                self.mobile()
            ),
            _ => line,
        }
    }

    /// One access-log event, stamped `now`, holding `phone`.
    fn event(&mut self, now: chrono::DateTime<chrono::Utc>, phone: &str) -> Value {
        let phone = phone.to_owned();
        let name = format!("{}{}", self.pick(&SURNAMES), self.pick(&GIVEN));
        let (id_no, mail) = (self.cn_id(), self.email());
        let action = if self.rng.random_bool(0.08) {
            self.pick(&PRIVILEGED)
        } else {
            self.pick(&ORDINARY)
        };
        let status = *[200, 200, 200, 200, 200, 200, 201, 302, 400, 403, 404, 500]
            .get(self.rng.random_range(0..12))
            .expect("in range");
        let path = self.pick(&PATHS);
        let query = match self.rng.random_range(0..4) {
            0 => format!("phone={phone}&page=1"),
            1 => format!("email={}&lang=zh-CN", mail.replace('@', "%40")),
            2 => format!("q=%E5%BC%A0%E4%BC%9F&id_no={id_no}"),
            _ => "page=2&size=20".to_owned(),
        };
        let card = self.bank_card(16);
        let grouped: Vec<&str> = (0..4).map(|i| &card[i * 4..i * 4 + 4]).collect();
        let message = match self.rng.random_range(0..4) {
            0 => format!("用户{name}(身份证{id_no})通过手机{phone}提交了申请"),
            1 => format!(
                "联系人电话+86 {} {} {}，邮箱{mail}",
                &phone[..3],
                &phone[3..7],
                &phone[7..]
            ),
            2 => format!("payment by card {} accepted", grouped.join(" ")),
            _ => format!("{action} completed in {} ms", self.rng.random_range(1..900)),
        };
        let phone_value = if self.rng.random_bool(0.3) {
            json!(phone.parse::<u64>().expect("digits"))
        } else {
            json!(phone)
        };
        let mut event = json!({
            "@timestamp": now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            "ts_ms": now.timestamp_millis(),
            "host": format!("portal-web-{:02}", self.rng.random_range(1..9)),
            "service": "citizen-portal",
            "level": if status >= 500 { "ERROR" } else { "INFO" },
            "trace_id": self.trace_id(),
            "request": {
                "method": self.pick(&["GET", "POST", "PUT"]),
                "path": path,
                "query": query,
                "url": format!("https://portal.gov.example{path}?{query}"),
                "headers": {
                    "user-agent": self.pick(&AGENTS),
                    "x-forwarded-for": format!("10.{}.{}.{}", self.rng.random_range(0..256), self.rng.random_range(0..256), self.rng.random_range(0..256)),
                },
                "bytes": self.rng.random_range(200..4000),
            },
            "response": {
                "status": status,
                "bytes": self.rng.random_range(100..60000),
                "duration_ms": self.rng.random_range(1..900),
            },
            "user": {
                "uid": format!("u-{:06}", self.rng.random_range(0..1_000_000)),
                "name": name,
                "id_no": id_no,
                "phone": phone_value,
                "email": mail,
            },
            "action": action,
            "order_no": self.order_no(),
            "message": message,
        });
        if self.rng.random_bool(0.2) {
            let len = if self.rng.random_bool(0.5) { 16 } else { 19 };
            let amount = f64::from(self.rng.random_range(100..500_000u32)) / 100.0;
            event["payment"] = json!({ "card_no": self.bank_card(len), "amount": amount });
        }
        if self.rng.random_bool(0.1) {
            event["contacts"] = json!([
                { "relation": "spouse", "mobile": self.mobile() },
                { "relation": "parent", "mobile": format!("0086-{}", self.mobile()) },
            ]);
        }
        if self.rng.random_bool(0.3) {
            event["request"]["headers"]["x-user-phone"] = json!(phone);
        }
        if self.rng.random_bool(0.05) {
            let mut deep = json!({ "phone": self.mobile() });
            for level in 0..12 {
                deep = json!({ format!("l{level}"): deep });
            }
            event["extra"] = deep;
        }
        event
    }
}

/// Produces (or prints) events until `count` is reached or forever.
pub fn run(options: &Options, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut generator = Generator::new(options.seed);
    if options.samples && options.count == 0 {
        anyhow::bail!("--samples needs --count (the shipped file has 2000 lines)");
    }
    let producer: Option<ThreadedProducer<DefaultProducerContext>> = match &options.brokers {
        Some(brokers) => Some(
            ClientConfig::new()
                .set("bootstrap.servers", brokers)
                .set("linger.ms", "20")
                .set("compression.type", "lz4")
                .create()
                .with_context(|| format!("cannot create a Kafka producer for {brokers}"))?,
        ),
        None => None,
    };
    let started = Instant::now();
    let mut sent = 0u64;
    let mut last_report = Instant::now();
    while options.count == 0 || sent < options.count {
        if options.rate > 0 {
            // Pace against the start, so the average rate holds exactly.
            let due = Duration::from_secs_f64(sent as f64 / options.rate as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        let line = if options.samples {
            generator.sample_line(sent)
        } else {
            generator.line(Some(sent), chrono::Utc::now())
        };
        match &producer {
            Some(p) => {
                let mut record = BaseRecord::<(), str>::to(&options.topic).payload(&line);
                // A full local queue: wait for deliveries, then send again.
                while let Err((e, back)) = p.send(record) {
                    if !matches!(
                        e.rdkafka_error_code(),
                        Some(rdkafka::types::RDKafkaErrorCode::QueueFull)
                    ) {
                        anyhow::bail!("cannot produce to topic {}: {e}", options.topic);
                    }
                    record = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            None => writeln!(out, "{line}")?,
        }
        sent += 1;
        if producer.is_some() && last_report.elapsed() >= Duration::from_secs(10) {
            tracing::info!(sent, "events produced");
            last_report = Instant::now();
        }
    }
    if let Some(p) = producer {
        p.flush(Duration::from_secs(30))
            .context("cannot deliver the last events to Kafka within 30 s")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::detect::is_valid_cn_id;

    #[test]
    fn synthetic_values_are_valid_and_decoys_are_not() {
        let mut g = Generator::new(1);
        for _ in 0..200 {
            assert!(is_valid_cn_id(g.cn_id().as_bytes()));
            assert!(!is_valid_cn_id(g.order_no().as_bytes()));
            assert!(luhn_valid(g.bank_card(19).as_bytes()));
            assert!(!luhn_valid(g.trace_id().as_bytes()));
            let m = g.mobile();
            assert!(m.len() == 11 && (b'3'..=b'9').contains(&m.as_bytes()[1]));
        }
    }

    #[test]
    fn same_seed_same_events() {
        let now = chrono::Utc::now();
        let a = Generator::new(7).line(Some(0), now);
        let b = Generator::new(7).line(Some(0), now);
        assert_eq!(a, b);
        assert_ne!(a, Generator::new(8).line(Some(0), now));
    }
}
