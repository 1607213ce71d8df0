//! Lexmark's own UDP protocols (NPAP, XMLNT, LST) have no public wire format. mve-audit never
//! guesses command bytes: it sends an empty datagram unless a profile supplies a payload
//! captured from a real MVE server, and only recognises what is safe to recognise.

/// Whether a reply body carries an XMLNT error document (`<exception …>`), the answer XMLNT
/// printers give to a request they cannot use: proof that XMLNT itself answered.
pub fn is_xmlnt_exception(reply: &[u8]) -> bool {
    const NEEDLE: &[u8] = b"<exception";
    reply
        .windows(NEEDLE.len())
        .any(|w| w.eq_ignore_ascii_case(NEEDLE))
}

/// Why a hex payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    #[error("'{text}' is not hex ('{bad}')")]
    NotHex { text: String, bad: char },
    #[error("'{0}' has an odd number of hex digits")]
    OddLength(String),
    #[error("a payload is at most {MAX_PAYLOAD} bytes (one datagram without fragmentation)")]
    TooLong,
}

/// The largest payload a profile may give: one datagram that needs no fragmentation.
pub const MAX_PAYLOAD: usize = 1400;

/// A payload written as hex in a profile (`"00 1a ff"`, `"001aff"`, `"0x00,0x1a"`).
pub fn parse_hex_payload(text: &str) -> Result<Vec<u8>, HexError> {
    let cleaned: String = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == ':')
        .map(|part| part.trim_start_matches("0x").trim_start_matches("0X"))
        .collect();
    if let Some(bad) = cleaned.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(HexError::NotHex {
            text: text.to_string(),
            bad,
        });
    }
    if !cleaned.len().is_multiple_of(2) {
        return Err(HexError::OddLength(text.to_string()));
    }
    if cleaned.len() > 2 * MAX_PAYLOAD {
        return Err(HexError::TooLong);
    }
    // Every character is an ASCII hex digit, so each pair is one byte.
    let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
    Ok(cleaned
        .as_bytes()
        .chunks_exact(2)
        .map(|pair| pair.iter().fold(0, |byte, &c| byte << 4 | digit(c)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_are_found_in_any_case() {
        assert!(is_xmlnt_exception(
            b"<?xml version=\"1.0\"?><Exception code=\"5\"/>"
        ));
        assert!(!is_xmlnt_exception(b"<ok/>"));
        assert!(!is_xmlnt_exception(b""));
    }

    #[test]
    fn hex_payloads_parse() {
        assert_eq!(parse_hex_payload("00 1a ff"), Ok(vec![0, 0x1a, 0xff]));
        assert_eq!(parse_hex_payload("0x00,0x1A"), Ok(vec![0, 0x1a]));
        assert_eq!(parse_hex_payload(""), Ok(vec![]));
        assert!(
            parse_hex_payload("abc")
                .unwrap_err()
                .to_string()
                .contains("odd")
        );
        assert!(
            parse_hex_payload("zz")
                .unwrap_err()
                .to_string()
                .contains("not hex")
        );
        assert!(parse_hex_payload("éé").is_err());
        assert!(
            parse_hex_payload("aéb").is_err(),
            "a multi-byte character never splits"
        );
    }
}
