//! The command-line subcommands. Each takes parsed options and does IO;
//! the rule engine itself stays pure.

pub mod apply;
pub mod check;
pub mod daemon;
pub mod demo;
pub mod diff;
pub mod gen;
pub mod keys;
pub mod verify;

/// Reports a panic (a bug) where it happened, without the text it may
/// quote: the standard library's message for a bad cut of a text quotes
/// the text (``byte index 5 is not a char boundary; it is inside '…' of
/// `…` ``), and an `expect` on an error shows the error's fields, which in
/// the rule engine would be an event's, unmasked. Only the message up to
/// the first quote, brace or bracket is kept. Through `tracing` once it is
/// set up (the daemon's log), else to standard error. Installed for every
/// command: `apply` and `diff` catch panics in the rules too.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("");
        let message = without_quoted_text(message);
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        let thread = std::thread::current();
        let thread = thread.name().unwrap_or("-");
        // The calls that led here, when asked for as Rust programs ask
        // (`RUST_BACKTRACE=1`): function names and source lines, no data.
        let backtrace = if backtrace_wanted() {
            std::backtrace::Backtrace::force_capture().to_string()
        } else {
            "set RUST_BACKTRACE=1 to log the calls that led here".to_owned()
        };
        if tracing::dispatcher::has_been_set() {
            tracing::error!(
                location,
                thread,
                message,
                backtrace,
                "internal error (a bug; please report it with this line)"
            );
        } else {
            eprintln!(
                "internal error (a bug; please report it with this line): at {location}, thread {thread}: {message}\n{backtrace}"
            );
        }
    }));
}

/// `n` and the noun, in the plural unless `n` is one: `1 event`,
/// `2 events` (summaries are read by people).
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Whether `RUST_BACKTRACE` asks for backtraces of panics (the standard
/// library's own rule: set and not `0`).
fn backtrace_wanted() -> bool {
    std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0")
}

/// `message` up to the first text it quotes or the first fields it shows.
fn without_quoted_text(message: &str) -> &str {
    let end = message
        .find(['`', '\'', '"', '{', '['])
        .unwrap_or(message.len());
    message[..end].trim_end()
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_read_as_english() {
        assert_eq!(super::count(1u64, "event"), "1 event");
        assert_eq!(super::count(0u64, "event"), "0 events");
        assert_eq!(super::count(20_000u64, "seal"), "20000 seals");
    }

    use super::without_quoted_text;

    /// The standard library's messages for bad cuts of a text, and an
    /// `expect` on an error that holds bytes, which quote them: what is
    /// reported keeps the numbers, not the text.
    #[test]
    fn a_panic_message_loses_the_text_it_quotes() {
        let text = String::from("身份证11010519491231002X");
        let bytes = text.as_bytes()[..4].to_vec();
        for cut in [
            std::panic::catch_unwind(|| text[..1].len()),
            std::panic::catch_unwind(|| text[2..99].len()),
            std::panic::catch_unwind(|| String::from_utf8(bytes.clone()).expect("UTF-8").len()),
        ] {
            let payload = cut.unwrap_err();
            let message = payload.downcast_ref::<String>().unwrap();
            let kept = without_quoted_text(message);
            assert!(!kept.contains("1101") && !kept.contains('身'), "{kept}");
            assert!(!kept.contains("232"), "no bytes of the text: {kept}");
            assert!(!kept.is_empty(), "{message}");
        }
        assert_eq!(
            without_quoted_text("slice index starts at 14 but ends at 1"),
            "slice index starts at 14 but ends at 1"
        );
    }
}
