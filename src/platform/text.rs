//! Text files as Windows editors save them. Notepad's "Unicode" is UTF-16 LE with a byte-order
//! mark, older tools write UTF-16 BE, and "UTF-8" from Notepad starts with a BOM; lines end in
//! CRLF. [`TextReader`] hands every one of them on as UTF-8 without its BOM, as a stream, so a
//! million-line target list is never held whole. CRLF needs nothing here: `str::lines` drops
//! the `\r`.
//!
//! Hand-written rather than `encoding_rs_io`: std's `char::decode_utf16` does the decoding,
//! and what is left (sniffing two BOMs, re-encoding as UTF-8) is a few lines, against a crate
//! whose legacy-encoding tables would add a megabyte to the binary for two encodings.
//! Broken UTF-16 (a lone surrogate, an odd trailing byte) becomes a byte that is not UTF-8, so
//! the caller's "not UTF-8 text, line N" check reports the line.

use std::io::{self, BufRead, Read};

/// The encoding a text file turned out to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf16Le => "UTF-16 LE",
            Encoding::Utf16Be => "UTF-16 BE",
        }
    }
}

/// Reads a text file as UTF-8, whatever of UTF-8 or BOM-marked UTF-16 it was saved in.
pub struct TextReader<R> {
    inner: R,
    encoding: Encoding,
    /// UTF-8 bytes decoded but not yet handed on (at most one character's worth).
    pending: [u8; 4],
    pending_len: usize,
    pending_at: usize,
    /// A unit read one too far (after a high surrogate that was not its pair).
    held: Option<u16>,
}

/// The marker a broken UTF-16 sequence becomes: never valid in UTF-8.
const NOT_UTF8: u8 = 0xff;

impl<R: BufRead> TextReader<R> {
    /// Sniffs the byte-order mark and skips it.
    pub fn new(mut inner: R) -> io::Result<TextReader<R>> {
        let head = inner.fill_buf()?;
        let (encoding, bom) = if head.starts_with(&[0xff, 0xfe]) {
            (Encoding::Utf16Le, 2)
        } else if head.starts_with(&[0xfe, 0xff]) {
            (Encoding::Utf16Be, 2)
        } else if head.starts_with(&[0xef, 0xbb, 0xbf]) {
            (Encoding::Utf8, 3)
        } else {
            (Encoding::Utf8, 0)
        };
        inner.consume(bom);
        Ok(TextReader {
            inner,
            encoding,
            pending: [0; 4],
            pending_len: 0,
            pending_at: 0,
            held: None,
        })
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The next UTF-16 code unit, `None` at the end; an odd last byte is `Err(())`.
    fn unit(&mut self) -> io::Result<Option<Result<u16, ()>>> {
        let mut pair = [0u8; 2];
        let mut got = 0;
        while got < 2 {
            let n = self.inner.read(&mut pair[got..])?;
            if n == 0 {
                return Ok(if got == 0 { None } else { Some(Err(())) });
            }
            got += n;
        }
        Ok(Some(Ok(match self.encoding {
            Encoding::Utf16Be => u16::from_be_bytes(pair),
            _ => u16::from_le_bytes(pair),
        })))
    }

    /// The unit held back by a broken pair, else the next one read.
    fn next_unit(&mut self) -> io::Result<Option<Result<u16, ()>>> {
        match self.held.take() {
            Some(unit) => Ok(Some(Ok(unit))),
            None => self.unit(),
        }
    }

    /// Decodes the next character into `pending`; false at the end of the file.
    fn decode_next(&mut self) -> io::Result<bool> {
        let first = match self.next_unit()? {
            None => return Ok(false),
            Some(Err(())) => None,
            Some(Ok(unit)) => Some(unit),
        };
        let decoded = match first {
            Some(high @ 0xd800..0xdc00) => match self.next_unit()? {
                Some(Ok(low @ 0xdc00..0xe000)) => char::decode_utf16([high, low]).next(),
                // Not its pair: the high surrogate is broken, the unit after it stands alone.
                Some(Ok(other)) => {
                    self.held = Some(other);
                    None
                }
                _ => None,
            },
            Some(unit) => char::decode_utf16([unit]).next(),
            None => None,
        };
        match decoded {
            Some(Ok(c)) => {
                let mut buf = [0u8; 4];
                let len = c.encode_utf8(&mut buf).len();
                self.set_pending(&buf[..len]);
            }
            _ => self.set_pending(&[NOT_UTF8]),
        }
        Ok(true)
    }

    fn set_pending(&mut self, bytes: &[u8]) {
        self.pending[..bytes.len()].copy_from_slice(bytes);
        self.pending_len = bytes.len();
        self.pending_at = 0;
    }
}

impl<R: BufRead> Read for TextReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.encoding == Encoding::Utf8 {
            return self.inner.read(out);
        }
        let mut written = 0;
        while written < out.len() {
            if self.pending_at == self.pending_len && !self.decode_next()? {
                break;
            }
            let take = (self.pending_len - self.pending_at).min(out.len() - written);
            out[written..written + take]
                .copy_from_slice(&self.pending[self.pending_at..self.pending_at + take]);
            self.pending_at += take;
            written += take;
        }
        Ok(written)
    }
}

