//! `bank_card`: payment card numbers, 15-19 digits that pass the Luhn
//! check and begin the way card issuers' numbers begin, unbroken or in
//! groups of up to six digits (`6222 0212 3456 7890 128`), or with a long
//! last group as some cards are printed (`622202 1234567890128`).

use std::ops::Range;

use super::bounded;
use super::groups::{joined, joined_to_next, keep, lengths, walk};
use super::registry::Builtin;
use super::scan::{run_lengths, Scan};

pub(super) const DETECTOR: Builtin = Builtin {
    name: "bank_card",
    summary: "Card numbers of 15-19 digits that pass the Luhn check and start like an issuer's, unbroken or in groups",
    keep: (6, 4),
    min_digits: 15,
    in_numbers: true,
    reads_key: false,
    may_match,
    find,
    canonical: |m| super::registry::digits_only(m),
    keep_first_in: super::registry::keep_as_written,
    finds: &[
        "card «4111111111111111».",
        "卡号«4111 1111 1111 1111»",
        "«4111-1111-1111-1111»",
        "«4111 1111-1111 1111»",
        "«3782 822463 10005»",
        "«6222021234567890128»",
        "卡 «4111 1111 1111 1111» 12 次",
        "«6210-0132-3269-1821-6»",
        "«2221000000000009»",
        "«622202123456789012»",
        "银行卡号：«9558801202106562334»",
        "«9559 9483 3788 7623 285»",
        "银联«8171999927660000»",
        "«8100 1234 5678 9012 347»",
        "Mir «2200123456789019»",
        "Troy «9792031234567897»",
        "«622202 1234567890128»",
        "«6222 0212 3456 7890128»",
        "«6222 021234567890128»",
        "«62220212 34567890128»",
    ],
    keeps: &[
        "trace=4111111111111112",
        "41111111111111110000",
        "2024-11-24 10:00",
        "0000000000000000",
        "9111111111111113",
        "650102199806181391",
        "2026112008153016",
        "3227476722931734115",
        // Luhn-valid, but no issuer's: 8172 and 2205 are beyond the ranges.
        "8172123456789010",
        "2205123456789014",
        "2204123456789012343",
        // Groups that are no card's way of printing one: three and a long
        // one, a five first, a long group first.
        "622 2021234567890128",
        "62220 21234567890128",
        "6222021234567 890128",
        "41234567 41234569",
    ],
};

const CARD_RUNS: u32 = run_lengths(&[15, 16, 17, 18, 19]);

fn may_match(scan: &mut Scan<'_>) -> bool {
    if scan.features.digits < 15 {
        return false;
    }
    let p = scan.prefilter();
    p.has_run(CARD_RUNS) || p.grouped16
}

/// The Luhn (mod 10) check over ASCII digits.
pub fn luhn_valid(digits: &[u8]) -> bool {
    // Every second digit from the right is doubled, its digits summed.
    const DOUBLED: [u32; 10] = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
    // Two digits a step, from the right: the right one as it is, the left
    // one doubled. An odd count leaves the first digit, not doubled.
    let mut pairs = digits.rchunks_exact(2);
    let mut sum = 0u32;
    for pair in &mut pairs {
        sum += DOUBLED[usize::from(pair[0] - b'0')] + u32::from(pair[1] - b'0');
    }
    if let [first] = pairs.remainder() {
        sum += u32::from(first - b'0');
    }
    sum % 10 == 0
}

