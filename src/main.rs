//! The `logredact` command line: parses arguments and calls the library.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use logredact::commands;
use logredact::rules::RuleSet;
use logredact::secrets::{self, KeySpec};

// jemalloc: steady memory over months, and figures we can export. Built
// unprefixed (Cargo.toml), so it is also the process's `malloc`: librdkafka
// and the other C code allocate from it too, and its figures and heap
// profiles cover the whole process, not only the Rust side.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

// Heap profiling compiled in but inactive until `[metrics] heap_profile`
// turns it on; one sample per 512 KiB allocated on average.
#[allow(non_upper_case_globals)]
#[export_name = "malloc_conf"]
pub static malloc_conf: &[u8] = b"prof:true,prof_active:false,lg_prof_sample:19\0";

#[derive(Parser)]
#[command(
    name = "logredact",
    version,
    about = "Masks personal data in JSON access logs."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check that the rule files are valid; exits non-zero on any problem.
    Check {
        /// The folder of rule files (*.toml, applied in file-name order); default: rules.
        #[arg(long, value_name = "DIR", conflicts_with = "dir")]
        rules: Option<PathBuf>,
        /// The folder of rule files, given without --rules.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// A secret key for hash rules: NAME=env:VARIABLE or NAME=file:PATH.
        #[arg(long = "hash-key", value_name = "NAME=SOURCE")]
        hash_keys: Vec<KeySpec>,
    },
    /// Run the examples embedded in the rule files.
    Test {
        /// The folder of rule files (*.toml, applied in file-name order); default: rules.
        #[arg(long, value_name = "DIR", conflicts_with = "dir")]
        rules: Option<PathBuf>,
        /// The folder of rule files, given without --rules.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// A secret key for hash rules: NAME=env:VARIABLE or NAME=file:PATH.
        #[arg(long = "hash-key", value_name = "NAME=SOURCE")]
        hash_keys: Vec<KeySpec>,
    },
    /// Run the daemon: Kafka -> rules -> Elasticsearch, until SIGTERM.
    Run {
        /// The daemon's config file (see docs/config.md).
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Check a daemon config file and the rules it names, without any network IO.
    CheckConfig {
        /// The daemon's config file (as `run --config FILE` takes it).
        #[arg(long, value_name = "FILE", conflicts_with = "file")]
        config: Option<PathBuf>,
        /// The config file, given without --config.
        #[arg(value_name = "FILE", required_unless_present = "config")]
        file: Option<PathBuf>,
    },
    /// Install the ILM policies and index templates the config's Elasticsearch outputs name.
    SetupEs {
        /// The daemon's config file; its Elasticsearch outputs' `setup` names the files.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
    /// Run the whole pipeline on the bundled samples, with an in-process Kafka and file outputs.
    Demo {
        /// Rules directory; by default the rules built into the binary.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// How many events to send through (the samples repeat).
        #[arg(long, default_value_t = 20_000)]
        events: usize,
        /// Where the hot, cold and dead-letter files go.
        #[arg(long, default_value = "demo-out")]
        out: PathBuf,
    },
    /// Check sealed outputs against their seals: what was deleted, changed or inserted (docs/audit.md).
    Verify {
        /// The daemon's config file; its sealed outputs are checked.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// Check only this output.
        #[arg(long, value_name = "NAME")]
        output: Option<String>,
        /// Only seals made at or after this time (RFC 3339, or a date: 2026-11-01).
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        since: Option<i64>,
        /// Only seals made at or before this time (RFC 3339, or a date).
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        until: Option<i64>,
        /// A public key file to trust besides the config's keys (repeatable).
        #[arg(long = "public-key", value_name = "FILE")]
        public_keys: Vec<PathBuf>,
        /// Print the report as JSON, for tools.
        #[arg(long)]
        json: bool,
    },
    /// Make or show the keys seals are signed with.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Ask a running daemon's /health endpoint; exits 0 when healthy (for container health checks).
    Health {
        /// The daemon's metrics listener.
        #[arg(long, default_value = "127.0.0.1:9464")]
        address: String,
    },
    /// Generate realistic access logs with synthetic personal data, into Kafka or to standard output.
    Gen {
        /// Kafka bootstrap servers; without them, NDJSON goes to standard output.
        #[arg(long, value_name = "HOST:PORT,...")]
        brokers: Option<String>,
        /// The Kafka topic to produce to.
        #[arg(long, default_value = "access-logs")]
        topic: String,
        /// Events per second; 0 sends as fast as possible.
        #[arg(long, default_value_t = 100)]
        rate: u64,
        /// How many events; 0 runs until stopped.
        #[arg(long, default_value_t = 0)]
        count: u64,
        /// Seed of the pseudo-random choices: the same seed gives the same
        /// events (1; with --samples, the seed the shipped samples use).
        #[arg(long)]
        seed: Option<u64>,
        /// Write the shipped sample file's form: fixed times, no `seq`, two
        /// broken lines (`gen --samples --count 2000 --rate 0 >
        /// samples/access.ndjson`).
        #[arg(long)]
        samples: bool,
    },
    /// Show what new rules would do differently from the rules in use, on real events.
    Diff {
        /// The folder of the new rule files.
        #[arg(long, default_value = "rules")]
        rules: PathBuf,
        /// The folder of the rules in use, to compare against.
        #[arg(long, value_name = "DIR")]
        against: PathBuf,
        /// A secret key for hash rules: NAME=env:VARIABLE or NAME=file:PATH.
        #[arg(long = "hash-key", value_name = "NAME=SOURCE")]
        hash_keys: Vec<KeySpec>,
        /// Examples shown per rule that newly fires, or no longer fires.
        #[arg(long, default_value_t = 3)]
        examples: usize,
        /// Take the newest events of this Kafka topic instead of a file.
        #[arg(
            long,
            value_name = "TOPIC",
            requires = "brokers",
            conflicts_with = "file"
        )]
        from_topic: Option<String>,
        /// Kafka bootstrap servers, for --from-topic.
        #[arg(long, value_name = "HOST:PORT,...")]
        brokers: Option<String>,
        /// How many events --from-topic reads (the newest, over all partitions).
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// Lines longer than this are skipped.
        #[arg(long, default_value_t = commands::apply::DEFAULT_MAX_LINE_BYTES)]
        max_line_bytes: usize,
        /// NDJSON events; `-` or nothing reads standard input.
        file: Option<PathBuf>,
    },
    /// Redact NDJSON events from FILE (or standard input) to standard output.
    Apply {
        /// The folder of rule files (*.toml, applied in file-name order).
        #[arg(long, default_value = "rules")]
        rules: PathBuf,
        /// Add `_explain` to each event: which rules fired at which paths.
        #[arg(long)]
        explain: bool,
        /// Where rejected lines are reported (line number and reason, no content).
        #[arg(long, value_name = "FILE")]
        rejects: Option<PathBuf>,
        /// A secret key for hash rules: NAME=env:VARIABLE or NAME=file:PATH.
        #[arg(long = "hash-key", value_name = "NAME=SOURCE")]
        hash_keys: Vec<KeySpec>,
        /// Lines longer than this are rejected.
        #[arg(long, default_value_t = commands::apply::DEFAULT_MAX_LINE_BYTES)]
        max_line_bytes: usize,
        /// Input file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Write a new Ed25519 signing key (PKCS#8 PEM) to a new file and print its public key.
    Generate {
        /// The file to create; it is never overwritten.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Print the public key of the signing key, for auditors.
    Public {
        /// The daemon's config file; its [seal] key is used.
        #[arg(long, value_name = "FILE", required_unless_present = "key")]
        config: Option<PathBuf>,
        /// A private key file instead of the config's.
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
    },
}

/// A time for `verify --since/--until`: RFC 3339, or a date (midnight UTC).
fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .timestamp_millis());
    }
    Err("write a time as 2026-11-30T08:00:00Z (RFC 3339) or a date as 2026-11-30".into())
}

