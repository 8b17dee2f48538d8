//! What rule authors see when a rule file is wrong: file:line:column, the
//! rule id, a plain sentence; every problem at once.

use logredact_rules::{KeyRing, RuleSet, SourceFile};

fn sources(files: &[(&str, &str)]) -> Vec<SourceFile> {
    files
        .iter()
        .map(|(n, t)| SourceFile {
            name: (*n).into(),
            text: (*t).into(),
        })
        .collect()
}

fn errors(files: &[(&str, &str)]) -> Vec<String> {
    match RuleSet::compile(&sources(files), &KeyRing::new()) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn unknown_key_suggests_the_right_one() {
    let got = errors(&[(
        "rules/10.toml",
        "version = 1\n[[mask]]\nid = \"m\"\ndetecter = \"cn_id\"\naction = \"full\"\n",
    )]);
    assert_eq!(
        got[0],
        "rules/10.toml:4:1: rule \"m\": unknown key \"detecter\" in a mask rule; did you mean \"detector\"?"
    );
    assert_eq!(
        got.len(),
        1,
        "a typo is one problem, not also a missing key: {got:?}"
    );
}

#[test]
fn bad_regex_shows_the_regex_error() {
    let got = errors(&[(
        "r.toml",
        "version = 1\n[[mask]]\nid = \"emp\"\ndetector = \"regex\"\npattern = 'EMP-[0-9'\naction = \"full\"\n",
    )]);
    assert_eq!(got.len(), 1);
    // At the character the problem is at, in one sentence: the regex
    // library's own text drew the pattern again with a second caret.
    assert!(
        got[0].starts_with(
            "r.toml:5:16: rule \"emp\": the pattern is not a valid regular expression: unclosed character class"
        ),
        "{}",
        got[0]
    );
    assert!(!got[0].contains("regex parse error"), "{}", got[0]);
}

#[test]
fn unknown_detector_lists_the_valid_ones() {
    let got = errors(&[(
        "r.toml",
        "version = 1\n[[mask]]\nid = \"p\"\ndetector = \"cn_phone\"\naction = \"full\"\n",
    )]);
    assert!(
        got[0].starts_with("r.toml:4:12: rule \"p\": unknown detector \"cn_phone\";"),
        "{}",
        got[0]
    );
    assert!(
        got[0].contains(
            "cn_id, cn_mobile, cn_landline, hk_mo_tw_mobile, bank_card, email, passport, uscc, regex"
        ),
        "{}",
        got[0]
    );
    // Capitals where the name has none get a did-you-mean too.
    let got = errors(&[(
        "r.toml",
        "version = 1\n[[mask]]\nid = \"p\"\ndetector = \"CN_Mobile\"\naction = \"Full\"\n",
    )]);
    assert!(got[0].contains("did you mean \"cn_mobile\"?"), "{got:?}");
    assert!(got[1].contains("did you mean \"full\"?"), "{got:?}");
}

#[test]
fn every_problem_in_every_file_is_reported_together() {
    let got = errors(&[
        ("a.toml", "version = 1\n[[mask]]\nid = \"a\"\ndetector = \"email\"\naction = \"blur\"\n[[mask]]\nid = \"b\"\ndetector = \"email\"\naction = \"full\"\nkeep_first = 2\n"),
        ("b.toml", "[[tag]]\nid = \"a\"\nwhen = { field = \"x\" }\nset = { y = 1 }\n"),
        ("c.toml", "version = 1\n[[route]\n"),
    ]);
    let joined = got.join("\n");
    assert!(
        joined.contains("a.toml:5:10: rule \"a\": unknown action \"blur\""),
        "{joined}"
    );
    assert!(
        joined.contains(
            "a.toml:10:14: rule \"b\": \"keep_first\" only applies to action = \"partial\""
        ),
        "{joined}"
    );
    assert!(
        joined.contains("b.toml:1:1: the file has no format version"),
        "{joined}"
    );
    assert!(
        joined.contains("b.toml:2:6: rule \"a\": the id \"a\" is already used at a.toml:3:6"),
        "{joined}"
    );
    assert!(
        joined.contains("b.toml:3:8: rule \"a\": a condition on a field needs exactly one test"),
        "{joined}"
    );
    assert!(
        joined.contains("c.toml:2:9: the header is not closed: a rule starts with [[mask]]"),
        "{joined}"
    );
    assert_eq!(got.len(), 6, "{joined}");
}

#[test]
fn wrong_version_and_wrong_types_are_plain_sentences() {
    let got = errors(&[(
        "v.toml",
        "version = 2\n[[mask]]\nid = \"Bad Id\"\ndetector = \"email\"\naction = \"partial\"\nkeep_first = \"two\"\nfields = [\"user..x\"]\n",
    )]);
    let joined = got.join("\n");
    assert!(joined.contains("v.toml:1:11: this file says version = 2, but this logredact reads rule format version 1"), "{joined}");
    assert!(
        joined.contains("an id may use only lower-case letters"),
        "{joined}"
    );
    assert!(
        joined.contains("\"keep_first\" must be a whole number, not text"),
        "{joined}"
    );
    assert!(joined.contains("has an empty part"), "{joined}");
}

#[test]
fn examples_are_checked_when_the_rules_load() {
    let got = errors(&[(
        "e.toml",
        "version = 1\n[[mask]]\nid = \"m\"\ndetector = \"email\"\naction = \"full\"\n[[mask.example]]\ninput = '{not json'\nexpect = { a = 1 }\n[[mask.example]]\ninput = '{}'\n",
    )]);
    let joined = got.join("\n");
    assert!(
        joined.contains("e.toml:7:9: rule \"m\": the example's input is not valid JSON"),
        "{joined}"
    );
    assert!(
        joined.contains("e.toml:9:1: rule \"m\": this example expects nothing"),
        "{joined}"
    );
}

#[test]
fn route_rules_must_send_events_somewhere() {
    let got = errors(&[("r.toml", "version = 1\n[[route]]\nid = \"r\"\n[[route]]\nid = \"s\"\noutputs = [\"hot\"]\ndrop = true\n")]);
    assert!(
        got[0].contains("this route rule sends events nowhere"),
        "{}",
        got[0]
    );
    assert!(
        got[1].contains("either names outputs or drops the event, not both"),
        "{}",
        got[1]
    );
}

#[test]
fn empty_lists_in_conditions_are_refused_where_they_are() {
    let got = errors(&[(
        "r.toml",
        "version = 1\n[[route]]\nid = \"a\"\nwhen = { field = \"x\", one_of = [] }\ndrop = true\n\
         [[route]]\nid = \"b\"\nwhen = { any = [] }\ndrop = true\n\
         [[route]]\nid = \"c\"\nwhen = { not = { all = [] } }\ndrop = true\n",
    )]);
    assert_eq!(got.len(), 3, "{got:#?}");
    assert!(
        got[0].starts_with(
            "r.toml:4:32: rule \"a\": `one_of` is empty, so this condition never holds"
        ),
        "{got:#?}"
    );
    assert!(
        got[1].starts_with(
            "r.toml:8:16: rule \"b\": `any` is empty, so this condition holds for no event"
        ),
        "{got:#?}"
    );
    assert!(
        got[2].starts_with(
            "r.toml:12:24: rule \"c\": `all` is empty, so this condition holds for every event"
        ),
        "{got:#?}"
    );
}

#[test]
fn tag_rules_may_not_write_personal_data() {
    let got = errors(&[(
        "t.toml",
        "version = 1\n[[mask]]\nid = \"m\"\ndetector = \"cn_mobile\"\naction = \"full\"\n[[tag]]\nid = \"t\"\nwhen = { field = \"a\", exists = true }\nset = { contact = \"call 13812345678\" }\nadd_tags = [\"ok\", \"zhang.wei@example.com\"]\n[[mask]]\nid = \"e\"\ndetector = \"email\"\naction = \"full\"\n",
    )]);
    // At the field or the tags that hold it (they were at the rule's
    // header, which did not say which value).
    assert_eq!(
        got,
        [
            "t.toml:9:9: rule \"t\": a value this rule writes looks like personal data (cn_mobile), and rules write it into events; rule files must not hold personal data",
            "t.toml:10:12: rule \"t\": a value this rule writes looks like personal data (email), and rules write it into events; rule files must not hold personal data",
        ]
    );
}

#[test]
fn the_fingerprint_names_the_rules_not_the_path_they_were_read_from() {
    let text = "version = 1\n[[mask]]\nid = \"m\"\ndetector = \"cn_mobile\"\naction = \"full\"\n";
    let fingerprint = |name: &str, text: &str| {
        let files = [SourceFile {
            name: name.to_owned(),
            text: text.to_owned(),
        }];
        RuleSet::compile(&files, &KeyRing::new())
            .unwrap()
            .fingerprint()
            .to_owned()
    };
    let relative = fingerprint("rules/10-mask.toml", text);
    assert_eq!(relative, fingerprint("./rules/10-mask.toml", text));
    assert_eq!(
        relative,
        fingerprint("/etc/logredact/rules/10-mask.toml", text)
    );
    // What the rules are does change it: their text, and their file names
    // (which order them).
    assert_ne!(
        relative,
        fingerprint("rules/10-mask.toml", &text.replace("full", "partial"))
    );
    assert_ne!(relative, fingerprint("rules/20-mask.toml", text));
}

#[test]
fn a_headline_gives_position_rule_and_kind_but_no_rule_text() {
    // Authors write PII-like digits into patterns; a refused reload must
    // not echo them into the daemon's log.
    let text = "version = 1\n[[mask]]\nid = \"m\"\ndetector = \"regex\"\npattern = '13812345678('\naction = \"full\"\n";
    let files = [SourceFile {
        name: "rules/10-mask.toml".to_owned(),
        text: text.to_owned(),
    }];
    let errors = RuleSet::compile(&files, &KeyRing::new()).unwrap_err();
    assert!(
        errors.to_string().contains("13812345678"),
        "the full text shows it: {errors}"
    );
    let headline = errors.0[0].headline();
    assert_eq!(
        headline,
        "rules/10-mask.toml:5:23: rule \"m\": the pattern is not a valid regular expression"
    );
}

fn compile(files: &[(&str, &str)]) -> RuleSet {
    RuleSet::compile(&sources(files), &KeyRing::new()).unwrap_or_else(|e| panic!("{e}"))
}

/// `"\b…\b"` in double quotes is valid TOML, where `\b` is a backspace: the
/// rule would mask nothing. Refused, with the fix.
#[test]
fn a_backspace_in_a_pattern_says_use_single_quotes() {
    let got = errors(&[(
        "p.toml",
        "version = 1\n[[mask]]\nid = \"passport\"\ndetector = \"regex\"\npattern = \"\\b[EG][0-9]{8}\\b\"\naction = \"full\"\n",
    )]);
    assert_eq!(
        got,
        ["p.toml:5:11: rule \"passport\": the pattern holds a backspace character (U+0008): in double quotes TOML reads `\\b` as a backspace, not a word boundary, so the rule would mask nothing; write the pattern in single quotes: pattern = '\\b[EG][0-9]{8}\\b'"]
    );
}

/// Input-method punctuation, named and pointed at, through the compiler.
#[test]
fn a_full_width_comma_is_named_where_it_is() {
    let got = errors(&[(
        "r.toml",
        "version = 1\n[[route]]\nid = \"热库\"\noutputs = [\"hot\"，\"cold\"]\n",
    )]);
    assert_eq!(
        got,
        ["r.toml:4:17: full-width comma `，` (U+FF0C): rule files need the half-width ,; switch the input method to half-width (English) punctuation and type it again"]
    );
}

/// Legal rules that can never apply are reported as warnings, at the
/// rule's condition.
#[test]
fn rules_that_can_never_apply_are_warned_about() {
    let set = compile(&[
        (
            "10-mask.toml",
            "version = 1\n[[mask]]\nid = \"mask-mobile\"\ndetector = \"cn_mobile\"\naction = \"partial\"\n",
        ),
        (
            "20-tag.toml",
            "version = 1\n[[tag]]\nid = \"vip\"\nwhen = { field = \"user.phone\", equals = \"13812345678\" }\nadd_tags = [\"vip\"]\n",
        ),
        (
            "30-route.toml",
            "version = 1\n[[route]]\nid = \"to-hot\"\nwhen = { field = \"kind\", equals = \"web\" }\noutputs = [\"hot\"]\n[[route]]\nid = \"all\"\noutputs = [\"hot\", \"cold\"]\n",
        ),
        (
            "60-health.toml",
            "version = 1\n[[route]]\nid = \"web-again\"\nwhen = { field = \"kind\", equals = \"web\" }\noutputs = [\"cold\"]\n[[route]]\nid = \"drop-health\"\nwhen = { field = \"path\", equals = \"/health\" }\ndrop = true\n",
        ),
    ]);
    let got: Vec<String> = set.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "60-health.toml:4:8: rule \"web-again\": this route rule can never apply: route rule \"to-hot\" before it has the same `when` and takes those events first; move this rule before it (rules apply in the order of the file names, then in order within a file), or remove it",
            "60-health.toml:8:8: rule \"drop-health\": this route rule can never apply: route rule \"all\" before it has no `when`, so it takes every event first; move this rule before it (rules apply in the order of the file names, then in order within a file), or remove it",
            "20-tag.toml:4:8: rule \"vip\": the condition on user.phone can never be true as written: mask rule \"mask-mobile\" masks the value it compares with before tag and route rules see the event; compare with the masked form, or test the field with exists or matches",
        ]
    );
    // The warning's headline (for the daemon's log) does not echo the value.
    assert!(!set.warnings()[2].headline().contains("138"));
}

