//! The documents an output holds, as `verify` keeps them: by (topic,
//! partition, offset) read from the `_id`, with the SHA-256 of their bytes
//! and where they are, in about 60 bytes a document. An output of a
//! hundred million documents then fits in a few GiB; `--since` keeps only
//! the documents the window's seals cover.

use std::collections::HashMap;

/// One copy of a document.
#[derive(Debug, Clone, Copy)]
pub struct Held {
    pub hash: [u8; 32],
    /// Index into `HeldDocs::places`.
    place: u32,
    /// The line in a file, 0 for an index.
    line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    topic: u32,
    partition: i32,
    offset: i64,
}

/// The documents held, by offset.
#[derive(Debug, Default)]
pub struct HeldDocs {
    topics: Interned,
    places: Interned,
    /// The first copy of each document read.
    first: HashMap<Key, Held>,
    /// Further copies (a replay into a new index or file): rare.
    more: HashMap<Key, Vec<Held>>,
    /// Documents whose `_id` is not one logredact writes: inserted.
    foreign: Vec<(String, Held)>,
    count: u64,
}

/// Strings kept once each, by number.
#[derive(Debug, Default)]
struct Interned {
    names: Vec<String>,
    numbers: HashMap<String, u32>,
}

impl Interned {
    fn number(&mut self, name: &str) -> u32 {
        if let Some(&n) = self.numbers.get(name) {
            return n;
        }
        let n = u32::try_from(self.names.len()).expect("fewer than 4 billion names");
        self.names.push(name.to_owned());
        self.numbers.insert(name.to_owned(), n);
        n
    }
}

impl HeldDocs {
    /// Adds a copy of document `id`, found in `place` (an index, or a
    /// file with `line`), whose bytes hash to `hash`.
    pub fn add(&mut self, id: &str, place: &str, line: Option<u32>, hash: [u8; 32]) {
        let held = Held {
            hash,
            place: self.places.number(place),
            line: line.unwrap_or(0),
        };
        self.count += 1;
        let Some((topic, partition, offset)) = parse_doc_id(id) else {
            self.foreign.push((id.to_owned(), held));
            return;
        };
        let key = Key {
            topic: self.topics.number(topic),
            partition,
            offset,
        };
        match self.first.entry(key) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(held);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.more.entry(key).or_default().push(held);
            }
        }
    }

    /// Counts a document read but not kept (outside a time window).
    pub fn pass_over(&mut self) {
        self.count += 1;
    }

    /// How many documents were read, kept or not.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Every copy held at this offset, in the order read.
    pub fn at(&self, topic: &str, partition: i32, offset: i64) -> impl Iterator<Item = &Held> {
        let key = self.topics.numbers.get(topic).map(|&topic| Key {
            topic,
            partition,
            offset,
        });
        self.copies(key)
    }

    /// Every document with an `_id` logredact writes, as (topic,
    /// partition, offset, its copies), in no particular order.
    pub fn each(&self) -> impl Iterator<Item = (&str, i32, i64, impl Iterator<Item = &Held>)> + '_ {
        self.first.keys().map(|k| {
            (
                self.topics.names[k.topic as usize].as_str(),
                k.partition,
                k.offset,
                self.copies(Some(*k)),
            )
        })
    }

    /// The first copy read and the others, without gathering them.
    fn copies(&self, key: Option<Key>) -> impl Iterator<Item = &Held> {
        let first = key.and_then(|k| self.first.get(&k));
        let more = key.and_then(|k| self.more.get(&k));
        first.into_iter().chain(more.into_iter().flatten())
    }

    /// The documents whose `_id` logredact does not write.
    pub fn foreign(&self) -> &[(String, Held)] {
        &self.foreign
    }

    /// Where a copy is, for reports: the index, or `file:line`.
    pub fn place(&self, held: &Held) -> String {
        let name = &self.places.names[held.place as usize];
        match held.line {
            0 => name.clone(),
            line => format!("{name}:{line}"),
        }
    }
}

/// The (topic, partition, offset) of a document id logredact writes
/// (`topic-partition-offset`, `sink::doc_id`; the topic may hold `-`).
///
/// Only the form logredact writes is read: the numbers in plain decimal
/// without sign or leading zero, so that no other id (`t-0-07`, `t-+0-7`)
/// can stand in for a sealed one.
pub fn parse_doc_id(id: &str) -> Option<(&str, i32, i64)> {
    fn number<T: std::str::FromStr>(text: &str) -> Option<T> {
        let plain = !text.is_empty()
            && text.bytes().all(|b| b.is_ascii_digit())
            && (text == "0" || !text.starts_with('0'));
        if plain {
            text.parse().ok()
        } else {
            None
        }
    }
    let mut parts = id.rsplitn(3, '-');
    let offset = number(parts.next()?)?;
    let partition = number(parts.next()?)?;
    Some((parts.next()?, partition, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_kept_by_offset_and_foreign_ids_apart() {
        let mut docs = HeldDocs::default();
        docs.add("web-logs-3-17", "logs-cold-2026.11.30", None, [1; 32]);
        docs.add("web-logs-3-17", "cold-000001.ndjson", Some(42), [2; 32]);
        docs.add("made-up", "logs-cold-2026.11.30", None, [3; 32]);
        assert_eq!(docs.count(), 3);
        let copies: Vec<&Held> = docs.at("web-logs", 3, 17).collect();
        assert_eq!(copies.len(), 2);
        assert_eq!(docs.place(copies[0]), "logs-cold-2026.11.30");
        assert_eq!(docs.place(copies[1]), "cold-000001.ndjson:42");
        assert!(docs.at("web-logs", 3, 18).next().is_none());
        assert!(docs.at("other", 3, 17).next().is_none());
        assert_eq!(docs.foreign().len(), 1);
        assert_eq!(docs.each().count(), 1);
        assert_eq!(parse_doc_id("a-b-1-2"), Some(("a-b", 1, 2)));
        assert_eq!(parse_doc_id("t-0-0"), Some(("t", 0, 0)));
        for other in [
            "a-x-2", "t-0-07", "t-00-7", "t-+0-7", "t-0-+7", "t-0-", "t-0-1e3",
        ] {
            assert_eq!(parse_doc_id(other), None, "{other}");
        }
    }
}
