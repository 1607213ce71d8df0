//! Line protocols: FTP and SMTP replies (RFC 959 / RFC 5321 multi-line form), read here (the
//! mail and FTP crates are clients that own the connection; a reply's grammar is a dozen
//! lines), and the HTTP status line with its headers, read with `httparse`.

/// A complete reply: its code and its lines' texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// Whether the reply's text names `word` (ASCII, any case): FTP and SMTP both greet with
    /// 220, and their banners usually say which they are ("ESMTP Postfix", "vsFTPd 3.0.3").
    pub fn names(&self, word: &str) -> bool {
        let word = word.to_ascii_lowercase();
        self.lines
            .iter()
            .any(|line| line.to_ascii_lowercase().contains(&word))
    }
}

/// At most this many lines are kept from one reply.
const MAX_LINES: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("not a three-digit reply line")]
    NotAReply,
    #[error("the reply is not complete yet")]
    Incomplete,
    #[error("continuation lines carry different codes")]
    MixedCodes,
    #[error("not an HTTP status line")]
    NotHttp,
}

/// Parses one FTP/SMTP reply from the start of `bytes`; `Incomplete` until its last line
/// (`NNN text`) has arrived. Returns the reply and how many bytes it took.
pub fn parse_reply(bytes: &[u8]) -> Result<(Reply, usize), TextError> {
    let mut code = None;
    let mut lines = Vec::new();
    let mut used = 0;
    for raw in bytes.split_inclusive(|&b| b == b'\n') {
        if !raw.ends_with(b"\n") {
            break;
        }
        used += raw.len();
        let line = trim_eol(raw);
        let (this, sep, text) = split_code(line)?;
        match code {
            None => code = Some(this),
            Some(c) if c != this => return Err(TextError::MixedCodes),
            Some(_) => {}
        }
        if lines.len() < MAX_LINES {
            lines.push(String::from_utf8_lossy(text).into_owned());
        }
        if sep == b' ' || sep == 0 {
            return Ok((Reply { code: this, lines }, used));
        }
    }
    // A first line that is not a reply at all is an error even before it ends.
    if code.is_none() && bytes.len() >= 4 {
        split_code(trim_eol(
            bytes.split(|&b| b == b'\n').next().unwrap_or_default(),
        ))?;
    }
    Err(TextError::Incomplete)
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `NNN-text`, `NNN text` or a bare `NNN`.
fn split_code(line: &[u8]) -> Result<(u16, u8, &[u8]), TextError> {
    let digits = line.get(..3).ok_or(TextError::NotAReply)?;
    if !digits.iter().all(u8::is_ascii_digit)
        || !digits.first().is_some_and(|d| (b'1'..=b'5').contains(d))
    {
        return Err(TextError::NotAReply);
    }
    let code = digits
        .iter()
        .fold(0u16, |acc, &d| acc * 10 + u16::from(d - b'0'));
    match line.get(3) {
        None => Ok((code, 0, &[])),
        Some(&sep @ (b' ' | b'-')) => Ok((code, sep, line.get(4..).unwrap_or_default())),
        Some(_) => Err(TextError::NotAReply),
    }
}

/// SMTP EHLO keywords (the first word of each line after the greeting line).
pub fn ehlo_extensions(reply: &Reply) -> Vec<String> {
    reply
        .lines
        .iter()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .map(|w| w.to_ascii_uppercase())
        .collect()
}

/// The head of an HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpHead {
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub server: Option<String>,
    pub location: Option<String>,
}

/// At most this many headers are read from a response head.
const MAX_HEADERS: usize = 100;
/// The longest header value kept.
const MAX_VALUE: usize = 200;

