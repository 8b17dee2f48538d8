//! The `file` output: bulk-ready NDJSON (action line, then document), one
//! file per index name, rotated by size. `curl -H 'Content-Type:
//! application/x-ndjson' --data-binary @FILE http://es:9200/_bulk` loads
//! one into Elasticsearch. Also home of [`RotatingFile`], which the
//! dead-letter directory uses too.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{Ack, AckSender, Doc, DocBatch, IndexNamer, IndexTemplate};
use crate::rules::json::write_json_string;
use crate::stats::Stats;

/// Files of one name prefix in one directory: `PREFIX.000001.ndjson`, …
/// A new file is started when one passes `rotate_bytes`; numbering carries
/// on from what is already in the directory, so a restart never overwrites.
///
/// A failed write or flush gives up the file: what was not flushed is
/// dropped, the file is cut back to its length at the last flush, and the
/// next write starts a new file. So a caller that writes whole lines and
/// retries everything since its last successful flush leaves no fragment
/// of a line (which a retry would have been glued to) and no duplicate.
#[derive(Debug)]
pub struct RotatingFile {
    dir: PathBuf,
    prefix: String,
    rotate_bytes: u64,
    current: Option<Current>,
    next_seq: u64,
}

#[derive(Debug)]
struct Current {
    writer: BufWriter<File>,
    /// Bytes written, buffered ones included.
    len: u64,
    /// The length at the last successful flush.
    flushed: u64,
    /// The length at the last successful [`RotatingFile::sync`].
    synced: u64,
    /// Made by this writer and not synced yet: its directory entry is
    /// synced with it.
    new: bool,
}

impl RotatingFile {
    pub fn new(dir: &Path, prefix: &str, rotate_bytes: u64) -> RotatingFile {
        RotatingFile {
            dir: dir.to_owned(),
            prefix: prefix.to_owned(),
            rotate_bytes,
            current: None,
            next_seq: 0,
        }
    }

    fn open_next(&mut self) -> std::io::Result<()> {
        if self.next_seq == 0 {
            self.next_seq = highest_seq(&self.dir, &self.prefix)?.saturating_add(1);
        }
        let path = self
            .dir
            .join(format!("{}.{:06}.ndjson", self.prefix, self.next_seq));
        // (At the last number, the same file is appended to.)
        self.next_seq = self.next_seq.saturating_add(1);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let len = file.metadata()?.len();
        self.current = Some(Current {
            writer: BufWriter::with_capacity(1 << 16, file),
            len,
            flushed: len,
            synced: len,
            new: len == 0,
        });
        Ok(())
    }

    /// Appends `bytes`, which should be whole lines. A new file is started
    /// only where the last one was flushed (a batch, flushed or synced at
    /// its end, never spans two files: what a failure gives up, and a
    /// retry writes again, is all in one), so a file may pass
    /// `rotate_bytes` by one batch.
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self
            .current
            .as_ref()
            .is_none_or(|c| c.len >= self.rotate_bytes && c.len == c.flushed)
        {
            // (Flushed, and for callers that sync, synced: nothing of the
            // old file is left to lose.)
            self.current = None;
            self.open_next()?;
        }
        let Some(c) = self.current.as_mut() else {
            unreachable!("opened above");
        };
        if let Err(e) = c.writer.write_all(bytes) {
            self.give_up();
            return Err(e);
        }
        c.len += bytes.len() as u64;
        Ok(())
    }

    /// Hands buffered bytes to the operating system.
    pub fn flush(&mut self) -> std::io::Result<()> {
        let Some(c) = self.current.as_mut() else {
            return Ok(());
        };
        match c.writer.flush() {
            Ok(()) => {
                c.flushed = c.len;
                Ok(())
            }
            Err(e) => {
                self.give_up();
                Err(e)
            }
        }
    }

    /// Flushes, then makes what was written durable (`fsync`; for a file
    /// this writer made, its directory entry too), for records that are
    /// acknowledged only once they would survive a crash of the host
    /// (seals, dead letters). A failure gives the file up, cut back to its
    /// last sync.
    pub fn sync(&mut self) -> std::io::Result<()> {
        self.flush()?;
        let Some(c) = self.current.as_mut() else {
            return Ok(());
        };
        let mut result = c.writer.get_ref().sync_data();
        if result.is_ok() && c.new {
            result = File::open(&self.dir).and_then(|d| d.sync_all());
        }
        match result {
            Ok(()) => {
                c.synced = c.len;
                c.new = false;
                Ok(())
            }
            Err(e) => {
                // What the failed sync covered may be lost from the disk
                // even where the file reads it back.
                c.flushed = c.synced;
                self.give_up();
                Err(e)
            }
        }
    }

    /// After a failed write or flush: drops what was not flushed, cuts the
    /// file back to its length at the last flush (part of a line may have
    /// reached it), and leaves the next write to start a new file.
    fn give_up(&mut self) {
        let Some(c) = self.current.take() else {
            return;
        };
        // (Not `drop`: a `BufWriter` dropped writes out its buffer.)
        let (file, _unwritten) = c.writer.into_parts();
        if let Err(e) = file.set_len(c.flushed) {
            tracing::warn!(
                dir = %self.dir.display(),
                prefix = %self.prefix,
                error = %e,
                "cannot cut a file back after a failed write; its last line may be incomplete"
            );
        }
    }
}

