//! The rule engine: parse, compile and apply masking, tagging and routing
//! rules. Pure: this module does no IO except reading rule files in
//! [`load_dir`], and never logs event content.
//!
//! Text becomes a [`RuleSet`] through one path ([`RuleSet::load`]) that
//! startup, `check`, `test` and reload all share. A `RuleSet` is immutable;
//! applying it to an event is a plain synchronous function.

mod bytes;
pub mod calendar;
mod compile;
mod condition;
pub mod detect;
mod engine;
mod error;
pub mod examples;
pub mod json;
pub mod normalize;
pub mod path;
mod reject;
pub mod shipped;
pub mod text;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub use engine::{Routes, Verdict, Workspace};
pub use error::{line_column, render, RuleError, RuleErrors};
pub use reject::{Reject, RuleFailure};

use condition::Condition;
use detect::Detector;
use path::FieldPattern;

/// The rule file format this build understands.
pub const FORMAT_VERSION: i64 = 1;

/// Secret keys for `hash` actions, by name. Keys come from the command line
/// or the daemon config, never from rule files.
#[derive(Clone, Default)]
pub struct KeyRing {
    keys: BTreeMap<String, Arc<[u8]>>,
    /// When set, a name with no key gets this one instead of an error. Used
    /// by `check` (which validates without secrets) and `test` (whose
    /// examples must not depend on the production key).
    fallback: Option<Arc<[u8]>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("KeyRing")
            .field("names", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The key `test` uses for hash rules when no real key is given, so that
/// embedded examples have stable expected values.
pub const TEST_HASH_KEY: &[u8] = b"logredact-example-key";

impl KeyRing {
    pub fn new() -> KeyRing {
        KeyRing::default()
    }

    pub fn insert(&mut self, name: &str, key: Vec<u8>) {
        self.keys.insert(name.to_owned(), key.into());
    }

    /// Any name without a key resolves to `key`.
    pub fn with_fallback(mut self, key: &[u8]) -> KeyRing {
        self.fallback = Some(key.into());
        self
    }

    pub fn get(&self, name: &str) -> Option<Arc<[u8]>> {
        self.keys
            .get(name)
            .cloned()
            .or_else(|| self.fallback.clone())
    }
}

/// Whether `s` is a valid name for a rule id or an output: lower-case
/// letters, digits, `-` and `_`. The one definition, for rule files and the
/// daemon's config alike, so that any output the config accepts can be
/// named by a route rule.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The three kinds of rule, in the order they apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleKind {
    Mask,
    Tag,
    Route,
}

impl RuleKind {
    pub const ALL: [RuleKind; 3] = [RuleKind::Mask, RuleKind::Tag, RuleKind::Route];

    /// The kind's name, as rule files write it (`[[mask]]`) and as
    /// `--explain` and metrics show it.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Mask => "mask",
            RuleKind::Tag => "tag",
            RuleKind::Route => "route",
        }
    }
}

/// One rule file's text and the name errors should use for it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
}

/// Reads every `*.toml` file in `dir` but hidden ones, sorted by file
/// name. The order of files is the order their rules apply in.
pub fn load_dir(dir: &Path) -> Result<Vec<SourceFile>, RuleErrors> {
    let shown = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "there is no such folder".to_owned(),
            std::io::ErrorKind::PermissionDenied => {
                "the user logredact runs as may not read this folder".to_owned()
            }
            std::io::ErrorKind::NotADirectory => "this is a file, not a folder".to_owned(),
            _ => format!("it cannot be read ({e})"),
        };
        RuleErrors(vec![RuleError::whole_file(
            &shown,
            format!("{why}; pass the folder that holds the rule files with --rules DIR"),
        )])
    })?;
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file() && !is_hidden(p))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(RuleErrors(vec![RuleError::whole_file(
            &shown,
            "holds no .toml rule files; add one (see docs/rules.md) or pass another directory with --rules DIR"
                .to_owned(),
        )]));
    }
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let name = p.display().to_string();
        match std::fs::read_to_string(&p) {
            Ok(text) => files.push(SourceFile { name, text }),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => errors.push(
                RuleError::whole_file(&name, "is not UTF-8 text; save it as UTF-8".to_owned()),
            ),
            Err(e) => errors.push(RuleError::whole_file(
                &name,
                format!("cannot be read ({e}); check that the user logredact runs as may read it"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(RuleErrors(errors))
    }
}

/// Whether a file is an editor's or the system's rather than an author's:
/// hidden (`.#40-staff.toml`, an editor's lock; `._40-staff.toml`, macOS
/// metadata; `.40-staff.toml.swp`) or a backup (`40-staff.toml~`).
fn is_hidden(path: &Path) -> bool {
    // (A name that is no UTF-8, from a zip made on Windows, is still read.)
    path.file_name()
        .map(|n| n.to_string_lossy())
        .is_some_and(|n| n.starts_with('.') || n.ends_with('~'))
}

/// Files in `dir` that [`load_dir`] does not read and an author may have
/// meant as rules (`40-passport.toml.txt`), sorted; editors' hidden and
/// backup files (`.x.swp`, `x~`) and folders are left out.
pub fn ignored_files(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_none_or(|x| x != "toml"))
        .filter(|p| !is_hidden(p))
        .map(|p| p.display().to_string())
        .collect();
    names.sort();
    names
}

/// How many different field paths conditions may read in one rule set:
/// the rewriting pass tracks them as the bits of a `u64`.
pub(crate) const MAX_WATCHED_FIELDS: usize = 64;

/// A compiled, immutable set of rules.
#[derive(Debug)]
pub struct RuleSet {
    masks: Vec<MaskRule>,
    tags: Vec<TagRule>,
    routes: Vec<RouteRule>,
    settings: Settings,
    /// Every rule's id, indexed by its position in apply order.
    ids: Vec<String>,
    /// Output names that route rules mention, in first-seen order.
    outputs: Vec<String>,
    examples: Vec<examples::Example>,
    /// Hex SHA-256 over the source files' names (not their folder) and texts.
    fingerprint: String,
    /// What is legal but almost certainly not meant (a rule that can never
    /// apply, a file in the rules folder that is not read).
    warnings: Vec<RuleError>,
    /// Whether any mask rule is limited to some fields or excludes some.
    scoped: bool,
    /// Field paths that tag and route conditions read (at most
    /// [`MAX_WATCHED_FIELDS`]); the rewriting pass records where their
    /// values are.
    watched: Vec<Vec<String>>,
    /// Per depth, each key the watched paths have there, with the paths
    /// (as bits) that do.
    watch_keys: Vec<Vec<(String, u64)>>,
    /// Whether tag rules only append top-level members that no condition
    /// reads, so they can be applied to the written event, without a tree.
    tags_on_bytes: bool,
    /// The record field's name and each rule id, as escaped JSON strings.
    record_key: Vec<u8>,
    rule_keys: Vec<Vec<u8>>,
    /// Whether any mask rule uses a custom pattern (which may match short
    /// numbers, so every number must be scanned).
    has_regex: bool,
    /// The fewest digits any mask rule's matches hold (see
    /// `detect::Builtin::min_digits`): text with fewer, no `@`, nothing
    /// encoded and nothing above ASCII is not scanned.
    min_digits: usize,
    /// The same for JSON numbers: the fewest digits of a number any rule
    /// can match (`usize::MAX` when none can).
    min_number_digits: usize,
    /// Whether a detector reads field names for context, so the rewriting
    /// pass passes each value's key along.
    reads_keys: bool,
}

/// What one rule file's `[settings]` table can change.
#[derive(Debug, Clone)]
struct Settings {
    /// Where each event records what was done; `None` turns the record off.
    record_field: Option<String>,
    /// Whether to run the residual scan.
    residual_scan: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            record_field: Some("redaction".to_owned()),
            residual_scan: true,
        }
    }
}

