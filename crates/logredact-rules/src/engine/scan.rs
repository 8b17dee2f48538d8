//! The mask rules and the residual check over one value: the normalising
//! view, every detector, overlaps merged under the earlier rule, and the
//! rewrite of the original text.

use std::ops::Range;

use hmac::Mac;

use super::overlap::Matches;
use super::workspace::{LeafScratch, PathTrack, Tally, Workspace};
use crate::detect::{Features, Scan, WHOLE_TEXT};
use crate::json::number_quote;
use crate::json::rewrite::Leaf;
use crate::normalize::{
    cjk_numeral_digits, has_foldable, may_hold_exponent, wide_digits_and_at, NormView, Percent,
};
use crate::text::partial_mask_into;
use crate::{Action, MaskRule, Reject, RuleSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Mask,
    Residual,
}

impl RuleSet {
    /// Runs the mask rules over one string value, then the residual check.
    /// On [`Leaf::Changed`] the new text is in `work.leaf_text()`.
    ///
    /// The residual check runs every mask rule's detector over the final
    /// text wherever that text is not exactly what every rule already
    /// scanned: when a rule changed it, or when a rule was scoped away from
    /// this field. An unchanged value that every rule scanned needs no second
    /// look: detectors are pure functions of the text (and of whether it is
    /// a number that lost digits), so they would find nothing again. Values set by tag rules are constants, checked for
    /// personal data when the rules compile.
    ///
    /// `profiled`: the features of `original` when `work.scan_buffers()`
    /// holds its profile already (the tokenizer made it). `lost_digits`:
    /// `original` is the reading of a number a double held, which lost its
    /// last digits (see `json::number`).
    pub(crate) fn scan_leaf(
        &self,
        original: &[u8],
        profiled: Option<Features>,
        keys: [&[u8]; 2],
        lost_digits: bool,
        work: &mut Workspace,
    ) -> Result<Leaf, Reject> {
        if self.masks.is_empty() {
            return Ok(Leaf::Unchanged);
        }
        let Workspace {
            scratch,
            leaf_text,
            leaf_spare,
            counts,
            residual,
            path,
            explain,
            ..
        } = work;
        let mut tally = Tally {
            counts,
            residual,
            path,
            explain,
            keys,
            lost_digits,
            no_numerals: false,
        };
        let mut skipped = false;
        let mut unsure = false;
        let mut masked = self.scan_pass(
            Stage::Mask,
            Percent::Escape,
            original,
            profiled,
            leaf_text,
            scratch,
            &mut tally,
            &mut skipped,
            &mut unsure,
        )?;
        // A `%` that is no sure escape is read as a sign too: the rules
        // run again over what the first reading left
        // (`LIKE '%13812345678%'`, where `%13` is no escape; `%2518…`,
        // where decoding brings one out).
        if unsure {
            masked = match masked {
                Leaf::Changed => self.pass_over_changed(
                    Stage::Mask,
                    Percent::Sign,
                    leaf_text,
                    leaf_spare,
                    scratch,
                    &mut tally,
                    &mut skipped,
                )?,
                // (Profiled again: the first reading's view took the
                // buffers the tokenizer's profile was in.)
                Leaf::Unchanged => self.scan_pass(
                    Stage::Mask,
                    Percent::Sign,
                    original,
                    None,
                    leaf_text,
                    scratch,
                    &mut tally,
                    &mut skipped,
                    &mut unsure,
                )?,
                Leaf::Drop => Leaf::Drop,
            };
        }
        if !self.settings.residual_scan {
            return Ok(masked);
        }
        match masked {
            Leaf::Drop => Ok(Leaf::Drop),
            Leaf::Unchanged if !skipped => Ok(Leaf::Unchanged),
            // A rule was scoped away from this value: look at it whole.
            Leaf::Unchanged => self.scan_pass(
                Stage::Residual,
                Percent::Escape,
                original,
                None,
                leaf_text,
                scratch,
                &mut tally,
                &mut skipped,
                &mut false,
            ),
            Leaf::Changed => self.pass_over_changed(
                Stage::Residual,
                Percent::Escape,
                leaf_text,
                leaf_spare,
                scratch,
                &mut tally,
                &mut skipped,
            ),
        }
    }

    /// Another pass over a value an earlier pass changed (its text in
    /// `leaf_text`), through `leaf_spare`; the value stays changed unless
    /// the pass drops it, and `leaf_text` holds its text.
    #[allow(clippy::too_many_arguments)]
    fn pass_over_changed(
        &self,
        stage: Stage,
        percent: Percent,
        leaf_text: &mut Vec<u8>,
        leaf_spare: &mut Vec<u8>,
        scratch: &mut LeafScratch,
        tally: &mut Tally<'_>,
        skipped: &mut bool,
    ) -> Result<Leaf, Reject> {
        let again = self.scan_pass(
            stage, percent, leaf_text, None, leaf_spare, scratch, tally, skipped, &mut false,
        )?;
        if let Leaf::Changed = again {
            std::mem::swap(leaf_text, leaf_spare);
        }
        Ok(match again {
            Leaf::Drop => Leaf::Drop,
            _ => Leaf::Changed,
        })
    }