/// Examples of a rule that is off are not run (they would fail, saying
/// nothing about it); `logredact test` lists them as skipped.
#[test]
fn examples_of_a_disabled_rule_are_marked_off() {
    let set = compile(&[(
        "m.toml",
        "version = 1\n[[mask]]\nid = \"off\"\nenabled = false\ndetector = \"email\"\naction = \"full\"\n[[mask.example]]\ninput = '{\"e\":\"a@b.cn\"}'\nexpect = { e = \"[email]\" }\n",
    )]);
    assert_eq!(set.examples().len(), 1);
    assert!(!set.examples()[0].enabled);
}

/// An example that fails because another rule got to the field first
/// names that rule.
#[test]
fn a_failing_example_names_the_rule_that_changed_the_field() {
    let set = compile(&[
        (
            "10-first.toml",
            "version = 1\n[[mask]]\nid = \"mobile-full\"\ndetector = \"cn_mobile\"\naction = \"full\"\n",
        ),
        (
            "20-second.toml",
            "version = 1\n[[mask]]\nid = \"mobile-partial\"\ndetector = \"cn_mobile\"\naction = \"partial\"\n[[mask.example]]\ninput = '{\"user\":{\"phone\":\"13812345678\"}}'\nexpect = { \"user.phone\" = \"138****5678\" }\n",
        ),
    ]);
    let failures = set.check_example(&set.examples()[0]);
    assert_eq!(
        failures,
        ["expected user.phone = \"138****5678\", got \"[cn_mobile]\" (rule \"mobile-full\" changed it)"]
    );
}