fn highest_seq(dir: &Path, prefix: &str) -> std::io::Result<u64> {
    let mut highest = 0;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(seq) = name
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('.'))
            .and_then(|r| r.strip_suffix(".ndjson"))
            .and_then(|r| r.parse::<u64>().ok())
        {
            highest = highest.max(seq);
        }
    }
    Ok(highest)
}

/// Files kept open at once; older index files are closed (their dates have
/// passed), so a long run does not collect file handles.
const MAX_OPEN_FILES: usize = 8;

/// Writes documents for one `file` output.
pub struct FileWriter {
    pub name: Arc<str>,
    /// The output's index among the outputs (its bit in route masks).
    pub index: u8,
    pub dir: PathBuf,
    pub namer: IndexNamer,
    pub rotate_bytes: u64,
    pub flush_interval: Duration,
}

impl FileWriter {
    pub fn new(name: &str, config: &crate::config::FileOutputConfig) -> anyhow::Result<FileWriter> {
        std::fs::create_dir_all(&config.dir).map_err(|e| {
            anyhow::anyhow!(
                "output \"{name}\": cannot create {} ({e}); check the path and permissions",
                config.dir.display()
            )
        })?;
        let template = IndexTemplate::parse(&config.index).map_err(|e| anyhow::anyhow!(e))?;
        Ok(FileWriter {
            name: name.into(),
            index: 0,
            dir: config.dir.clone(),
            namer: IndexNamer::new(template),
            rotate_bytes: config.rotate_bytes,
            flush_interval: Duration::from_millis(100),
        })
    }