    /// Whether no mask rule could find anything in `text`, which holds no
    /// `\\` (`features` are its profile), even in its normalised view: too
    /// few digits, counting those that fold to one (full-width, styled,
    /// Chinese numerals in runs), no `@` of either width, no
    /// `%`. Decoding only ever shortens text and each encoded digit keeps
    /// an ASCII digit (`%31`, `\\u0031`), so this holds for the view too.
    #[inline]
    pub(crate) fn plain_text_holds_nothing(&self, text: &[u8], features: Features) -> bool {
        if self.has_regex || features.has_at || features.has_percent {
            return false;
        }
        if features.digits >= self.min_digits {
            return false;
        }
        if !features.has_high {
            return true;
        }
        // Only characters that fold to a digit (or to an `@`) could make
        // up the difference, and Chinese numerals in runs.
        let (wide, at) = wide_digits_and_at(text);
        if at {
            return false;
        }
        features.digits + wide < self.min_digits
            && features.digits + wide + cjk_numeral_digits(text) < self.min_digits
    }

    /// Whether `text`'s Chinese numerals in runs (`一三八…`) must be read:
    /// there are some, and with the `digits` enough for the shortest
    /// match. Not counted again in the masked text of a value that had
    /// none.
    fn numerals_count(&self, text: &[u8], digits: usize, tally: &mut Tally<'_>) -> bool {
        if tally.no_numerals {
            return false;
        }
        let numerals = cjk_numeral_digits(text);
        tally.no_numerals = numerals == 0;
        numerals > 0 && digits + numerals >= self.min_digits
    }

    /// One pass of the mask rules over a value. Every rule looks at the
    /// same text; where matches overlap, the earlier rule masks them
    /// together; then one
    /// rewrite applies them all, into `out`. (Anything a rewrite could newly
    /// expose is caught by the residual pass, which runs on every changed
    /// value.) `unsure` is set when the view met a `%` that is no sure
    /// escape, so the value is to be read the other way too.
    #[allow(clippy::too_many_arguments)]
    fn scan_pass(
        &self,
        stage: Stage,
        percent: Percent,
        current: &[u8],
        profiled: Option<Features>,
        out: &mut Vec<u8>,
        scratch: &mut LeafScratch,
        tally: &mut Tally<'_>,
        skipped: &mut bool,
        unsure: &mut bool,
    ) -> Result<Leaf, Reject> {
        let LeafScratch {
            scan: scan_buffers,
            norm,
            matches,
        } = scratch;
        let raw = match profiled {
            Some(features) => features,
            None => scan_buffers.profile(current),
        };
        // Text with no escape can only change in the view by folding
        // characters above ASCII or by a number with an exponent; a `\`
        // exists only in decoded text or in numbers (never), where
        // `profiled` is `None`.
        if current.len() >= u32::MAX as usize {
            // The view's map holds 32-bit offsets: fail closed.
            return Err(Reject::rule(
                &self.ids[self.masks[0].index],
                "a value of 4 GiB or more cannot be scanned",
            ));
        }
        let escaped =
            raw.has_percent || (profiled.is_none() && memchr::memchr(b'\\', current).is_some());
        if !escaped && self.plain_text_holds_nothing(current, raw) {
            return Ok(Leaf::Unchanged);
        }
        // (`has_high` counts DEL; decoded text may hold control characters,
        // `\u0001` in the JSON, which the view reads as a break.)
        let foldable = (raw.has_high
            && (has_foldable(current, self.has_regex)
                || self.numerals_count(current, raw.digits, tally)))
            || (profiled.is_none() && crate::bytes::has_control(current));
        let view = NormView::reading(
            current,
            escaped || foldable || (raw.has_exponent && may_hold_exponent(current)),
            percent,
            norm,
        );
        *unsure = view.met_unsure_percent();
        let features = if view.is_normalized() {
            scan_buffers.profile(view.bytes())
        } else {
            raw
        };
        // A number's reading is all one number (its view is itself).
        let lost = if tally.lost_digits {
            WHOLE_TEXT
        } else {
            view.lost_digits()
        };
        let mut scan = Scan::new(view.bytes(), features, tally.keys, lost, scan_buffers);
        if self.find_all(stage, &mut scan, matches, tally, skipped) {
            return Ok(Leaf::Drop);
        }
        if matches.kept.is_empty() {
            return Ok(Leaf::Unchanged);
        }
        out.clear();
        self.rewrite(current, &view, &matches.kept, out)?;
        Ok(Leaf::Changed)
    }

