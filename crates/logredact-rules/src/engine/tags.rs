//! Tag rules: appended as members to the written event when they only add
//! top-level fields no condition reads, else applied on a tree of it.

use std::borrow::Cow;

use super::workspace::Workspace;
use super::{open_member, Routes};
use crate::condition::Watched;
use crate::json::{write_json_string, Value};
use crate::{Reject, RuleSet, TagRule};

impl RuleSet {
    /// When `tags_on_bytes`: gives each tag the members it appends, with
    /// the watched id of each one's field. They are what `apply_tag` makes
    /// of an empty object, so both ways of tagging share one definition.
    pub(crate) fn derive_tag_members(&mut self) {
        if !self.tags_on_bytes {
            return;
        }
        let mut members = Vec::with_capacity(self.tags.len());
        for tag in &self.tags {
            let mut empty = Value::Object(Vec::new());
            let (Ok(()), Value::Object(written)) = (self.apply_tag(tag, &mut empty), empty) else {
                // Cannot happen for top-level fields; the tree is always right.
                self.tags_on_bytes = false;
                return;
            };
            let mut appended = Vec::with_capacity(written.len());
            for (key, value) in written {
                let Some(id) = self.watched.iter().position(|w| *w == [&*key]) else {
                    self.tags_on_bytes = false;
                    return;
                };
                let mut member = Vec::new();
                write_json_string(&mut member, &key);
                member.push(b':');
                value.write_to(&mut member);
                appended.push((id, member));
            }
            members.push(appended);
        }
        for (tag, appended) in self.tags.iter_mut().zip(members) {
            tag.append = appended;
        }
    }

    /// Applies tag rules from `first` (whose condition holds) to the event
    /// written at the end of `out`, appending the members they set. Returns
    /// the tag from which a tree must take over: one that sets a field the
    /// event has already (the tree replaces its value).
    pub(super) fn append_tags(
        &self,
        first: usize,
        out: &mut Vec<u8>,
        work: &mut Workspace,
        has_members: &mut bool,
    ) -> Option<usize> {
        // Watched ids (below 64) of the members appended so far.
        let mut appended = 0u64;
        for (i, tag) in self.tags.iter().enumerate().skip(first) {
            if i != first
                && !tag.when.holds(&Watched {
                    buf: out,
                    spans: &work.watched,
                })
            {
                continue;
            }
            let present = |id: usize| {
                appended & (1 << id) != 0 || work.watched.iter().any(|&(w, _, _)| w as usize == id)
            };
            if tag.append.iter().any(|&(id, _)| present(id)) {
                return Some(i);
            }
            for (id, member) in &tag.append {
                open_member(out, *has_members);
                out.extend_from_slice(member);
                out.push(b'}');
                *has_members = true;
                appended |= 1 << id;
            }
            work.counts[tag.index] += 1;
            work.note("tag", tag.index, 1, false);
        }
        None
    }

    /// Applies tag rules from `first` (whose condition holds) on a tree of
    /// the masked event in `masked`, routes it, and writes it to `out`.
    pub(super) fn tags_on_tree(
        &self,
        masked: &[u8],
        first: usize,
        out: &mut Vec<u8>,
        work: &mut Workspace,
    ) -> Result<(Routes, bool), Reject> {
        let text = simdutf8::basic::from_utf8(masked).map_err(|_| Reject::NotUtf8)?;
        // The rewriting pass wrote `masked` from text it checked as strictly
        // as serde_json does.
        let mut event = Value::parse_valid(text).map_err(Reject::Json)?;
        for (i, tag) in self.tags.iter().enumerate().skip(first) {
            if i == first || tag.when.holds(&event) {
                self.apply_tag(tag, &mut event)?;
                work.counts[tag.index] += 1;
                work.note("tag", tag.index, 1, false);
            }
        }
        let routes = self.route(&event, work);
        if !matches!(routes, Routes::Dropped(_)) {
            event.write_to(out);
        }
        let has_members = matches!(&event, Value::Object(m) if !m.is_empty());
        Ok((routes, has_members))
    }

    fn apply_tag(&self, tag: &TagRule, event: &mut Value<'_>) -> Result<(), Reject> {
        let fail = |problem: String| Reject::rule(&self.ids[tag.index], problem);
        for (path, value) in &tag.set {
            let (last, parents) = path.split_last().expect("paths are never empty");
            let mut node = &mut *event;
            for (depth, key) in parents.iter().enumerate() {
                let Value::Object(members) = node else {
                    return Err(fail(format!(
                        "cannot set \"{}\" because \"{}\" is not an object",
                        path.join("."),
                        path[..depth].join(".")
                    )));
                };
                let pos = match members.iter().position(|(k, _)| k == key) {
                    Some(p) => p,
                    None => {
                        members.push((Cow::Owned(key.clone()), Value::Object(Vec::new())));
                        members.len() - 1
                    }
                };
                node = &mut members[pos].1;
            }
            if !matches!(node, Value::Object(_)) {
                return Err(fail(format!(
                    "cannot set \"{}\" because \"{}\" is not an object",
                    path.join("."),
                    parents.join(".")
                )));
            }
            set_member(node, last, value.clone());
        }
        if !tag.add_tags.is_empty() {
            add_tags(event, &tag.add_tags).map_err(fail)?;
        }
        Ok(())
    }
}

fn set_member<'a>(object: &mut Value<'a>, key: &str, value: Value<'a>) {
    if let Value::Object(members) = object {
        match members.iter_mut().find(|(k, _)| k == key) {
            Some((_, slot)) => *slot = value,
            None => members.push((Cow::Owned(key.to_owned()), value)),
        }
    }
}

fn add_tags(event: &mut Value<'_>, tags: &[String]) -> Result<(), String> {
    let Value::Object(members) = event else {
        return Ok(());
    };
    let slot = match members.iter().position(|(k, _)| k == "tags") {
        Some(p) => &mut members[p].1,
        None => {
            members.push((Cow::Borrowed("tags"), Value::Array(Vec::new())));
            &mut members.last_mut().expect("just pushed").1
        }
    };
    if let Value::Str(s) = slot {
        *slot = Value::Array(vec![Value::Str(std::mem::take(s))]);
    }
    let Value::Array(items) = slot else {
        return Err(
            "cannot add tags because the event's \"tags\" field is neither a list nor text"
                .to_owned(),
        );
    };
    for tag in tags {
        if !items.iter().any(|v| v.as_str() == Some(tag)) {
            items.push(Value::Str(Cow::Owned(tag.clone())));
        }
    }
    Ok(())
}
