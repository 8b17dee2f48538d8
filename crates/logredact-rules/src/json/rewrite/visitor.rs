//! What the rewriting pass asks of whoever drives it (the rule engine),
//! and what it hears back.

use super::ParseError;
use crate::bytes::Classes;

/// What the visitor made of a key or value it looked at.
pub(crate) enum Leaf {
    Unchanged,
    /// The new text is in [`Visitor::leaf_text`].
    Changed,
    Drop,
}

/// Why the pass stopped: the text is not a JSON object, or the visitor
/// failed.
pub(crate) enum Stop<E> {
    Json(ParseError),
    NotObject,
    Visitor(E),
}

/// What the pass asks, at every key and value, of whoever drives it.
pub(crate) trait Visitor {
    type Error;
    /// What the visitor learns of a plain string from the classes of its
    /// bytes, gathered while the pass scans it (`Profiler` while scanning).
    type Profile: Copy;
    type Profiler;

    /// Whether values and keys are looked at at all; when not, the pass
    /// only validates and cuts.
    fn looks_at_values(&self) -> bool;
    /// A plain string value that ends within sixteen bytes, with the
    /// classes of its bytes: whether it could hold something. Asked before
    /// any profiling (most short values: levels, methods, host names).
    fn short_plain_may_hold(&self, text: &[u8], classes: Classes) -> bool;
    fn profiler(&mut self) -> Self::Profiler;
    fn profile(&mut self, profiler: &mut Self::Profiler, classes: Classes);
    fn profile_end(&mut self, profiler: Self::Profiler, len: usize) -> Self::Profile;
    /// A string value's raw text (between its quotes): whether it could
    /// hold something. `profile` when it holds no escape or control byte.
    fn string_may_hold(&self, raw: &[u8], escaped: bool, profile: Option<Self::Profile>) -> bool;
    /// A key's raw text (between its quotes), and the sixteen bytes from
    /// its start when the line has them: whether it could hold something.
    fn key_may_hold(&self, raw: &[u8], escaped: bool, chunk: Option<&[u8; 16]>) -> bool;
    /// A number's text, and the raw text of the key it is the value of (or
    /// of the list it is in): whether it could hold something.
    fn number_may_hold(&self, number: &[u8], key: &[u8]) -> bool;
    /// The top-level member the output never keeps (the visitor writes its
    /// own), if any.
    fn removed_member(&self) -> Option<&str>;
    /// Whether `leaf` reads the key of the value it looks at.
    fn reads_keys(&self) -> bool;
    /// Looks at a key's or value's decoded text; `keys` are the raw texts
    /// of the innermost key around it and of the key around that one
    /// (`passport` in `{"passport":{"no":…}}`) when `reads_keys`, else
    /// empty.
    fn leaf(
        &mut self,
        text: &[u8],
        profile: Option<Self::Profile>,
        keys: [&[u8]; 2],
    ) -> Result<Leaf, Self::Error>;
    /// Looks at the whole reading of a number (see `json::number`);
    /// `lost_digits` when a double held it and lost its last digits.
    fn number_leaf(
        &mut self,
        reading: &[u8],
        lost_digits: bool,
        keys: [&[u8]; 2],
    ) -> Result<Leaf, Self::Error>;
    /// The new text of the last leaf reported `Changed`.
    fn leaf_text(&self) -> &[u8];
    /// Whether `enter_key` needs the key's text.
    fn wants_keys(&self) -> bool;
    fn enter_key(&mut self, key: &str);
    fn enter_index(&mut self, index: usize);
    /// Leaving what the last `enter_*` entered.
    fn leave(&mut self, was_key: bool);
    /// The value just entered was written at output `start..end`.
    fn watch(&mut self, start: usize, end: usize);
    /// Output from `at` on was removed.
    fn unwatch_from(&mut self, at: usize);
}