    /// Runs every rule that applies over `scan`, keeping the matches that do
    /// not overlap an earlier rule's in `matches.kept`, and merging those
    /// that do into the earlier rule's. Returns whether a drop rule matched.
    fn find_all(
        &self,
        stage: Stage,
        scan: &mut Scan<'_>,
        matches: &mut Matches,
        tally: &mut Tally<'_>,
        skipped: &mut bool,
    ) -> bool {
        matches.kept.clear();
        for (i, rule) in self.masks.iter().enumerate() {
            let applies = rule.everywhere
                || match stage {
                    Stage::Mask => rule.applies_at(tally.path),
                    Stage::Residual => !rule.excluded_at(tally.path),
                };
            if !applies {
                *skipped = true;
                continue;
            }
            if !rule.detector.may_match(scan) {
                continue;
            }
            matches.found.clear();
            rule.detector.find(scan, &mut matches.found);
            // Overlapping an earlier rule's match, a match is masked with it
            // by the earlier rule, so no part of it is left readable
            // (`010-4483 1522 9999999`, a landline glued to digits that read
            // as a mobile).
            let hits = matches.keep_found(i);
            if hits == 0 {
                continue;
            }
            let drop = matches!(rule.action, Action::Drop);
            let hits = if drop { 1 } else { hits };
            let (stage_name, slot) = match stage {
                Stage::Mask => ("mask", &mut tally.counts[rule.index]),
                Stage::Residual => ("residual", &mut tally.residual[rule.index]),
            };
            *slot += hits;
            tally.note(stage_name, rule.index, hits);
            if drop {
                return true;
            }
        }
        false
    }

    /// Writes `current` to `out` with each accepted match (sorted, not
    /// overlapping) replaced by what its rule's action makes of it. `current`
    /// is UTF-8, and so is what this writes: matches are cut only at
    /// character boundaries, and every replacement is UTF-8.
    fn rewrite(
        &self,
        current: &[u8],
        view: &NormView<'_>,
        accepted: &[(Range<usize>, usize)],
        out: &mut Vec<u8>,
    ) -> Result<(), Reject> {
        // What `str::is_char_boundary` checks: not a UTF-8 continuation byte.
        let boundary =
            |at: usize| at == current.len() || current.get(at).is_some_and(|&b| (b as i8) >= -0x40);
        out.reserve(current.len() + 16);
        let mut last = 0;
        for (m, rule) in accepted {
            let rule = &self.masks[*rule];
            let orig = view.to_original(m);
            if orig.start < last || !boundary(orig.start) || !boundary(orig.end) {
                return Err(Reject::rule(
                    &self.ids[rule.index],
                    "a match did not line up with whole characters, so it could not be masked safely",
                ));
            }
            // A number in a JSON document written in the text becomes a
            // string there, so the document still parses.
            let quoted = number_quote(current, &orig);
            let (quote, start) =
                quoted.map_or((&b""[..], orig.start), |(q, s, _)| (q, s.max(last)));
            out.extend_from_slice(&current[last..start]);
            out.extend_from_slice(quote);
            // (A sign goes inside the quotes.)
            out.extend_from_slice(&current[start..orig.start]);
            let matched = &view.bytes()[m.clone()];
            match &rule.action {
                Action::Partial {
                    keep_first,
                    keep_last,
                    mask_char,
                } => partial_mask_into(
                    out,
                    matched,
                    rule.detector.keep_first_in(matched, *keep_first),
                    *keep_last,
                    *mask_char,
                ),
                Action::Full { replacement } => out.extend_from_slice(replacement.as_bytes()),
                Action::Hash { key } => out.extend_from_slice(
                    keyed_hash(&key.0, &rule.detector.normalize(matched)).as_bytes(),
                ),
                Action::Drop => unreachable!("a drop ends the pass before rewriting"),
            }
            out.extend_from_slice(quote);
            last = quoted.map_or(orig.end, |(.., end)| end);
        }
        out.extend_from_slice(&current[last..]);
        Ok(())
    }
}

/// Keyed HMAC-SHA256 of `value`, marked so a reader knows it is a hash:
/// `hmac:` and the first 128 bits in hex.
pub(crate) fn keyed_hash(key: &hmac::Hmac<sha2::Sha256>, value: &[u8]) -> String {
    let mut mac = key.clone();
    mac.update(value);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(5 + 32);
    out.push_str("hmac:");
    for b in &digest[..16] {
        out.push(char::from_digit(u32::from(b >> 4), 16).expect("nibble"));
        out.push(char::from_digit(u32::from(b & 15), 16).expect("nibble"));
    }
    out
}

impl MaskRule {
    fn applies_at(&self, path: &PathTrack) -> bool {
        (self.fields.is_empty() || self.fields.iter().any(|f| f.covers(path.keys())))
            && !self.excluded_at(path)
    }

    fn excluded_at(&self, path: &PathTrack) -> bool {
        self.exclude.iter().any(|f| f.covers(path.keys()))
    }
}
