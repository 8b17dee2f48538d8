//! Reads a file output back for `verify`: its documents (bulk-ready NDJSON
//! pairs: action line, document line) and its seals (`DIR/seals/`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::seal::check::HeldDoc;
use crate::seal::record::{parse_line, ReadSeal};
use crate::seal::{check::Problem, doc_hash};
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

/// A file's name (for `place`s in reports) and its bytes.
fn read(path: &Path) -> anyhow::Result<(String, Vec<u8>)> {
    let text =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {} ({e})", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((name, text))
}

/// Every document in the output's files, by `_id`. A line that is not
/// part of an action/document pair (one line deleted, a torn end after a
/// crash) is a problem, and reading goes on from the next line.
pub fn documents(
    dir: &Path,
    progress: &dyn Fn(u64),
    problems: &mut Vec<Problem>,
) -> anyhow::Result<HashMap<String, Vec<HeldDoc>>> {
    #[derive(serde::Deserialize)]
    struct Meta {
        _id: String,
    }
    let mut docs: HashMap<String, Vec<HeldDoc>> = HashMap::new();
    let mut n = 0u64;
    for path in ndjson_files(dir)? {
        let (name, text) = read(&path)?;
        let mut lines = text.split(|&b| b == b'\n').enumerate();
        while let Some((i, action)) = lines.next() {
            if action.is_empty() {
                continue;
            }
            let Ok(action) = serde_json::from_slice::<HashMap<String, Meta>>(action) else {
                problems.push(Problem::Damaged {
                    place: format!("{name}:{}", i + 1),
                });
                continue;
            };
            let Some(meta) = action.into_values().next() else {
                continue;
            };
            let (j, doc) = lines.next().unwrap_or((i + 1, b""));
            docs.entry(meta._id).or_default().push(HeldDoc {
                place: format!("{name}:{}", j + 1),
                hash: doc_hash(doc),
            });
            n += 1;
            if n % 10_000 == 0 {
                progress(n);
            }
        }
    }
    Ok(docs)
}

/// Every seal in `DIR/seals/` (or any directory of seal files, such as
/// the second copy); lines that are not seals are problems.
pub fn seals(dir: &Path, problems: &mut Vec<Problem>) -> anyhow::Result<Vec<ReadSeal>> {
    seals_with_prefix(dir, "", problems)
}

/// The seals in the files of `dir` whose names start with `prefix`.
pub fn seals_with_prefix(
    dir: &Path,
    prefix: &str,
    problems: &mut Vec<Problem>,
) -> anyhow::Result<Vec<ReadSeal>> {
    let mut seals = Vec::new();
    let files = ndjson_files(dir)?.into_iter().filter(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(prefix))
    });
    for path in files {
        let (name, text) = read(&path)?;
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let place = format!("{name}:{}", i + 1);
            match parse_line(line, place.clone()) {
                Ok(s) => seals.push(s),
                Err(why) => problems.push(Problem::Malformed { seal: place, why }),
            }
        }
    }
    Ok(seals)
}

/// Where a file output keeps its seals.
pub fn seal_dir(output_dir: &Path) -> PathBuf {
    output_dir.join(FILE_SEALS_DIR)
}