/// No warning where the condition can still be true: a test under `not`
/// (never true there means always true), or `one_of` with a value the mask
/// rules leave alone.
#[test]
fn conditions_that_can_still_hold_are_not_warned_about() {
    let set = compile(&[
        (
            "10-mask.toml",
            "version = 1\n[[mask]]\nid = \"mask-mobile\"\ndetector = \"cn_mobile\"\naction = \"partial\"\n",
        ),
        (
            "20-tag.toml",
            "version = 1\n[[tag]]\nid = \"not-vip\"\nwhen = { not = { field = \"user.phone\", equals = \"13812345678\" } }\nadd_tags = [\"x\"]\n[[tag]]\nid = \"some\"\nwhen = { field = \"user.phone\", one_of = [\"13812345678\", \"unknown\"] }\nadd_tags = [\"y\"]\n",
        ),
    ]);
    assert!(set.warnings().is_empty(), "{:?}", set.warnings());
}

/// Conditions are evaluated on fields the rewriting pass tracks as the bits
/// of a 64-bit word: a 65th field is refused where it is written, rather
/// than compiled into a condition that never holds (a privileged action
/// left untagged).
#[test]
fn conditions_may_read_at_most_64_fields() {
    let rules = |n: usize| {
        let mut text = String::from("version = 1\n");
        for i in 0..n {
            text.push_str(&format!(
                "[[tag]]\nid = \"t{i}\"\nwhen = {{ field = \"f{i}\", equals = \"x\" }}\nadd_tags = [\"t{i}\"]\n"
            ));
        }
        text
    };
    let sixty_four = rules(64);
    RuleSet::compile(&sources(&[("rules/20.toml", &sixty_four)]), &KeyRing::new())
        .expect("64 fields are allowed");
    let text = rules(65);
    let got = errors(&[("rules/20.toml", &text)]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        got[0],
        "rules/20.toml:260:18: rule \"t64\": conditions may read at most 64 different fields in all the rule files together, and \"f64\" is one more; test fewer fields (`one_of` tests several values of one field)"
    );
}

