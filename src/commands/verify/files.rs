//! Reads a file output back for `verify`: its documents (bulk-ready NDJSON
//! pairs: action line, document line) and its seals (`DIR/seals/`).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::seal::check::{HeldDocs, Problem};
use crate::seal::doc_hash;
use crate::seal::record::{parse_line, ReadSeal};
use crate::sink::seals::FILE_SEALS_DIR;

/// The `.ndjson` files directly in `dir`, in name order.
fn ndjson_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(files),
        Err(e) => anyhow::bail!("cannot read {} ({e})", dir.display()),
    };
    for entry in entries {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "ndjson") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Calls `each` with every line of the file at `path` (numbered from 1,
/// without its newline), read in pieces: a file is never held whole.
/// Returns the file's name, for `place`s in reports.
fn each_line(path: &Path, mut each: impl FnMut(&str, u32, &[u8])) -> anyhow::Result<String> {
    let cannot = |e: std::io::Error| anyhow::anyhow!("cannot read {} ({e})", path.display());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path).map_err(cannot)?);
    let mut line = Vec::new();
    let mut number = 0u32;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(cannot)? == 0 {
            return Ok(name);
        }
        number = number.saturating_add(1);
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        each(&name, number, &line);
    }
}

/// The documents in the output's files that `wants` keeps (by `_id`). A
/// line that is not part of an action/document pair (one line deleted, a
/// torn end after a crash) is a problem, and reading goes on from the next
/// line.
pub fn documents(
    dir: &Path,
    wants: &dyn Fn(&str) -> bool,
    progress: &dyn Fn(u64),
    problems: &mut Vec<Problem>,
) -> anyhow::Result<HeldDocs> {
    #[derive(serde::Deserialize)]
    struct Meta {
        _id: String,
    }
    let mut docs = HeldDocs::default();
    let mut n = 0u64;
    for path in ndjson_files(dir)? {
        // The `_id` of the action line just read, whose document is next.
        let mut pending: Option<(String, u32)> = None;
        let name = each_line(&path, |name, number, line| {
            if let Some((id, _)) = pending.take() {
                if wants(&id) {
                    docs.add(&id, name, Some(number), doc_hash(line));
                } else {
                    docs.pass_over();
                }
                n += 1;
                if n % 10_000 == 0 {
                    progress(n);
                }
                return;
            }
            if line.is_empty() {
                return;
            }
            match serde_json::from_slice::<HashMap<String, Meta>>(line) {
                Ok(action) => pending = action.into_values().next().map(|m| (m._id, number)),
                Err(_) => problems.push(Problem::Damaged {
                    place: format!("{name}:{number}"),
                }),
            }
        })?;
        // An action line with nothing after it: its document is empty.
        if let Some((id, number)) = pending {
            if wants(&id) {
                docs.add(&id, &name, Some(number.saturating_add(1)), doc_hash(b""));
            } else {
                docs.pass_over();
            }
        }
    }
    Ok(docs)
}

/// Every seal in `DIR/seals/` (or any directory of seal files, such as
/// the second copy), handed to `each` as read; lines that are not seals
/// are problems.
pub fn seals(
    dir: &Path,
    each: &mut dyn FnMut(ReadSeal),
    problems: &mut Vec<Problem>,
) -> anyhow::Result<()> {
    seals_with_prefix(dir, "", each, problems)
}

/// The seals in the files of `dir` whose names start with `prefix`.
pub fn seals_with_prefix(
    dir: &Path,
    prefix: &str,
    each: &mut dyn FnMut(ReadSeal),
    problems: &mut Vec<Problem>,
) -> anyhow::Result<()> {
    let files = ndjson_files(dir)?.into_iter().filter(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
    });
    for path in files {
        each_line(&path, |name, number, line| {
            if line.is_empty() {
                return;
            }
            let place = format!("{name}:{number}");
            match parse_line(line, place.clone()) {
                Ok(s) => each(s),
                Err(why) => problems.push(Problem::Malformed { seal: place, why }),
            }
        })?;
    }
    Ok(())
}

/// Where a file output keeps its seals.
pub fn seal_dir(output_dir: &Path) -> PathBuf {
    output_dir.join(FILE_SEALS_DIR)
}