/// Parses the status line and headers once the head has arrived (`Incomplete` before), with
/// `httparse` set to tolerate what embedded web servers send (spaces after a header name,
/// folded lines, malformed headers are skipped).
pub fn parse_http_head(bytes: &[u8]) -> Result<HttpHead, TextError> {
    if !bytes.starts_with(b"HTTP/") && bytes.len() >= 5 {
        return Err(TextError::NotHttp);
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let mut config = httparse::ParserConfig::default();
    config
        .allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .ignore_invalid_headers_in_responses(true);
    match config.parse_response(&mut response, bytes) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(TextError::Incomplete),
        Err(_) => return Err(TextError::NotHttp),
    }
    let (Some(version), Some(status)) = (response.version, response.code) else {
        return Err(TextError::NotHttp);
    };
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| {
                String::from_utf8_lossy(h.value)
                    .trim()
                    .chars()
                    .take(MAX_VALUE)
                    .collect::<String>()
            })
    };
    Ok(HttpHead {
        version: format!("HTTP/1.{version}"),
        status,
        reason: response.reason.unwrap_or_default().to_string(),
        server: header("server"),
        location: header("location"),
    })
}

/// A `HEAD /` request naming `host`.
pub fn http_head_request(host: &str) -> Vec<u8> {
    format!(
        "HEAD / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: mve-audit/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multi_line_replies() {
        let (reply, used) = parse_reply(b"220 ftp ready\r\nrest").unwrap();
        assert_eq!(
            reply,
            Reply {
                code: 220,
                lines: vec!["ftp ready".into()]
            }
        );
        assert_eq!(used, 15);
        let ehlo = b"250-mail.lab.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n";
        let (reply, _) = parse_reply(ehlo).unwrap();
        assert_eq!(
            ehlo_extensions(&reply),
            ["PIPELINING", "STARTTLS", "8BITMIME"]
        );
    }

    #[test]
    fn partial_and_bad_replies() {
        assert_eq!(
            parse_reply(b"220-first\r\n220 sec"),
            Err(TextError::Incomplete)
        );
        assert_eq!(parse_reply(b"22"), Err(TextError::Incomplete));
        assert_eq!(
            parse_reply(b"SSH-2.0-OpenSSH\r\n"),
            Err(TextError::NotAReply)
        );
        assert_eq!(parse_reply(b"SSH-2.0"), Err(TextError::NotAReply));
        assert_eq!(
            parse_reply(b"220-a\r\n250 b\r\n"),
            Err(TextError::MixedCodes)
        );
        assert_eq!(parse_reply(b"999 x\r\n"), Err(TextError::NotAReply));
    }

    #[test]
    fn http_heads_parse() {
        let head = parse_http_head(
            b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Length: 8\r\n\r\n",
        )
        .unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.server.as_deref(), Some("nginx/1.22.1"));
        assert_eq!(
            parse_http_head(b"HTTP/1.1 200 OK\r\n"),
            Err(TextError::Incomplete)
        );
        assert_eq!(
            parse_http_head(b"220 smtp\r\n\r\n"),
            Err(TextError::NotHttp)
        );
        assert_eq!(
            parse_http_head(b"HTTP/1.1 2000 OK\r\n\r\n"),
            Err(TextError::NotHttp)
        );
    }

    #[test]
    fn real_daemon_fixtures() {
        use crate::wire::fixtures::*;
        let (banner, _) = parse_reply(VSFTPD_BANNER).unwrap();
        assert_eq!(banner.code, 220);
        assert_eq!(banner.lines, ["Lexmark lab FTP ready"]);
        let (banner, _) = parse_reply(POSTFIX_BANNER).unwrap();
        assert_eq!(banner.lines, ["mail.lab.test ESMTP lab"]);
        let (ehlo, used) = parse_reply(POSTFIX_EHLO).unwrap();
        assert_eq!(used, POSTFIX_EHLO.len());
        let extensions = ehlo_extensions(&ehlo);
        assert!(
            extensions.contains(&"STARTTLS".to_string()),
            "{extensions:?}"
        );
        assert!(extensions.contains(&"PIPELINING".to_string()));
        let head = parse_http_head(NGINX_HEAD).unwrap();
        assert_eq!(
            (head.status, head.server.as_deref()),
            (200, Some("nginx/1.22.1"))
        );
        for fixture in [VSFTPD_BANNER, POSTFIX_BANNER, POSTFIX_EHLO] {
            assert_eq!(
                survives(fixture, parse_reply),
                0,
                "a cut reply is incomplete"
            );
        }
        assert_eq!(survives(NGINX_HEAD, parse_http_head), 0);
    }
}