/// A rule without an id is still checked whole: its other mistakes used
/// to be hidden until the id was added.
#[test]
fn a_rule_without_an_id_still_shows_its_other_mistakes() {
    let got = errors(&[(
        "m.toml",
        "version = 1\n[[mask]]\ndetector = \"cn_moblie\"\naction = \"ful\"\n[[tag]]\nwhen = { field = \"a\", equals = \"b\" }\nadd_tags = [1]\n",
    )]);
    assert_eq!(got.len(), 5, "{got:#?}");
    assert!(
        got[0].starts_with("m.toml:2:1: rule \"mask rule without an id\": this rule has no id"),
        "{got:#?}"
    );
    assert!(got[1].starts_with("m.toml:3:12: rule \"mask rule without an id\": unknown detector \"cn_moblie\"; did you mean \"cn_mobile\"?"), "{got:#?}");
    assert!(got[2].starts_with("m.toml:4:10: rule \"mask rule without an id\": unknown action \"ful\"; did you mean \"full\"?"), "{got:#?}");
    assert!(
        got[3].starts_with("m.toml:5:1: rule \"tag rule without an id\": this rule has no id"),
        "{got:#?}"
    );
    // (Not also "this tag rule does nothing": its add_tags is wrong.)
    assert!(
        got[4].starts_with(
            "m.toml:7:13: rule \"tag rule without an id\": \"add_tags\" must be a list of texts"
        ),
        "{got:#?}"
    );
}

