//! The command line as a person uses it: exit codes, output, rejects.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_logredact"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("logredact runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("logredact-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn shipped_rules_check_and_their_examples_pass() {
    let out = run(&["check"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("read 4 rule files in rules, in this order: 00-settings.toml, 10-mask.toml, 20-tag.toml, 30-route.toml\nrules are valid: 7 mask, 1 tag and 1 route rules"),
        "{stdout}"
    );
    let out = run(&["test"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains(" passed, 0 failed"));
    // The folder given alone, as `check-config FILE` takes its file.
    for command in ["check", "test"] {
        let out = run(&[command, "rules"]);
        assert!(out.status.success(), "{command}: {}", text(&out.stderr));
    }
    let out = run(&["check", "no-such-folder"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("there is no such folder"),
        "{}",
        text(&out.stderr)
    );
}

/// A rule saved under the wrong name is not read, and `check` says so
/// (it used to say only "rules are valid"); the examples of a rule that is
/// off are skipped, saying why.
#[test]
fn check_warns_about_files_it_does_not_read_and_test_skips_rules_that_are_off() {
    let dir = temp_dir("stray");
    std::fs::write(
        dir.join("10-mask.toml"),
        "version = 1\n[[mask]]\nid = \"m\"\ndetector = \"email\"\naction = \"full\"\n[[mask]]\nid = \"off\"\nenabled = false\ndetector = \"cn_mobile\"\naction = \"full\"\n[[mask.example]]\ninput = '{\"p\":\"13812345678\"}'\nexpect = { p = \"[cn_mobile]\" }\n",
    )
    .unwrap();
    std::fs::write(dir.join("40-passport.toml.txt"), "version = 1\n").unwrap();
    std::fs::write(dir.join(".10-mask.toml.swp"), "editor state").unwrap();
    // An editor's lock and macOS metadata end in .toml too, and are not
    // rules (the metadata used to fail `check` as TOML).
    std::fs::write(dir.join(".#10-mask.toml"), "user@host.1234:1").unwrap();
    std::fs::write(
        dir.join("._10-mask.toml"),
        b"\x00\x05\x16\x07\x00\x02Mac OS X",
    )
    .unwrap();
    let rules = dir.to_str().unwrap();
    let out = run(&["check", "--rules", rules]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("read 1 rule file in {rules}, in this order: 10-mask.toml\nrules are valid: 1 mask, 0 tag and 0 route rules, 1 examples (rule set {}); 1 warning above\n", fingerprint(&text(&out.stdout)))
    );
    assert_eq!(
        text(&out.stderr),
        format!("warning: {rules}/40-passport.toml.txt: not read: only files whose names end in .toml are rule files; rename it to end in .toml, or move it out of the rules folder\n")
    );
    let out = run(&["test", "--rules", rules]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("SKIP  off / example 1  (the rule is off: enabled = false)\n"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("0 passed, 0 failed, 1 skipped\n"),
        "{stdout}"
    );
}

/// Two rule folders under `dir`, `old` and `new`, each with one partial
/// mask rule for mobiles; the new one's takes `keep` too.
fn mobile_rules(dir: &Path, keep: &str) -> (PathBuf, PathBuf) {
    let (old, new) = (dir.join("old"), dir.join("new"));
    for (d, keep) in [(&old, ""), (&new, keep)] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(
            d.join("10-mask.toml"),
            format!("version = 1\n[[mask]]\nid = \"mobile\"\ndetector = \"cn_mobile\"\naction = \"partial\"\n{keep}"),
        )
        .unwrap();
    }
    (old, new)
}

/// `diff` tells what new rules change on real events, per rule, with
/// examples that never show personal data.
#[test]
fn diff_reports_what_new_rules_change_without_showing_personal_data() {
    let dir = temp_dir("diff");
    // The new mobile rule keeps one digit more: the same rules fire, and
    // the output changes (which the report used to leave out).
    let (old, new) = mobile_rules(&dir, "keep_first = 4\n");
    std::fs::write(
        new.join("20-passport.toml"),
        "version = 1\n[[mask]]\nid = \"passport\"\ndetector = \"passport\"\naction = \"full\"\n[[route]]\nid = \"drop-health\"\nwhen = { field = \"path\", equals = \"/health\" }\ndrop = true\n",
    )
    .unwrap();
    let events = dir.join("events.ndjson");
    std::fs::write(
        &events,
        concat!(
            "{\"phone\":\"13812345678\",\"passport.no\":\"E12345678\",\"by_phone\":{\"13900001111\":{\"hits\":2}}}\n",
            "{\"path\":\"/health\"}\n",
            "{\"phone\":\"13912345678\"}\n",
        ),
    )
    .unwrap();
    let out = run(&[
        "diff",
        "--rules",
        new.to_str().unwrap(),
        "--against",
        old.to_str().unwrap(),
        events.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    let body = report.split_once('\n').unwrap().1;
    assert_eq!(
        body,
        "  events that change:   3 (100.0%)
  routed differently:   1
  refused:              0 -> 0
  dropped by a rule:    0 -> 1

  rule                                   events fired on   newly firing  no longer firing  changes its output
  mobile                                          2 -> 2              0                 0                   1
  passport (not in the old set)                   0 -> 1              1                 0                   0
  drop-health (not in the old set)                0 -> 1              1                 0                   0

examples (values either rule set masks are not shown):
  mobile fires on both, and the output changes:
    line 3:
      phone: \"139****5678\" -> \"1391***5678\"
  passport newly fires:
    line 1:
      by_phone.139****1111: {\"hits\":2} -> (absent)
      by_phone.1390***1111: (absent) -> {\"hits\":2}
      passport.no: (personal data, not shown) -> \"[passport]\"
      phone: \"138****5678\" -> \"1381***5678\"
  drop-health newly fires:
    line 2:
      routed to: every output -> dropped
"
    );
    for digits in ["12345678", "13812345678", "13900001111"] {
        assert!(!report.contains(digits), "{report}");
    }
}

/// Two masked forms of one value, each harmless alone, are not shown side by
/// side where together they give the whole value: a rule that keeps the
/// first seven digits against one that keeps three and the last four.
#[test]
fn diff_never_shows_two_masks_that_together_give_the_value() {
    let dir = temp_dir("diff-apart");
    let (old, new) = mobile_rules(&dir, "keep_first = 7\nkeep_last = 0\n");
    let events = dir.join("events.ndjson");
    std::fs::write(
        &events,
        "{\"phone\":\"13912345678\",\"m\":\"手机13912345678\",\"by_phone\":{\"13900001111\":1}}\n",
    )
    .unwrap();
    let out = run(&[
        "diff",
        "--rules",
        new.to_str().unwrap(),
        "--against",
        old.to_str().unwrap(),
        events.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains("phone: \"139****••••\" -> \"139••••****\""),
        "{report}"
    );
    assert!(
        report.contains("by_phone.139****••••: 1 -> (absent)"),
        "{report}"
    );
    for digits in ["1234", "5678", "0000", "1111"] {
        assert!(!report.contains(digits), "{digits}: {report}");
    }
}

/// `diff --from-topic` takes the newest events of a topic, spread over its
/// partitions, without joining a group or committing.
#[test]
fn diff_takes_a_sample_from_a_topic() {
    let cluster = rdkafka::mocking::MockCluster::new(1).unwrap();
    cluster.create_topic("access", 2, 1).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let n = support::produce(&bootstrap, "access", support::sample_events(40));
    assert_eq!(n, 40);
    let out = run(&[
        "diff",
        "--against",
        "rules",
        "--from-topic",
        "access",
        "--brokers",
        &bootstrap,
        "--count",
        "10",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains(", 10 events\n  events that change:   0 (0.0%)\n"),
        "{report}"
    );
    assert!(text(&out.stderr).starts_with("compared 10 events from topic access in "));
}

/// The rule set's fingerprint, as `check` printed it.
fn fingerprint(check_output: &str) -> &str {
    check_output
        .split("(rule set ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap_or_default()
}

#[test]
fn check_fails_with_positions_for_a_broken_rule_file() {
    let dir = temp_dir("check");
    std::fs::write(
        dir.join("a.toml"),
        "version = 1\n[[mask]]\nid = \"x\"\ndetector = \"emial\"\naction = \"full\"\n",
    )
    .unwrap();
    let out = run(&["check", "--rules", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "a.toml:4:12: rule \"x\": unknown detector \"emial\"; did you mean \"email\"?"
        ),
        "{err}"
    );
    assert!(err.contains("1 problem in 1 file"), "{err}");
}

#[test]
fn test_command_shows_a_diff_for_a_failing_example() {
    let dir = temp_dir("test");
    std::fs::write(
        dir.join("a.toml"),
        r#"version = 1
[[mask]]
id = "m"
detector = "cn_mobile"
action = "full"
  [[mask.example]]
  name = "wrong on purpose"
  input = '{"p": "13812345678", "q": 1}'
  output = '{"p": "13812345678", "q": 1}'
"#,
    )
    .unwrap();
    let out = run(&["test", "--rules", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("FAIL  m / wrong on purpose"), "{stdout}");
    assert!(stdout.contains("-   \"p\": \"13812345678\","), "{stdout}");
    assert!(stdout.contains("+   \"p\": \"[cn_mobile]\","), "{stdout}");
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");
}

#[test]
fn apply_on_the_sample_is_deterministic_and_accounts_for_every_line() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/access.ndjson");
    let lines = std::fs::read_to_string(&sample).unwrap().lines().count();
    let dir = temp_dir("apply");
    let rejects = dir.join("rejects.ndjson");
    let a = run(&[
        "apply",
        "--rejects",
        rejects.to_str().unwrap(),
        sample.to_str().unwrap(),
    ]);
    let b = run(&["apply", "--rejects", "/dev/null", sample.to_str().unwrap()]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout, "same input, same output");
    let written = a
        .stdout
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    let rejected = std::fs::read_to_string(&rejects).unwrap();
    assert_eq!(
        written + rejected.lines().count(),
        lines,
        "every line is written or rejected"
    );
    let summary = text(&a.stderr);
    assert!(summary.contains(&format!("{lines} events")), "{summary}");
    assert!(summary.contains("mask-cn-id"), "{summary}");
    // The sample's broken lines are reported by number and class only.
    for line in rejected.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["line"].is_u64() && v["class"] == "not_json", "{line}");
    }
    assert!(
        !rejected.contains("upstream"),
        "no content in rejects: {rejected}"
    );
}

#[test]
fn rejects_and_summary_never_show_content() {
    let dir = temp_dir("secret");
    let input = dir.join("in.ndjson");
    std::fs::write(
        &input,
        "plain text with phone 13812345678\n{\"broken\": \"11010519491231002X\"\n\u{1}\u{2}\n{\"ok\":\"13912345678\"}\n",
    )
    .unwrap();
    let out = run(&["apply", input.to_str().unwrap()]);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    for secret in [
        "13812345678",
        "11010519491231002X",
        "13912345678",
        "plain text",
        "broken",
    ] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
    assert!(text(&out.stdout).contains("139****5678"));
    assert!(
        text(&out.stderr).contains("rejected              3"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn explain_and_stdin() {
    let mut child = bin()
        .args(["apply", "--explain", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"user\":{\"email\":\"a@b.cn\"},\"action\":\"grant_role\"}\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let explained = v["_explain"].as_array().unwrap();
    assert!(
        explained
            .iter()
            .any(|e| e["rule"] == "mask-email" && e["path"] == "user.email"),
        "{v}"
    );
    assert!(
        explained
            .iter()
            .any(|e| e["rule"] == "privileged-action" && e["stage"] == "tag"),
        "{v}"
    );
    assert_eq!(v["privilege"], "admin");
}

#[test]
fn hash_keys_come_from_the_environment_never_the_command_line() {
    let dir = temp_dir("hash");
    std::fs::write(
        dir.join("h.toml"),
        "version = 1\n[[mask]]\nid = \"h\"\ndetector = \"email\"\naction = \"hash\"\n",
    )
    .unwrap();
    let rules = dir.to_str().unwrap();
    let out = run(&["check", "--rules", rules]);
    assert!(out.status.success(), "check validates without secrets");
    let out = run(&["apply", "--rules", rules, "/dev/null"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--hash-key default=env:"),
        "{}",
        text(&out.stderr)
    );
    let out = bin()
        .args([
            "apply",
            "--rules",
            rules,
            "--hash-key",
            "default=env:LR_TEST_KEY",
            "/dev/null",
        ])
        .env_remove("LR_TEST_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("LR_TEST_KEY is not set"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn the_shipped_samples_are_what_gen_writes() {
    // One generator of synthetic data: the sample file is its output, so
    // the two cannot drift apart. To change the samples, change `gen` and
    // run the command below.
    let out = run(&["gen", "--samples", "--count", "2000", "--rate", "0"]);
    assert!(out.status.success());
    let shipped =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/access.ndjson")).unwrap();
    assert!(
        out.stdout == shipped,
        "samples/access.ndjson is stale; rewrite it with \
         `cargo run --release -- gen --samples --count 2000 --rate 0 > samples/access.ndjson`"
    );
}

#[test]
fn health_exits_1_when_nothing_answers_and_says_why() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = run(&["health", "--address", &format!("127.0.0.1:{port}")]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nothing answers on 127.0.0.1:"), "{stderr}");
}

#[test]
fn health_exits_1_when_another_service_answers_and_says_so() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut stream, _) = listener.accept().unwrap();
        // Read the whole request before answering and closing.
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.ends_with(b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .unwrap();
    });
    let out = run(&["health", "--address", &address]);
    server.join().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("answered HTTP 404 without logredact's health report"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no empty line on standard output");
}

#[test]
fn check_config_takes_the_config_as_run_does() {
    let dir = temp_dir("check-config-flag");
    let config = dir.join("c.toml");
    std::fs::write(&config, "version = 1\n[kafka]\n").unwrap();
    // Both forms read the same file and report the same problems.
    let flag = run(&["check-config", "--config", config.to_str().unwrap()]);
    let positional = run(&["check-config", config.to_str().unwrap()]);
    assert!(!flag.status.success());
    assert_eq!(flag.stderr, positional.stderr);
    let stderr = String::from_utf8_lossy(&flag.stderr);
    assert!(stderr.contains("c.toml"), "{stderr}");
    assert!(!stderr.contains("unexpected argument"), "{stderr}");
}

#[test]
fn logs_carry_no_colour_codes_when_standard_error_is_not_a_terminal() {
    // A daemon whose only output does not answer: it logs that it starts,
    // then stops with an error. Standard error is a pipe here, as it is
    // under systemd (the journal would show the codes as `^[[2m`).
    let dir = temp_dir("no-ansi");
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.join("c.toml");
    std::fs::write(
        &config,
        format!(
            r#"version = 1
[kafka]
bootstrap_servers = "127.0.0.1:{port}"
topics = ["access"]
group_id = "g"
[rules]
dir = "{}"
[outputs.hot]
type = "elasticsearch"
nodes = ["http://127.0.0.1:{port}"]
index = "logs-hot"
[outputs.cold]
type = "elasticsearch"
nodes = ["http://127.0.0.1:{port}"]
index = "logs-cold"
[dead_letter]
dir = "dead"
[metrics]
enabled = false
[log]
format = "text"
"#,
            rules.display()
        ),
    )
    .unwrap();
    let out = run(&["run", "--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("logredact starting"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

#[test]
fn hash_keys_come_from_systemd_credentials() {
    // Under `DynamicUser`, the service cannot read a root-only key file;
    // systemd hands it over through LoadCredential= in
    // $CREDENTIALS_DIRECTORY.
    let dir = temp_dir("credentials");
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("h.toml"),
        "version = 1\n[[mask]]\nid = \"h\"\ndetector = \"email\"\naction = \"hash\"\n",
    )
    .unwrap();
    let credentials = dir.join("credentials");
    std::fs::create_dir_all(&credentials).unwrap();
    std::fs::write(
        credentials.join("hash-key"),
        "a-key-of-32-bytes-for-the-tests!\n",
    )
    .unwrap();
    let input = dir.join("in.ndjson");
    std::fs::write(&input, "{\"mail\":\"zhang.wei@example.com\"}\n").unwrap();
    let apply = |credentials_dir: Option<&Path>| {
        let mut cmd = bin();
        cmd.args([
            "apply",
            "--rules",
            rules.to_str().unwrap(),
            "--hash-key",
            "default=credential:hash-key",
            input.to_str().unwrap(),
        ]);
        match credentials_dir {
            Some(d) => cmd.env("CREDENTIALS_DIRECTORY", d),
            None => cmd.env_remove("CREDENTIALS_DIRECTORY"),
        };
        cmd.output().unwrap()
    };
    let out = apply(Some(&credentials));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("\"mail\":\"hmac:"),
        "{}",
        text(&out.stdout)
    );
    let out = apply(None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("CREDENTIALS_DIRECTORY is not set"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("LoadCredential=hash-key:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn demo_says_which_rules_it_uses() {
    let dir = temp_dir("demo-rules");
    let out = run(&[
        "demo",
        "--events",
        "200",
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("rules: the built-in rules (the shipped rules/ folder, compiled in"),
        "{stdout}"
    );
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let out = run(&[
        "demo",
        "--events",
        "200",
        "--rules",
        rules.to_str().unwrap(),
        "--out",
        dir.join("out2").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "rules: the rule files in {}: 7 mask, 1 tag and 1 route rules",
            rules.display()
        )),
        "{stdout}"
    );
}

/// More events than the mock cluster keeps per partition (5 MB) still all
/// arrive: the demo's producer stays within what the cluster retains. (It
/// used to run 50,000 events ahead, about 10 MB a partition, and wait
/// forever for the events the cluster had dropped.)
#[test]
fn demo_runs_more_events_than_the_mock_cluster_keeps() {
    let dir = temp_dir("demo-many");
    let out_dir = dir.join("out");
    let mut child = bin()
        .args(["demo", "--events", "100000", "--out"])
        .arg(&out_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("logredact runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("demo --events 100000 did not finish in 240 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(stdout.contains("100000 events consumed"), "{stdout}");
    assert!(stdout.contains("indexed (all outputs) 99900"), "{stdout}");
}

/// Under systemd, `check-config` runs as `ExecStartPre` and its standard
/// error is the journal: a broken rule is shown there by position and
/// kind, as `run` shows it, not with the rule text (compliance staff write
/// PII-like digits into patterns and examples).
#[test]
fn check_config_keeps_rule_text_out_of_a_log() {
    let dir = temp_dir("check-config-journal");
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("10-mask.toml"),
        "version = 1\n[[mask]]\nid = \"m\"\ndetector = \"regex\"\npattern = '1381234[0-9]{4'\naction = \"full\"\n",
    )
    .unwrap();
    let config = dir.join("c.toml");
    std::fs::write(
        &config,
        format!(
            "version = 1\n[kafka]\nbootstrap_servers = \"127.0.0.1:9\"\ntopics = [\"a\"]\ngroup_id = \"g\"\n[rules]\ndir = \"{}\"\n[outputs.cold]\ntype = \"file\"\ndir = \"out\"\nindex = \"c\"\n[dead_letter]\ndir = \"dead\"\n",
            rules.display()
        ),
    )
    .unwrap();
    // Standard error is a pipe here, as under systemd.
    let out = run(&["check-config", "--config", config.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("10-mask.toml:5:"), "{stderr}");
    assert!(stderr.contains("logredact check --rules"), "{stderr}");
    assert!(!stderr.contains("1381234"), "{stderr}");
}

/// A rule that routes to an output the config lacks is the config's and
/// the rules' problem together: `check-config` says what to do, and no
/// longer sends the reader to `logredact check`, which finds the rules
/// valid.
#[test]
fn check_config_says_what_to_do_about_a_route_to_an_unknown_output() {
    let dir = temp_dir("check-config-route");
    let rules = dir.join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("30-route.toml"),
        "version = 1\n[[route]]\nid = \"to-warm\"\nwhen = { field = \"a\", exists = true }\noutputs = [\"warm\"]\n\
         [[route]]\nid = \"to-frozen\"\noutputs = [\"cold\", \"frozen\"]\n",
    )
    .unwrap();
    let config = dir.join("c.toml");
    std::fs::write(
        &config,
        format!(
            "version = 1\n[kafka]\nbootstrap_servers = \"127.0.0.1:9\"\ntopics = [\"a\"]\ngroup_id = \"g\"\n[rules]\ndir = \"{}\"\n[outputs.cold]\ntype = \"file\"\ndir = \"out\"\nindex = \"c\"\n[dead_letter]\ndir = \"dead\"\n",
            rules.display()
        ),
    )
    .unwrap();
    let out = run(&["check-config", "--config", config.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("rule \"to-warm\" routes to output \"warm\", which the config does not define (its outputs: cold); add that output to the config, or change the rule's outputs"),
        "{stderr}"
    );
    // Every unknown output at once.
    assert!(
        stderr.contains("rule \"to-frozen\" routes to output \"frozen\""),
        "{stderr}"
    );
    assert!(!stderr.contains("logredact check --rules"), "{stderr}");
    let check = run(&["check", "--rules", rules.to_str().unwrap()]);
    assert!(check.status.success(), "{}", text(&check.stderr));
}