fn main() -> ExitCode {
    commands::install_panic_hook();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let ok = |b: bool| {
        if b {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    };
    let (stdout, stderr) = (&mut std::io::stdout(), &mut std::io::stderr());
    match cli.command {
        Command::Check {
            rules,
            dir,
            hash_keys,
        } => {
            let rules = rules_dir(rules, dir);
            let ring = secrets::key_ring(&hash_keys)?;
            Ok(ok(commands::check::check(
                &rules,
                ring,
                !hash_keys.is_empty(),
                stdout,
                stderr,
            )?))
        }
        Command::Test {
            rules,
            dir,
            hash_keys,
        } => {
            let rules = rules_dir(rules, dir);
            let ring = secrets::key_ring(&hash_keys)?;
            Ok(ok(commands::check::test(&rules, ring, stdout, stderr)?))
        }
        Command::Run { config } => {
            commands::daemon::run(&config)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig { config, file } => {
            let file = config.or(file).expect("clap requires one of them");
            commands::daemon::check_config(&file, stdout)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::SetupEs { config } => {
            commands::daemon::setup_es(&config, stdout)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { rules, events, out } => {
            commands::demo::run(&commands::demo::Options { rules, events, out }, stdout)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify {
            config,
            output,
            since,
            until,
            public_keys,
            json,
        } => {
            let options = commands::verify::Options {
                config,
                output,
                since_ms: since,
                until_ms: until,
                public_keys,
                json,
            };
            Ok(ok(commands::verify::run(&options, stdout)?))
        }
        Command::Keys { command } => {
            match command {
                KeysCommand::Generate { out } => commands::keys::generate(&out, stdout)?,
                KeysCommand::Public { config, key } => {
                    commands::keys::public(config.as_deref(), key.as_deref(), stdout)?
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Health { address } => {
            // 0 healthy, 1 anything else (container health checks read
            // only that), the reason on standard error.
            match commands::daemon::health(&address, stdout) {
                Ok(true) => Ok(ExitCode::SUCCESS),
                Ok(false) => Ok(ExitCode::FAILURE),
                Err(e) => {
                    eprintln!("unhealthy: {e:#}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Gen {
            brokers,
            topic,
            rate,
            count,
            seed,
            samples,
        } => {
            if brokers.is_some() {
                commands::daemon::init_logging(&logredact::config::LogConfig::default());
            }
            let options = commands::gen::Options {
                brokers,
                topic,
                rate,
                count,
                seed: seed.unwrap_or(if samples {
                    commands::gen::SAMPLES_SEED
                } else {
                    1
                }),
                samples,
            };
            commands::gen::run(&options, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff {
            rules,
            against,
            hash_keys,
            examples,
            from_topic,
            brokers,
            count,
            max_line_bytes,
            file,
        } => {
            let ring =
                secrets::key_ring(&hash_keys)?.with_fallback(logredact::rules::TEST_HASH_KEY);
            let (new, old) = match (RuleSet::load(&rules, &ring), RuleSet::load(&against, &ring)) {
                (Ok(new), Ok(old)) => (new, old),
                (new, old) => {
                    for (dir, e) in [(&rules, new.err()), (&against, old.err())] {
                        if let Some(e) = e {
                            eprintln!("the rules in {}:\n{e}", dir.display());
                        }
                    }
                    return Ok(ExitCode::FAILURE);
                }
            };
            let file = file.filter(|f| f.as_os_str() != "-");
            let (mut input, source): (Box<dyn BufRead>, String) = match (&from_topic, &file) {
                (Some(topic), _) => {
                    let brokers = brokers.as_deref().unwrap_or_default();
                    let sample = commands::diff::sample_topic(brokers, topic, count)?;
                    (
                        Box::new(std::io::Cursor::new(sample)),
                        format!("topic {topic}"),
                    )
                }
                (None, Some(path)) => (
                    Box::new(std::io::BufReader::with_capacity(
                        1 << 16,
                        std::fs::File::open(path)
                            .with_context(|| format!("cannot open {}", path.display()))?,
                    )),
                    path.display().to_string(),
                ),
                (None, None) => (
                    Box::new(std::io::stdin().lock()),
                    "standard input".to_owned(),
                ),
            };
            let options = commands::diff::Options {
                examples,
                max_line_bytes,
                progress_len: commands::apply::progress_len(file.as_deref()),
            };
            let started = std::time::Instant::now();
            let report = commands::diff::run(&new, &old, &mut input, &options)?;
            let out = &mut std::io::stdout().lock();
            commands::diff::write_report(
                out,
                &report,
                (&rules.display().to_string(), &new),
                (&against.display().to_string(), &old),
            )?;
            writeln!(
                stderr,
                "compared {} from {source} in {:.2} s",
                logredact::commands::count(report.events, "event"),
                started.elapsed().as_secs_f64()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Apply {
            rules,
            explain,
            rejects,
            hash_keys,
            max_line_bytes,
            file,
        } => {
            let ring = secrets::key_ring(&hash_keys)?;
            let set = match RuleSet::load(&rules, &ring) {
                Ok(set) => set,
                Err(errors) => {
                    eprintln!("{errors}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            let file = file.filter(|f| f.as_os_str() != "-");
            let mut input: Box<dyn BufRead> = match &file {
                Some(path) => Box::new(std::io::BufReader::with_capacity(
                    1 << 16,
                    std::fs::File::open(path)
                        .with_context(|| format!("cannot open {}", path.display()))?,
                )),
                None => Box::new(std::io::stdin().lock()),
            };
            let mut rejects_out: Box<dyn std::io::Write> = match &rejects {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?,
                )),
                None => Box::new(std::io::stderr()),
            };
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            let options = commands::apply::Options {
                explain,
                max_line_bytes,
                progress_len: commands::apply::progress_len(file.as_deref()),
            };
            let started = std::time::Instant::now();
            let summary =
                commands::apply::run(&set, &mut input, &mut out, &mut rejects_out, &options)?;
            drop(out);
            commands::apply::write_summary(stderr, &set, &summary, started)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The rules folder given with `--rules` or alone, else `rules`.
fn rules_dir(flag: Option<PathBuf>, positional: Option<PathBuf>) -> PathBuf {
    flag.or(positional)
        .unwrap_or_else(|| PathBuf::from("rules"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn every_option_and_command_has_a_description() {
        let mut missing = Vec::new();
        let cli = Cli::command();
        for sub in cli.get_subcommands() {
            if sub.get_about().is_none() {
                missing.push(sub.get_name().to_owned());
            }
            for arg in sub.get_arguments() {
                let id = arg.get_id().as_str();
                if id != "help" && id != "version" && arg.get_help().is_none() {
                    missing.push(format!("{} --{id}", sub.get_name()));
                }
            }
        }
        assert!(missing.is_empty(), "no description: {missing:?}");
    }
}