/// The docs say a pattern that can match empty text is refused; `\b`
/// alone, or a pattern ending in one after a `*`, used to pass because
/// they do not match the empty string itself.
#[test]
fn patterns_that_can_match_nothing_anywhere_are_refused() {
    for pattern in [r"\b", r"[0-9]*\b", r"(EMP-[0-9]{6})?"] {
        let got = errors(&[(
            "p.toml",
            &format!("version = 1\n[[mask]]\nid = \"p\"\ndetector = \"regex\"\npattern = '{pattern}'\naction = \"full\"\n"),
        )]);
        assert_eq!(got.len(), 1, "{pattern}: {got:?}");
        assert!(
            got[0].contains("also matches empty text"),
            "{pattern}: {got:?}"
        );
    }
}

/// A mask character must be visible and not read as a digit: a control
/// byte was accepted, and a full-width digit reads as a digit.
#[test]
fn a_mask_char_must_be_visible_and_no_digit_of_any_width() {
    for c in ["\\u0000", "１", "a", "\\u200b", "\\u00ad", " ", "\\u3000"] {
        let got = errors(&[(
            "c.toml",
            &format!("version = 1\n[[mask]]\nid = \"c\"\ndetector = \"cn_mobile\"\naction = \"partial\"\nmask_char = \"{c}\"\n"),
        )]);
        assert_eq!(got.len(), 1, "{c}: {got:?}");
        assert!(
            got[0].contains("\"mask_char\" must be one visible character"),
            "{c}: {got:?}"
        );
    }
}

/// Replacements and ids are written into events (ids into every
/// redaction record) and were not checked for personal data as tag values
/// are: a replacement like a phone number made the residual scan fire on
/// every event.
#[test]
fn replacements_and_ids_holding_personal_data_are_refused() {
    let got = errors(&[(
        "r.toml",
        "version = 1\n[[mask]]\nid = \"m\"\ndetector = \"cn_mobile\"\naction = \"full\"\nreplacement = \"13800000000\"\n[[mask]]\nid = \"staff-13812345678\"\ndetector = \"email\"\naction = \"full\"\n",
    )]);
    assert_eq!(
        got,
        [
            "r.toml:6:15: rule \"m\": the replacement looks like personal data (cn_mobile), and rules write it into events; rule files must not hold personal data",
            "r.toml:8:6: rule \"staff-13812345678\": the id looks like personal data (cn_mobile), and rules write it into events; rule files must not hold personal data",
        ]
    );
}

/// A pattern that takes in its key (`token=\S+`) matches a replacement
/// that keeps the key: said as such, not as personal data.
#[test]
fn a_replacement_its_own_pattern_matches_is_said_plainly() {
    let got = errors(&[(
        "t.toml",
        "version = 1\n[[mask]]\nid = \"token\"\ndetector = \"regex\"\npattern = 'token=\\S+'\naction = \"full\"\nreplacement = \"token=***\"\n",
    )]);
    assert_eq!(
        got,
        ["t.toml:7:15: rule \"token\": the rule's own pattern matches its replacement, so the residual scan would find it in every event this rule masks; write a replacement the pattern does not match, like \"[token]\""]
    );
}