    /// Runs until `input` closes. Documents are acknowledged after their
    /// batch is flushed to the operating system. A write error is retried:
    /// a full disk stalls the output (and back-pressure stops consumption)
    /// rather than losing events.
    pub async fn run(
        mut self,
        mut input: mpsc::Receiver<DocBatch>,
        acks: AckSender,
        stats: Arc<Stats>,
    ) {
        let mut files: HashMap<Arc<str>, (RotatingFile, Instant)> = HashMap::new();
        let mut batch: Vec<Arc<Doc>> = Vec::new();
        loop {
            batch.clear();
            stats.output_heartbeat(&self.name);
            let first = match tokio::time::timeout(Duration::from_secs(1), input.recv()).await {
                Ok(Some(docs)) => docs,
                Ok(None) => break,
                Err(_) => continue,
            };
            batch.extend(first);
            while batch.len() < 4096 {
                match input.try_recv() {
                    Ok(docs) => batch.extend(docs),
                    Err(_) => break,
                }
            }
            let mut delay = Duration::from_millis(100);
            while let Err(e) = self.write_batch(&batch, &mut files) {
                tracing::error!(output = %self.name, error = %e, "cannot write to the output directory; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
                // A failed batch may be half written; rewriting it is safe
                // because readers dedupe by _id.
            }
            let now = crate::stats::Now::read();
            stats.indexed(&self.name, batch.iter().map(|d| d.age(&now)));
            // The consumer may be gone at shutdown; nothing to do then.
            let _ = acks.send(
                batch
                    .iter()
                    .map(|doc| Ack {
                        token: doc.token,
                        dead_lettered: false,
                        output: Some(self.index),
                    })
                    .collect(),
            );
        }
        for (file, _) in files.values_mut() {
            if let Err(e) = file.flush() {
                tracing::error!(output = %self.name, error = %e, "cannot flush the output file");
            }
        }
    }

    fn write_batch(
        &mut self,
        batch: &[Arc<Doc>],
        files: &mut HashMap<Arc<str>, (RotatingFile, Instant)>,
    ) -> std::io::Result<()> {
        let now = Instant::now();
        let mut line = Vec::with_capacity(256);
        for doc in batch {
            let index = self.namer.name(doc.time_ms);
            if !files.contains_key(&index) {
                if files.len() >= MAX_OPEN_FILES {
                    let oldest = files
                        .iter()
                        .min_by_key(|(_, (_, used))| *used)
                        .map(|(k, _)| k.clone());
                    if let Some(k) = oldest {
                        if let Some((mut f, _)) = files.remove(&k) {
                            f.flush()?;
                        }
                    }
                }
                files.insert(
                    index.clone(),
                    (RotatingFile::new(&self.dir, &index, self.rotate_bytes), now),
                );
            }
            let (file, used) = files.get_mut(&index).expect("inserted above");
            *used = now;
            line.clear();
            action_line(&mut line, "index", &index, &doc.id);
            line.extend_from_slice(&doc.body);
            line.push(b'\n');
            file.write(&line)?;
        }
        for (file, _) in files.values_mut() {
            file.flush()?;
        }
        Ok(())
    }
}

/// Appends `{"OP":{"_index":"INDEX","_id":"ID"}}\n`.
pub fn action_line(out: &mut Vec<u8>, op: &str, index: &str, id: &str) {
    out.extend_from_slice(b"{\"");
    out.extend_from_slice(op.as_bytes());
    out.extend_from_slice(b"\":{\"_index\":");
    write_json_string(out, index);
    out.extend_from_slice(b",\"_id\":");
    write_json_string(out, id);
    out.extend_from_slice(b"}}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file that cannot be written (here `/dev/full`: every write to
    /// it fails with ENOSPC) is given up: the retry goes to a new file,
    /// whole and once. Before, the failed bytes stayed in the buffer, each
    /// retry added another copy, and every flush failed again.
    #[test]
    fn a_failed_flush_gives_up_the_file_and_the_retry_is_whole() {
        let dir = tempdir();
        let big = format!("{}\n", "y".repeat(100_000));
        // A short line (buffered) and one past the buffer (written at once).
        for (prefix, line) in [("x", "first\n"), ("v", big.as_str())] {
            std::os::unix::fs::symlink("/dev/full", dir.join(format!("{prefix}.000001.ndjson")))
                .unwrap();
            let mut f = RotatingFile::new(&dir, prefix, 1 << 20);
            f.next_seq = 1;
            let failed = f.write(line.as_bytes()).and_then(|()| f.flush());
            assert!(failed.is_err(), "/dev/full takes nothing");
            f.write(line.as_bytes()).unwrap();
            f.write(b"then\n").unwrap();
            f.flush().unwrap();
            let text =
                std::fs::read_to_string(dir.join(format!("{prefix}.000002.ndjson"))).unwrap();
            assert_eq!(text, format!("{line}then\n"));
        }
    }

    /// What was flushed stays; what was written after it and not flushed
    /// when the file is given up goes, with any part of it on disk.
    #[test]
    fn a_file_given_up_is_cut_back_to_its_last_flush() {
        let dir = tempdir();
        let mut f = RotatingFile::new(&dir, "z", 1 << 20);
        f.write(b"kept\n").unwrap();
        f.flush().unwrap();
        // A line that bypasses the buffer reaches the file at once.
        f.write(format!("{}\n", "w".repeat(100_000)).as_bytes())
            .unwrap();
        f.give_up();
        let text = std::fs::read_to_string(dir.join("z.000001.ndjson")).unwrap();
        assert_eq!(text, "kept\n");
        f.write(b"next\n").unwrap();
        f.flush().unwrap();
        let next = std::fs::read_to_string(dir.join("z.000002.ndjson")).unwrap();
        assert_eq!(next, "next\n");
    }

    /// A batch (what is written between two flushes) never spans two
    /// files: a failure that gives up the file gives up all of it, and the
    /// retry writes it once. (Rotating inside a batch left its start in a
    /// file that was neither synced nor given up.)
    #[test]
    fn files_rotate_only_between_batches() {
        let dir = tempdir();
        let mut f = RotatingFile::new(&dir, "r", 10);
        for line in [b"0123456789\n", b"abcdefghij\n", b"klmnopqrst\n"] {
            f.write(line).unwrap();
        }
        f.sync().unwrap();
        f.write(b"next\n").unwrap();
        f.sync().unwrap();
        let first = std::fs::read_to_string(dir.join("r.000001.ndjson")).unwrap();
        assert_eq!(first.lines().count(), 3, "the whole batch in one file");
        let second = std::fs::read_to_string(dir.join("r.000002.ndjson")).unwrap();
        assert_eq!(second, "next\n");
    }

    #[test]
    fn a_synced_file_holds_what_was_written() {
        let dir = tempdir();
        let mut f = RotatingFile::new(&dir, "s", 1 << 20);
        f.write(b"one\n").unwrap();
        f.sync().unwrap();
        f.write(b"two\n").unwrap();
        f.sync().unwrap();
        let text = std::fs::read_to_string(dir.join("s.000001.ndjson")).unwrap();
        assert_eq!(text, "one\ntwo\n");
    }

    #[test]
    fn rotation_continues_numbering_after_restart() {
        let dir = tempdir();
        let mut f = RotatingFile::new(&dir, "x", 10);
        f.write(b"0123456789\n").unwrap();
        f.flush().unwrap();
        f.write(b"abc\n").unwrap();
        f.flush().unwrap();
        let mut g = RotatingFile::new(&dir, "x", 10);
        g.write(b"def\n").unwrap();
        g.flush().unwrap();
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["x.000001.ndjson", "x.000002.ndjson", "x.000003.ndjson"]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn action_lines_escape_names() {
        let mut out = Vec::new();
        action_line(&mut out, "create", "a\"b", "t-1-2");
        assert_eq!(
            out,
            b"{\"create\":{\"_index\":\"a\\\"b\",\"_id\":\"t-1-2\"}}\n"
        );
    }

    fn tempdir() -> PathBuf {
        // Tests run at once: the time alone is not enough.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let d = std::env::temp_dir().join(format!(
            "logredact-file-test-{}-{}-{}",
            std::process::id(),
            crate::stats::now_ms(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
