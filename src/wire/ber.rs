//! The few BER/DER encoding rules the SNMP and Kerberos requests need.

/// Universal tags.
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const SEQUENCE: u8 = 0x30;
pub const GENERALIZED_TIME: u8 = 0x18;
pub const GENERAL_STRING: u8 = 0x1b;

/// A context-specific constructed tag `[n]`.
pub const fn context(n: u8) -> u8 {
    0xa0 | n
}

/// An application constructed tag `[APPLICATION n]` (n < 31).
pub const fn application(n: u8) -> u8 {
    0x60 | n
}

/// Tag, definite length, content.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_length(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// A non-negative INTEGER in the fewest bytes, with a leading zero when the top bit is set.
pub fn uint(value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    let mut content = Vec::with_capacity(9);
    if bytes[skip] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(&bytes[skip..]);
    tlv(INTEGER, &content)
}

/// Concatenates already-encoded elements.
pub fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_minimal_and_positive() {
        let rows: &[(u64, &[u8])] = &[
            (0, &[2, 1, 0]),
            (5, &[2, 1, 5]),
            (127, &[2, 1, 0x7f]),
            (128, &[2, 2, 0, 0x80]),
            (65507, &[2, 3, 0, 0xff, 0xe3]),
            (0xdead_beef, &[2, 5, 0, 0xde, 0xad, 0xbe, 0xef]),
        ];
        for (value, want) in rows {
            assert_eq!(uint(*value), *want, "{value}");
        }
    }

    #[test]
    fn long_lengths_use_the_long_form() {
        assert_eq!(&tlv(OCTET_STRING, &[0; 127])[..2], &[4, 127]);
        assert_eq!(&tlv(OCTET_STRING, &[0; 128])[..3], &[4, 0x81, 128]);
        assert_eq!(&tlv(OCTET_STRING, &[0; 300])[..4], &[4, 0x82, 1, 44]);
    }
}
