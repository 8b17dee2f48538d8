use super::*;
use crate::config::OutputConfig;

const GOOD: &str = r#"
version = 1
[kafka]
bootstrap_servers = "localhost:9092"
topics = ["access"]
group_id = "logredact"
[outputs.hot]
type = "elasticsearch"
nodes = ["http://localhost:9200"]
index = "logs-hot-%Y.%m.%d"
[outputs.cold]
type = "file"
dir = "out/cold"
index = "logs-cold-%Y.%m"
[dead_letter]
dir = "dead"
"#;

#[test]
fn good_config_parses_and_paths_are_relative_to_the_file() {
    let c = Config::parse(Path::new("/etc/logredact/l.toml"), GOOD).unwrap();
    assert_eq!(c.rules.dir, Path::new("/etc/logredact/rules"));
    assert_eq!(c.output_names(), ["cold", "hot"]);
    match &c.outputs["cold"] {
        OutputConfig::File(f) => assert_eq!(f.dir, Path::new("/etc/logredact/out/cold")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_key_names_line_and_column() {
    let text = GOOD.replace("group_id", "group_idd");
    let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
    let all: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert_eq!(
        all,
        [
            "c.toml:3:2: kafka: the required setting `group_id` is missing here; add `group_id = …`",
            "c.toml:6:1: kafka.group_idd: `group_idd` is not a setting here; did you mean `group_id`?",
        ]
    );
}

#[test]
fn unknown_key_inside_a_typed_output_names_its_line() {
    let text = GOOD.replace("dir = \"out/cold\"", "dri = \"out/cold\"");
    let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
    let all: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert_eq!(
        all,
        [
            "c.toml:11:10: outputs.cold: the required setting `dir` is missing here; add `dir = …`",
            "c.toml:13:1: outputs.cold.dri: `dri` is not a setting here; did you mean `dir`?",
        ]
    );
}

#[test]
fn an_output_name_no_route_rule_could_write_is_refused() {
    // Rule files name outputs in lower case only; an output named `Hot`
    // would pass here and be unreachable from every route rule.
    let text = GOOD.replace("[outputs.hot]", "[outputs.Hot]");
    let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
    let msg = e[0].to_string();
    assert!(
        msg.contains("outputs.Hot: output names use lower-case letters, digits, '-' and '_' only"),
        "{msg}"
    );
}

#[test]
fn literal_secrets_are_refused() {
    let text = GOOD.replace(
        "index = \"logs-hot-%Y.%m.%d\"",
        "index = \"x\"\nusername = \"elastic\"\npassword = \"hunter2\"",
    );
    let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
    let msg: String = e.iter().map(|e| format!("{e}\n")).collect();
    assert!(msg.contains("env:VARIABLE"), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
}

/// Type errors too, each at its key, in plain words, in file order, with
/// what the checks serde cannot make found in the same go.
#[test]
fn every_problem_is_reported_at_once_at_its_key_in_plain_words() {
    let text = GOOD
        .replace("group_id = \"logredact\"", "group_id = \"logredact\"\nbatch = 5")
        .replace(
            "index = \"logs-hot-%Y.%m.%d\"",
            "index = \"logs-hot-%Y.%m.%d\"\nconcurency = 4\nrequest_timeout = 30",
        )
        .replace("[dead_letter]", "[pipeline]\ncommit_interval = 1\nmax_in_flight_bytes = \"64MiB\"\n[log]\nlevel = \"verbose\"\nformat = \"jsn\"\n[dead_letter]");
    let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
    let all: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert_eq!(
        all,
        [
            "c.toml:7:1: kafka.batch: `batch` is not a setting here; the settings here are `bootstrap_servers`, `topics`, `topic_regex`, `group_id`, `properties`",
            "c.toml:12:1: outputs.hot.concurency: `concurency` is not a setting here; did you mean `concurrency`?",
            "c.toml:13:1: outputs.hot.request_timeout: `request_timeout` must be a duration in quotes, such as \"5s\", \"500ms\" or \"1m\"; it is the number 30",
            "c.toml:19:1: pipeline.commit_interval: `commit_interval` must be a duration in quotes, such as \"5s\", \"500ms\" or \"1m\"; it is the number 1",
            "c.toml:20:1: pipeline.max_in_flight_bytes: `max_in_flight_bytes` must be a whole number of 0 or more, without quotes; it is the text \"64MiB\"",
            "c.toml:22:1: log.level = \"verbose\": \"verbose\" is not a log level; write one of off, error, warn, info, debug, trace, or target=level such as logredact=debug",
            "c.toml:23:1: log.format: \"jsn\" is not one of `text`, `json`; did you mean `json`?",
        ]
    );
}

#[test]
fn a_secret_of_the_wrong_type_is_not_repeated() {
    let text = GOOD.replace(
        "index = \"logs-hot-%Y.%m.%d\"",
        "index = \"x\"\nusername = \"elastic\"\npassword = 8675309",
    );
    let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
    let msg: String = e.iter().map(|e| format!("{e}\n")).collect();
    assert!(msg.contains("c.toml:12:1: outputs.hot.password"), "{msg}");
    assert!(!msg.contains("8675309"), "{msg}");
}

#[test]
fn a_hash_key_of_the_wrong_type_is_not_repeated() {
    for value in ["8675309", "\"rawkey-rawkey-rawkey\""] {
        let text = GOOD.replace(
            "[dead_letter]",
            &format!("[rules.hash_keys]\ndefault = {value}\n[dead_letter]"),
        );
        let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
        let msg: String = e.iter().map(|e| format!("{e}\n")).collect();
        assert!(msg.contains("rules.hash_keys.default"), "{msg}");
        assert!(!msg.contains("8675309") && !msg.contains("rawkey"), "{msg}");
    }
}

#[test]
fn all_semantic_problems_are_reported_together() {
    let text = GOOD
        .replace("version = 1", "version = 2")
        .replace("topics = [\"access\"]", "")
        .replace("[dead_letter]\ndir = \"dead\"", "[dead_letter]");
    let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
    assert_eq!(e.len(), 3, "{e:?}");
}

#[test]
fn a_log_level_that_is_no_level_is_refused() {
    // `verbose` passes tracing's parser as a target name and then
    // silences every line, errors included.
    let text = GOOD.to_owned() + "[log]\nlevel = \"verbose\"\n";
    let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
    let msg = e[0].to_string();
    assert!(
        msg.contains("log.level = \"verbose\": \"verbose\" is not a log level"),
        "{msg}"
    );
    for good in ["info", "WARN", "logredact=debug,info", "rdkafka=warn"] {
        let text = GOOD.to_owned() + &format!("[log]\nlevel = \"{good}\"\n");
        assert!(Config::parse(Path::new("c.toml"), &text).is_ok(), "{good}");
    }
}

#[test]
fn check_config_refuses_what_run_would_refuse_without_network_io() {
    let dir = std::env::temp_dir().join(format!("logredact-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A misspelt librdkafka property, a value librdkafka refuses, an
    // unset variable, an unreadable key file, missing setup files.
    let text = GOOD
        .replace(
            "[outputs.hot]",
            "[kafka.properties]\n\"fetch.max.bytess\" = \"1000\"\n\"session.timeout.ms\" = \"soon\"\n[outputs.hot]",
        )
        .replace(
            "index = \"logs-hot-%Y.%m.%d\"",
            "index = \"logs-hot-%Y.%m.%d\"\napi_key = \"file:no-such-key\"\n\
             setup = { ilm_policy = \"no-such-policy.json\", index_template = \"no-such-template.json\" }",
        )
        + "[rules.hash_keys]\ndefault = \"env:LOGREDACT_TEST_SURELY_UNSET_VARIABLE\"\n";
    let errors = Config::parse(&dir.join("c.toml"), &text).unwrap_err();
    let all: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let has = |needle: &str| all.iter().any(|e| e.contains(needle));
    assert!(
        has("kafka.properties.\"fetch.max.bytess\": librdkafka refuses it"),
        "{all:#?}"
    );
    assert!(
        has("kafka.properties.\"session.timeout.ms\": librdkafka refuses it"),
        "{all:#?}"
    );
    assert!(has("rules.hash_keys.default:"), "{all:#?}");
    assert!(
        has("LOGREDACT_TEST_SURELY_UNSET_VARIABLE is not set"),
        "{all:#?}"
    );
    assert!(has("outputs.hot.api_key: "), "{all:#?}");
    assert!(has("outputs.hot.setup.ilm_policy: cannot read"), "{all:#?}");
    assert!(
        has("outputs.hot.setup.index_template: cannot read"),
        "{all:#?}"
    );
}

#[test]
fn kafka_secrets_say_where_they_are_and_are_never_echoed() {
    let with = |value: &str| {
        GOOD.replace(
            "[outputs.hot]",
            &format!("[kafka.properties]\n\"sasl.password\" = \"{value}\"\n[outputs.hot]"),
        )
    };
    let e = Config::parse(Path::new("c.toml"), &with("hunter2")).unwrap_err();
    let msg = e
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        msg.contains("kafka.properties.\"sasl.password\": write where the secret is"),
        "{msg}"
    );
    assert!(!msg.contains("hunter2"), "{msg}");
    let e = Config::parse(
        Path::new("c.toml"),
        &with("env:LOGREDACT_TEST_UNSET_KAFKA_SECRET"),
    )
    .unwrap_err();
    let msg = e[0].to_string();
    assert!(
        msg.contains("LOGREDACT_TEST_UNSET_KAFKA_SECRET is not set"),
        "{msg}"
    );
    let file = std::env::temp_dir().join(format!("logredact-kafka-secret-{}", std::process::id()));
    std::fs::write(&file, "s3cret\n").unwrap();
    let c = Config::parse(
        Path::new("c.toml"),
        &with(&format!("file:{}", file.display())),
    )
    .unwrap();
    assert_eq!(
        c.kafka.resolved_properties().unwrap(),
        [("sasl.password".to_owned(), "s3cret".to_owned())]
    );
    std::fs::remove_file(file).unwrap();
}

/// An event's routes are the bits of a `u64`: a 65th output is refused
/// here. (With exactly 64, the mask of every output once wrapped to
/// nothing, and every event no route rule matched was counted as dropped.)
#[test]
fn at_most_64_outputs() {
    let outputs = |n: usize| {
        let mut text = GOOD.replace(
            "[outputs.hot]\ntype = \"elasticsearch\"\nnodes = [\"http://localhost:9200\"]\nindex = \"logs-hot-%Y.%m.%d\"\n",
            "",
        );
        for i in 1..n {
            text.push_str(&format!(
                "[outputs.o{i}]\ntype = \"file\"\ndir = \"out/{i}\"\nindex = \"o{i}\"\n"
            ));
        }
        text
    };
    let c = Config::parse(Path::new("c.toml"), &outputs(64)).unwrap();
    assert_eq!(c.outputs.len(), 64);
    let e = Config::parse(Path::new("c.toml"), &outputs(65)).unwrap_err();
    let all: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert_eq!(
        all,
        ["c.toml:7:2: outputs: 65 outputs are defined, and at most 64 are allowed; route events to fewer outputs"]
    );
}

/// A negative count was told it "must be a whole number" while it is one.
#[test]
fn a_negative_count_is_told_it_must_be_0_or_more() {
    let text = GOOD.replace(
        "[dead_letter]",
        "[pipeline]\nmax_in_flight_bytes = -5\n[dead_letter]",
    );
    let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
    let all: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert!(
        all[0].contains("must be a whole number of 0 or more, without quotes; it is the number -5"),
        "{all:?}"
    );
}

/// `request_timeout = "0s"` made every bulk request fail at once, retried
/// forever; a first backoff longer than the longest was taken too.
#[test]
fn durations_that_cannot_work_are_refused() {
    let text = GOOD.replace(
        "index = \"logs-hot-%Y.%m.%d\"",
        "index = \"logs-hot-%Y.%m.%d\"\nrequest_timeout = \"0s\"\nretry_initial_backoff = \"1m\"\nretry_max_backoff = \"10s\"",
    );
    let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
    let all: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(
        all.iter()
            .any(|e| e.contains("outputs.hot.request_timeout is 0s; give it a length")),
        "{all:?}"
    );
    assert!(
        all.iter().any(|e| e.contains(
            "outputs.hot.retry_initial_backoff (1m) is longer than retry_max_backoff (10s)"
        )),
        "{all:?}"
    );
}

/// A duration long enough to overflow a clock reading (humantime reads
/// `300000000000y`) panicked the output task or the shutdown; every
/// pipeline and output duration is now at most a year.
#[test]
fn durations_are_bounded() {
    let text = GOOD
        .replace(
            "index = \"logs-hot-%Y.%m.%d\"",
            "index = \"logs-hot-%Y.%m.%d\"\nflush_interval = \"300000000000y\"",
        )
        .replace(
            "[dead_letter]",
            "[pipeline]\nshutdown_timeout = \"2y\"\n[dead_letter]",
        );
    let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
    let all: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert_eq!(all.len(), 2, "{all:?}");
    // (In the order of the file.)
    assert!(
        all[0].contains("outputs.hot.flush_interval is 300000000000years"),
        "{all:?}"
    );
    assert!(
        all[1].contains("pipeline.shutdown_timeout is 2years"),
        "{all:?}"
    );
    assert!(
        all[0].contains("may be at most a year (366 days)"),
        "{all:?}"
    );
    let fine = GOOD.replace(
        "[dead_letter]",
        "[pipeline]\nshutdown_timeout = \"1h\"\n[dead_letter]",
    );
    Config::parse(Path::new("c.toml"), &fine).unwrap();
}

/// An index template `setup-es` could not fill in (a list, or `template`
/// that is no object) panicked `setup-es`; `check-config` now refuses it
/// by the same rule.
#[test]
fn an_index_template_with_no_room_for_the_settings_is_refused() {
    let dir = std::env::temp_dir().join(format!("logredact-template-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("policy.json"), r#"{"policy":{}}"#).unwrap();
    for (template, says) in [
        ("[]", "an index template is a JSON object"),
        (
            r#"{"template": {"settings": []}}"#,
            "`template.settings` in an index template",
        ),
        (r#"{"template": {"settings": {"number_of_shards": 1}}}"#, ""),
    ] {
        std::fs::write(dir.join("template.json"), template).unwrap();
        let text = GOOD.replace(
            "index = \"logs-hot-%Y.%m.%d\"",
            "index = \"logs-hot-%Y.%m.%d\"\n\
             setup = { ilm_policy = \"policy.json\", index_template = \"template.json\" }",
        );
        let got = Config::parse(&dir.join("c.toml"), &text);
        if says.is_empty() {
            assert!(got.is_ok(), "{template}: {:?}", got.err());
            continue;
        }
        let all: Vec<String> = got.unwrap_err().iter().map(ToString::to_string).collect();
        assert_eq!(all.len(), 1, "{all:?}");
        assert!(
            all[0].contains("outputs.hot.setup.index_template: "),
            "{all:?}"
        );
        assert!(all[0].contains(says), "{all:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A password written into a node URL works (the HTTP client makes basic
/// auth of it) but sits in the file in clear: refused, and not repeated.
#[test]
fn a_password_in_a_node_url_is_refused_and_not_repeated() {
    let text = GOOD.replace(
        "nodes = [\"http://localhost:9200\"]",
        "nodes = [\"https://elastic:hunter2@es.example:9200/\"]",
    );
    let e = Config::parse(Path::new("c.toml"), &text).unwrap_err();
    let all: String = e.iter().map(|e| format!("{e}\n")).collect();
    assert!(all.contains("holds a user name or password"), "{all}");
    assert!(all.contains("https://…@es.example:9200/"), "{all}");
    assert!(!all.contains("hunter2"), "{all}");
}

/// librdkafka's message for a refused setting ends with its value, which
/// for a secret property is the secret itself.
#[test]
fn kafka_errors_never_repeat_a_value() {
    let e = rdkafka::ClientConfig::new()
        .set("session.timeout.ms", "s3cret-value")
        .create_native_config()
        .err()
        .expect("librdkafka refuses a timeout that is no number");
    assert!(
        e.to_string().contains("s3cret-value"),
        "librdkafka's own text: {e}"
    );
    let ours = crate::config::kafka_error_text(&e);
    assert!(!ours.contains("s3cret-value"), "{ours}");
    assert!(ours.contains("session.timeout.ms"), "{ours}");
}

/// A secret property this build of librdkafka does not take (one without
/// curl takes no OAuth/OIDC settings) is refused by `check-config`, as
/// `run` would refuse it, without the secret.
#[test]
fn a_secret_property_librdkafka_refuses_is_refused_without_its_value() {
    std::env::set_var("LR_CONFIG_TEST_OIDC_SECRET", "oidc-s3cret");
    let text = GOOD.replace(
        "[outputs.hot]",
        "[kafka.properties]\n\"sasl.oauthbearer.client.secret\" = \"env:LR_CONFIG_TEST_OIDC_SECRET\"\n[outputs.hot]",
    );
    let supported = rdkafka::ClientConfig::new()
        .set("sasl.oauthbearer.client.secret", "x")
        .create_native_config()
        .is_ok();
    match Config::parse(Path::new("c.toml"), &text) {
        Ok(_) => assert!(supported, "refused by librdkafka, so refused here"),
        Err(e) => {
            let all: String = e.iter().map(|e| format!("{e}\n")).collect();
            assert!(!supported, "{all}");
            assert!(all.contains("sasl.oauthbearer.client.secret"), "{all}");
            assert!(!all.contains("oidc-s3cret"), "{all}");
        }
    }
}

#[test]
fn problems_the_checks_find_are_listed_in_the_order_of_the_file() {
    // The checks go through the outputs by name (`cold` before `hot`),
    // the file has `hot` first; kafka's problem comes before both.
    let text = GOOD
        .replace("index = \"logs-hot-%Y.%m.%d\"", "index = \"logs-hot-%Q\"")
        .replace("index = \"logs-cold-%Y.%m\"", "index = \"logs-cold-%Q\"")
        .replace("topics = [\"access\"]", "topics = []");
    let errors = Config::parse(Path::new("c.toml"), &text).unwrap_err();
    let lines: Vec<usize> = errors
        .iter()
        .map(|e| {
            let at = e.location.as_deref().unwrap_or_default();
            at.split(':')
                .nth(1)
                .and_then(|l| l.parse().ok())
                .unwrap_or(0)
        })
        .collect();
    assert_eq!(lines.len(), 3, "{errors:#?}");
    assert!(
        lines.windows(2).all(|w| w[0] < w[1]),
        "{lines:?}: {errors:#?}"
    );
}
