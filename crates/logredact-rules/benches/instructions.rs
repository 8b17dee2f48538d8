//! The engine against the naive approach in instructions, which unlike
//! time do not depend on what else the machine is doing: `one_event` N
//! times, through the engine or the naive way, to run under callgrind.
//!
//! ```sh
//! cargo bench -p logredact-rules --bench instructions --no-run
//! B=$(ls -t target/release/deps/instructions-* | grep -v '\\.d$' | head -1)
//! for m in naive engine; do for n in 1 1001; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null $B $m $n 2>&1 | grep Collected
//! done; done
//! ```
//!
//! Per event: (count at 1001 - count at 1) / 1000, for each mode. A third
//! argument names a file holding another event, to see what one value costs.

use std::path::Path;

use logredact_rules::{KeyRing, RuleSet, Workspace};

mod common;
use common::{Naive, EVENT};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mode = args.next().unwrap_or_default();
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    // Another event than the representative one, to see what a value costs.
    let event = match args.next() {
        Some(file) => std::fs::read_to_string(file).expect("the event file is readable"),
        None => EVENT.to_owned(),
    };
    let event = event.trim_end();
    let mut out = Vec::with_capacity(2048);
    match mode.as_str() {
        "naive" => {
            let naive = Naive::new();
            for _ in 0..n {
                out.clear();
                naive.apply(event, &mut out);
            }
        }
        "engine" => {
            let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
            let rules =
                RuleSet::load(&root.join("rules"), &KeyRing::new()).expect("shipped rules load");
            let mut work = Workspace::new();
            for _ in 0..n {
                out.clear();
                rules
                    .apply(event.as_bytes(), &mut out, &mut work)
                    .expect("event is processed");
            }
        }
        // `cargo bench` runs every bench with no mode: nothing to do.
        _ => eprintln!(
            "usage: instructions (naive|engine) COUNT [EVENT_FILE]; run it under callgrind"
        ),
    }
    std::hint::black_box(&out);
}