#[derive(Debug)]
struct MaskRule {
    /// Position in `RuleSet::ids`.
    index: usize,
    detector: Detector,
    action: Action,
    /// Empty means every field.
    fields: Vec<FieldPattern>,
    exclude: Vec<FieldPattern>,
    /// No fields and no exclusions: the rule applies to every value.
    everywhere: bool,
}

#[derive(Debug)]
enum Action {
    Partial {
        keep_first: usize,
        keep_last: usize,
        mask_char: char,
    },
    Full {
        replacement: String,
    },
    Hash {
        key: HashKey,
    },
    Drop,
}

/// A prepared HMAC-SHA256 key. Its `Debug` never shows the key.
#[derive(Clone)]
pub(crate) struct HashKey(pub(crate) hmac::Hmac<sha2::Sha256>);

impl std::fmt::Debug for HashKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashKey(..)")
    }
}

#[derive(Debug)]
struct TagRule {
    index: usize,
    when: Condition,
    set: Vec<(Vec<String>, json::Value<'static>)>,
    add_tags: Vec<String>,
    /// When [`RuleSet::tags_on_bytes`]: per field set, its id among the
    /// watched paths and the member to append, `"key":value`.
    append: Vec<(usize, Vec<u8>)>,
}

#[derive(Debug)]
struct RouteRule {
    index: usize,
    when: Option<Condition>,
    /// Indices into `RuleSet::outputs`; `None` drops the event.
    outputs: Option<Vec<usize>>,
}

impl RuleSet {
    /// Reads and compiles every rule file in `dir`.
    pub fn load(dir: &Path, keys: &KeyRing) -> Result<RuleSet, RuleErrors> {
        let files = load_dir(dir)?;
        let mut set = RuleSet::compile(&files, keys)?;
        for name in ignored_files(dir) {
            set.warnings.push(RuleError::whole_file(
                &name,
                "not read: only files whose names end in .toml are rule files; rename it to end in .toml, or move it out of the rules folder".to_owned(),
            ));
        }
        Ok(set)
    }

    /// Compiles rule files; every problem in every file is reported together.
    pub fn compile(files: &[SourceFile], keys: &KeyRing) -> Result<RuleSet, RuleErrors> {
        compile::compile(files, keys)
    }

    /// Rule ids, in apply order.
    pub fn rule_ids(&self) -> &[String] {
        &self.ids
    }

    /// Output names that route rules mention.
    pub fn outputs(&self) -> &[String] {
        &self.outputs
    }

    pub fn examples(&self) -> &[examples::Example] {
        &self.examples
    }

    /// The name of the redaction record each event gets, if any.
    pub fn record_field(&self) -> Option<&str> {
        self.settings.record_field.as_deref()
    }

    /// Warnings for the rule author (see [`render`]); the set works as
    /// written, but probably not as meant.
    pub fn warnings(&self) -> &[RuleError] {
        &self.warnings
    }

    /// A short hash that names this exact set of files.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Counts of rules by kind: (mask, tag, route).
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.masks.len(), self.tags.len(), self.routes.len())
    }

    /// The detector of the mask rule at `index`, if it is one.
    pub fn detector_of(&self, index: usize) -> Option<&'static str> {
        self.masks
            .iter()
            .find(|m| m.index == index)
            .map(|m| m.detector.name())
    }

    /// The kind of rule at `index`.
    pub fn kind_of(&self, index: usize) -> RuleKind {
        if index < self.masks.len() {
            RuleKind::Mask
        } else if index < self.masks.len() + self.tags.len() {
            RuleKind::Tag
        } else {
            RuleKind::Route
        }
    }
}
