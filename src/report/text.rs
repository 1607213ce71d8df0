//! The one sanitiser at the edge of every human format (table, Markdown, HTML, CSV, JUnit,
//! OpenMetrics labels, the diff and the messages about a report): text that came from the
//! network or from a report file never reaches a terminal, a ticket or a spreadsheet with a
//! control character in it. Each such character is shown escaped, never dropped, so a banner
//! that tried to clear the screen reads as `\x1b[2J` and the reader sees that it tried.
//!
//! Escaped: every C0 control (TAB, LF and CR included: every field is one line), DEL, every
//! C1 control (U+0080–U+009F), and the invisible format characters that can make text read as
//! something else: the bidirectional marks, embeddings, overrides and isolates (U+061C,
//! U+200E–U+200F, U+202A–U+202E, U+2066–U+2069), zero-width characters and joiners (U+200B–
//! U+200D, U+2060–U+2064, U+FEFF), the line and paragraph separators (U+2028, U+2029), the
//! deprecated format characters (U+206A–U+206F), the interlinear annotations (U+FFF9–U+FFFB)
//! and the tag characters (U+E0000–U+E007F), which hide ASCII in plain sight.
//!
//! Characters below U+0080 are written `\xNN`, the others `\u{NNNN}`, as Rust writes them. A
//! backslash itself is left alone (`db\MVE` stays readable), so a peer can spell `\x1b` in
//! plain text: it then reads the same as an escaped ESC, which is harmless, and no raw control
//! ever passes. JSON and JSON Lines are for programs: serde escapes every C0 control there, and
//! the text is kept as it was.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is shown escaped: a control character, or an invisible one that can disguise
/// text (see the module's list).
pub fn is_hostile(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// `text` with every hostile character shown escaped (`\x1b`, `\u{202e}`); borrowed when there
/// is none, which is nearly always.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hostile) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_hostile(c) {
            out.push(c);
        } else if u32::from(c) < 0x80 {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
    Cow::Owned(out)
}

/// `text` for a Markdown table cell or list item: `visible`, then every character that
/// Markdown or the HTML it allows would act on shown as itself. `<`, `>` and `&` become
/// entities, so `<script>` or `<img onerror=…>` is text; `\`, `|`, `` ` ``, `*`, `_`, `[`,
/// `]`, `~` and `#` are backslash-escaped, so a pipe cannot split a table cell, a backtick
/// cannot open code, and `[x](url)` or `![x](url)` cannot become a link or an image that
/// fetches.
pub fn markdown(text: &str) -> String {
    let text = visible(text);
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '~' | '#' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_as_it_is() {
        for text in [
            "",
            "192.0.2.7",
            r"db\MVE",
            "HTTPS answers — «ok» 日本",
            "a|b`c",
        ] {
            assert!(
                matches!(visible(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }

    #[test]
    fn every_control_character_is_shown_escaped_never_dropped() {
        let cases = [
            ("\x1b]0;owned\x07", r"\x1b]0;owned\x07"),
            ("\x1b[2J", r"\x1b[2J"),
            ("a\tb\nc\rd", r"a\x09b\x0ac\x0dd"),
            ("\0\x7f", r"\x00\x7f"),
            ("\u{85}\u{9b}31m", r"\u{85}\u{9b}31m"),
            ("\u{202e}fdp.exe", r"\u{202e}fdp.exe"),
            ("\u{2066}x\u{2069}", r"\u{2066}x\u{2069}"),
            ("a\u{200b}b\u{feff}", r"a\u{200b}b\u{feff}"),
            ("\u{2028}\u{061c}", r"\u{2028}\u{61c}"),
            ("\u{e0041}", r"\u{e0041}"),
        ];
        for (hostile, shown) in cases {
            let got = visible(hostile);
            assert_eq!(got, shown, "{hostile:?}");
            assert!(!got.chars().any(is_hostile), "{got:?}");
        }
    }

    #[test]
    fn every_c0_and_c1_control_is_hostile() {
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            assert!(is_hostile(c), "{c:?}");
            assert!(!visible(&c.to_string()).chars().any(char::is_control));
        }
    }
}