/// Reads a whole (small) text file, such as a profile, as UTF-8 without its BOM.
pub fn read_to_string(bytes: &[u8]) -> Result<(String, Encoding), Encoding> {
    let mut reader = TextReader::new(bytes).map_err(|_| Encoding::Utf8)?;
    let encoding = reader.encoding();
    let mut decoded = Vec::with_capacity(bytes.len());
    reader.read_to_end(&mut decoded).map_err(|_| encoding)?;
    String::from_utf8(decoded)
        .map(|text| (text, encoding))
        .map_err(|_| encoding)
}

/// A value as an error quotes it: whole when short, else its first 80 characters and its
/// length, so a 2 MB line in a list does not fill the terminal.
pub fn shown(value: &str) -> String {
    const SHOWN: usize = 80;
    if value.chars().count() <= SHOWN {
        return value.to_string();
    }
    let start: String = value.chars().take(SHOWN).collect();
    format!("{start}… ({} bytes)", value.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str) -> Vec<u8> {
        let mut bytes = vec![0xff, 0xfe];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    }

    fn utf16be(text: &str) -> Vec<u8> {
        let mut bytes = vec![0xfe, 0xff];
        bytes.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        bytes
    }

    fn lines(bytes: &[u8]) -> Vec<String> {
        let reader = TextReader::new(bytes).unwrap();
        io::BufReader::new(reader)
            .lines()
            .map(|l| l.unwrap())
            .collect()
    }

    #[test]
    fn notepad_files_read_as_utf8_lines() {
        let text = "# fleet\r\n127.0.0.1\r\nprinter-ü.lab # 𝄞 comment\r\n";
        let want = ["# fleet", "127.0.0.1", "printer-ü.lab # 𝄞 comment"];
        assert_eq!(lines(&utf16le(text)), want, "UTF-16 LE with BOM, CRLF");
        assert_eq!(lines(&utf16be(text)), want, "UTF-16 BE with BOM");
        let mut bom8 = vec![0xef, 0xbb, 0xbf];
        bom8.extend(text.as_bytes());
        assert_eq!(lines(&bom8), want, "UTF-8 with BOM");
        assert_eq!(lines(text.as_bytes()), want, "plain UTF-8");
    }

    #[test]
    fn the_encoding_is_named() {
        let cases: [(Vec<u8>, Encoding); 3] = [
            (utf16le("a"), Encoding::Utf16Le),
            (utf16be("a"), Encoding::Utf16Be),
            (b"a".to_vec(), Encoding::Utf8),
        ];
        for (bytes, want) in cases {
            assert_eq!(TextReader::new(&bytes[..]).unwrap().encoding(), want);
        }
    }

    #[test]
    fn broken_utf16_fails_as_not_utf8_on_its_line() {
        // A lone low surrogate on line 2, an unpaired high one on line 3, an odd last byte.
        let mut bytes = utf16le("ok\n");
        bytes.extend([0x00, 0xdc, b'\n', 0]);
        bytes.extend([0x00, 0xd8, b'x', 0, b'\n', 0]);
        bytes.push(b'z');
        let mut reader = io::BufReader::new(TextReader::new(&bytes[..]).unwrap());
        let mut line = Vec::new();
        reader.read_until(b'\n', &mut line).unwrap();
        assert_eq!(line, b"ok\n");
        for want in [
            &[NOT_UTF8, b'\n'][..],
            &[NOT_UTF8, b'x', b'\n'],
            &[NOT_UTF8],
        ] {
            line.clear();
            reader.read_until(b'\n', &mut line).unwrap();
            assert_eq!(line, want);
            assert!(std::str::from_utf8(&line).is_err());
        }
        assert_eq!(read_to_string(&bytes), Err(Encoding::Utf16Le));
    }

    #[test]
    fn whole_files_decode_with_their_encoding() {
        assert_eq!(
            read_to_string(&utf16le("a = 1\r\n")),
            Ok(("a = 1\r\n".to_string(), Encoding::Utf16Le))
        );
        assert_eq!(
            read_to_string(b"\xff\xfe"),
            Ok((String::new(), Encoding::Utf16Le))
        );
        assert_eq!(read_to_string(b"caf\xe9"), Err(Encoding::Utf8));
    }

    /// Hostile input: any bytes after a UTF-16 BOM decode without a panic, and the output is
    /// never more than twice the input (3 UTF-8 bytes per 2-byte unit at most, less the BOM).
    #[test]
    fn any_bytes_decode_within_bounds() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..200 {
            let mut bytes = vec![0xff, 0xfe];
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                bytes.push(seed as u8);
            }
            let mut out = Vec::new();
            TextReader::new(&bytes[..])
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
            assert!(out.len() <= bytes.len() * 2, "{len}");
        }
    }
}