/// Whether card-length digits are shaped like a card an issuer would hand
/// out, by length and leading digits (ISO/IEC 7812 issuer prefixes). This
/// keeps Luhn's one-in-ten false positives off most order numbers and ids;
/// where a number is a plausible card, it is masked (fail closed).
fn plausible_card(digits: &[u8]) -> bool {
    let starts = |p: &[u8]| digits.starts_with(p);
    let prefix4 = || {
        digits[..4]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    // Of the numbers starting with 3, only JCB (35) and Diners Club and
    // Discover (30, 36, 38, 39) issue 16 and 19 digits; 31-34 and 37 are
    // no issuer's, and hold many a snowflake id.
    let issuer_3 = || digits[0] != b'3' || matches!(digits[1], b'0' | b'5' | b'6' | b'8' | b'9');
    // UnionPay's 81 range (8100-8171, issued since 2020), 16 to 19
    // digits; Mir (2200-2204) is taken at 16 only: 19-digit snowflake ids
    // pass through 2200-2204 in mid-2027.
    let union_pay_81 = || (8100..=8171).contains(&prefix4());
    match digits.len() {
        // American Express
        15 => starts(b"34") || starts(b"37"),
        // Visa, Mastercard (also its 2221-2720 range), UnionPay, JCB,
        // Discover, Troy (9792). Date-prefixed numbers like 2026... are
        // not cards.
        16 => {
            ((b'3'..=b'6').contains(&digits[0]) && issuer_3())
                || (2221..=2720).contains(&prefix4())
                || union_pay_81()
                || (2200..=2204).contains(&prefix4())
                || starts(b"9792")
        }
        // UnionPay
        17 | 18 => starts(b"62") || union_pay_81(),
        // Visa, Maestro, UnionPay, JCB; and Chinese banks' own debit
        // cards of before UnionPay, still in use as salary, social
        // security and subsidy cards: 94 and 95 (ICBC 955880, ABC 95599,
        // the postal bank 955100, 940066).
        19 => {
            ((b'3'..=b'6').contains(&digits[0]) && issuer_3())
                || starts(b"94")
                || starts(b"95")
                || union_pay_81()
        }
        _ => false,
    }
}

fn is_card(digits: &[u8]) -> bool {
    (15..=19).contains(&digits.len()) && plausible_card(digits) && luhn_valid(digits)
}

/// An unbroken run, or the longest chain of groups of up to six digits
/// starting at a run that is a card: a chain that also holds other numbers
/// (`6222 0212 3456 7890 12`) still yields the card.
fn find(scan: &mut Scan<'_>, out: &mut Vec<Range<usize>>) {
    let (hay, runs) = scan.hay_and_runs();
    let mut i = 0;
    while i < runs.len() {
        let run = runs[i].clone();
        if run.len() > 6 {
            if bounded(hay, &run) && is_card(&hay[run.clone()]) {
                out.push(run);
            } else if let Some(card) = long_last_group(hay, runs, i) {
                if out.last().is_none_or(|m| m.end <= card.start) {
                    out.push(card);
                }
            }
            i += 1;
            continue;
        }
        if !joined_to_next(hay, runs, i) {
            i += 1;
            continue;
        }
        let mut best = None;
        // Groups of up to six digits: a long run ends the chain.
        walk::<()>(hay, runs, i, lengths(15, 19), 6, |step| {
            if step.groups.len() > 1 && bounded(hay, &step.whole) {
                let (whole, last) = (step.whole.clone(), step.last);
                if is_card(step.digits()) {
                    best = Some((whole, last));
                }
            }
            None
        });
        i = keep(out, best, i);
    }
}

/// A card of 19 digits whose last group is longer than six, as some cards
/// are printed and typed, in exactly these layouts: six and thirteen
/// (UnionPay's 19-digit cards, `622202 1234567890128`), eight and eleven,
/// four and fifteen, two fours and eleven, three fours and seven
/// (`6222 0212 3456 7890128`). `i` is the long group's run; the groups
/// before it are read back. (Two numbers side by side, `41234567
/// 41234569`, are in no such layout.)
fn long_last_group(hay: &[u8], runs: &[Range<usize>], i: usize) -> Option<Range<usize>> {
    const LAYOUTS: [&[usize]; 5] = [&[6, 13], &[8, 11], &[4, 15], &[4, 4, 11], &[4, 4, 4, 7]];
    let layout = LAYOUTS.iter().find(|l| {
        let n = l.len();
        i + 1 >= n
            && (i + 1 - n..i).all(|k| joined(hay, &runs[k], &runs[k + 1]))
            && runs[i + 1 - n..=i]
                .iter()
                .zip(l.iter())
                .all(|(r, &len)| r.len() == len)
    })?;
    let first = i + 1 - layout.len();
    let mut digits = [0u8; 19];
    let mut at = 0;
    for r in &runs[first..=i] {
        digits[at..at + r.len()].copy_from_slice(&hay[r.clone()]);
        at += r.len();
    }
    let whole = runs[first].start..runs[i].end;
    (bounded(hay, &whole) && is_card(&digits)).then_some(whole)
}

#[cfg(test)]
mod tests {
    use super::super::xorshift;
    use super::*;

    #[test]
    fn luhn_edge_cases() {
        assert!(luhn_valid(b"4111111111111111"));
        assert!(luhn_valid(b"6222021234567890128"));
        assert!(!luhn_valid(b"4111111111111112"));
        assert!(luhn_valid(b"378282246310005")); // 15-digit Amex test number
        assert!(luhn_valid(b"0000000000000000"));
        // An 18-digit order number that passes Luhn is no card unless a
        // card issuer could have printed it.
        assert!(luhn_valid(b"650102199806181391"));
        assert!(luhn_valid(b"2026112008153016"));
    }

    /// The two-digits-a-step Luhn check agrees with the textbook one, digit
    /// by digit, for every length up to 25 (odd counts included).
    #[test]
    fn luhn_agrees_with_the_digit_by_digit_check() {
        fn textbook(digits: &[u8]) -> bool {
            let mut sum = 0;
            for (i, d) in digits.iter().rev().enumerate() {
                let mut v = u32::from(d - b'0');
                if i % 2 == 1 {
                    v *= 2;
                    if v > 9 {
                        v -= 9;
                    }
                }
                sum += v;
            }
            sum % 10 == 0
        }
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut valid = 0;
        for _ in 0..50_000 {
            let len = (next() % 26) as usize;
            let digits: Vec<u8> = (0..len).map(|_| b'0' + (next() % 10) as u8).collect();
            assert_eq!(luhn_valid(&digits), textbook(&digits), "{digits:?}");
            valid += usize::from(textbook(&digits));
        }
        // About one in ten passes: both answers were exercised.
        assert!((3_000..7_000).contains(&valid), "{valid}");
    }
}