/// Tag rules that write a field twice or into each other: `check` passed
/// them, then events came out with a field twice (which Elasticsearch
/// refuses) or were held back, or the audit tag was overwritten.
#[test]
fn tag_rules_that_write_over_each_other_or_the_record_are_refused() {
    let tag = |id: &str, what: &str| {
        format!("[[tag]]\nid = \"{id}\"\nwhen = {{ field = \"action\", equals = \"x\" }}\n{what}\n")
    };
    let cases = [
        (
            tag("t", "set = { \"a\" = \"x\", \"a.b\" = \"z\" }"),
            "5:20: rule \"t\": this rule sets both \"a\" and \"a.b\", which is inside it; keep one of the two",
        ),
        (
            tag("t", "set = { \"a\" = \"x\" }") + &tag("u", "set = { \"a.b\" = \"z\" }"),
            "9:9: rule \"u\": \"a.b\" is inside \"a\", which tag rule \"t\" sets to a value that is not an object",
        ),
        (
            tag("t", "set = { \"redaction.masked\" = 0 }"),
            "5:9: rule \"t\": \"redaction.masked\" is written where the redaction record goes (record_field = \"redaction\" in [settings])",
        ),
        (
            tag("t", "add_tags = [\"audit\"]") + &tag("u", "set = { tags = \"y\" }"),
            "9:9: rule \"u\": \"tags\" holds the tags add_tags adds (rule \"t\" adds some)",
        ),
        (
            "[settings]\nrecord_field = \"tags\"\n".to_owned() + &tag("t", "add_tags = [\"audit\"]"),
            "7:12: rule \"t\": add_tags writes the field \"tags\", where the redaction record goes (record_field = \"tags\" in [settings])",
        ),
    ];
    for (rules, expected) in cases {
        let got = errors(&[("t.toml", &format!("version = 1\n{rules}"))]);
        assert_eq!(got.len(), 1, "{rules}: {got:#?}");
        assert!(
            got[0].starts_with(&format!("t.toml:{expected}")),
            "{rules}: {got:#?}"
        );
    }
    // A rule with nothing in its set or tags does nothing, and is told so.
    for what in ["set = {}", "add_tags = []"] {
        let got = errors(&[("t.toml", &format!("version = 1\n{}", tag("t", what)))]);
        assert_eq!(got.len(), 1, "{what}: {got:#?}");
        assert!(
            got[0].contains("this tag rule does nothing"),
            "{what}: {got:#?}"
        );
    }
    // An earlier rule that sets an object leaves room for a later one.
    compile(&[(
        "t.toml",
        &format!(
            "version = 1\n{}{}",
            tag("t", "set = { a = { c = 1 } }"),
            tag("u", "set = { \"a.b\" = \"z\" }")
        ),
    )]);
}

/// A partial mask that keeps more than its detector's usual mask leaves a
/// person identifiable (`keep_first = 6` on a mobile shows 10 of 11
/// digits); `check` said nothing. It is a warning, at the setting.
#[test]
fn a_partial_mask_that_keeps_more_than_usual_is_warned_about() {
    let set = compile(&[(
        "10-mask.toml",
        "version = 1\n[[mask]]\nid = \"m\"\ndetector = \"cn_mobile\"\naction = \"partial\"\nkeep_first = 6\n[[mask]]\nid = \"e\"\ndetector = \"email\"\naction = \"partial\"\nkeep_first = 1\n",
    )]);
    let got: Vec<String> = set.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        ["10-mask.toml:6:14: rule \"m\": this rule leaves 10 characters of each cn_mobile readable, more than its usual mask (the first 3 and the last 4); make sure what stays readable cannot identify a person"]
    );
}

/// A whole-output example that fails names the rules that changed the
/// event, not a route rule that only sent it somewhere.
#[test]
fn a_failing_output_example_does_not_blame_a_route_rule() {
    let set = compile(&[
        (
            "10-first.toml",
            "version = 1\n[[mask]]\nid = \"mobile-full\"\ndetector = \"cn_mobile\"\naction = \"full\"\n[[route]]\nid = \"all\"\noutputs = [\"hot\"]\n",
        ),
        (
            "20-second.toml",
            "version = 1\n[settings]\nrecord = false\n[[mask]]\nid = \"mobile-partial\"\ndetector = \"cn_mobile\"\naction = \"partial\"\n[[mask.example]]\ninput = '{\"p\":\"13812345678\"}'\noutput = '{\"p\":\"138****5678\"}'\n",
        ),
    ]);
    let failures = set.check_example(&set.examples()[0]);
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].starts_with(
            "the output differs (- expected, + actual) (rule \"mobile-full\" changed it):"
        ),
        "{failures:?}"
    );
}
