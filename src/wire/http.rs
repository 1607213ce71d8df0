//! A read-only HTTP/1.1 `GET` and its response, whole: the status, the content type and the
//! body (by Content-Length, chunked, or up to the close), for the checks that read what a
//! server serves (a CA's certificates and CRLs). The head is parsed by `httparse`; the body
//! framing is checked here, each size against what arrived, with a cap.

/// A response body is read up to this size; a CA's chain or CRL is far smaller.
pub const MAX_BODY: usize = 1 << 20;

/// A complete response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    /// The media type, lower-cased, without parameters (`application/pkcs7-mime`).
    pub content_type: Option<String>,
    /// The whole `Content-Type` value, parameters included (`…; smime-type=certs-only`).
    pub content_type_full: Option<String>,
    pub body: Vec<u8>,
}

/// A URL the probe reads: `http(s)://host[:port]/path?query`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// The path and query, from the first `/`.
    pub path: String,
}

impl Url {
    /// Parses an `http` or `https` URL; IPv6 hosts in brackets.
    pub fn parse(text: &str) -> Option<Url> {
        let (tls, rest) = if let Some(rest) = strip_prefix_ci(text, "https://") {
            (true, rest)
        } else {
            (false, strip_prefix_ci(text, "http://")?)
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(at) => (rest.get(..at)?, rest.get(at..)?),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_string()
        };
        let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
            let (host, after) = inner.split_once(']')?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        let port = match port {
            Some(port) => port.parse().ok().filter(|p| *p != 0)?,
            None if tls => 443,
            None => 80,
        };
        if host.is_empty() || host.contains(['@', ' ']) {
            return None;
        }
        Some(Url {
            tls,
            host: host.to_string(),
            port,
            path,
        })
    }

    /// The same server, another path.
    pub fn with_path(&self, path: String) -> Url {
        Url {
            path,
            ..self.clone()
        }
    }

    pub fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

/// Why bytes are not an HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("not an HTTP response")]
    NotHttp,
    #[error("a bad chunk size")]
    Chunk,
    #[error("a body of {0} bytes is over the limit")]
    TooLarge(usize),
    #[error("the body stopped short")]
    Truncated,
}

/// `GET path` with a Host header; the connection closes after the response.
pub fn get_request(host: &str, path: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: mve-audit/{}\r\nAccept: */*\r\n\
         Connection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes()
}

/// The response in `buf`: `Ok(None)` while more is needed, unless `closed` (the peer closed:
/// what arrived is all there is).
pub fn parse_response(buf: &[u8], closed: bool) -> Result<Option<Response>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; 48];
    let mut head = httparse::Response::new(&mut headers);
    let used = match head.parse(buf) {
        Ok(httparse::Status::Complete(used)) => used,
        Ok(httparse::Status::Partial) if closed => return Err(HttpError::NotHttp),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(HttpError::NotHttp),
    };
    let status = head.code.ok_or(HttpError::NotHttp)?;
    let reason = head.reason.unwrap_or_default().to_string();
    let header = |name: &str| {
        head.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    };
    let content_type_full = header("content-type");
    let content_type = content_type_full.as_deref().map(|v| {
        v.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    });
    let chunked =
        header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = header("content-length").and_then(|v| v.parse::<usize>().ok());
    let rest = buf.get(used..).unwrap_or_default();
    let body = if chunked {
        match dechunk(rest)? {
            Some(body) => body,
            None if closed => return Err(HttpError::Truncated),
            None => return Ok(None),
        }
    } else if let Some(length) = length {
        if length > MAX_BODY {
            return Err(HttpError::TooLarge(length));
        }
        match rest.get(..length) {
            Some(body) => body.to_vec(),
            None if closed => return Err(HttpError::Truncated),
            None => return Ok(None),
        }
    } else if status == 204 || status == 304 || (100..200).contains(&status) {
        Vec::new()
    } else if closed {
        rest.to_vec()
    } else {
        return Ok(None);
    };
    Ok(Some(Response {
        status,
        reason,
        content_type,
        content_type_full,
        body,
    }))
}

/// A chunked body, once its last chunk has arrived.
fn dechunk(mut rest: &[u8]) -> Result<Option<Vec<u8>>, HttpError> {
    let mut body = Vec::new();
    loop {
        let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(rest.get(..line_end).unwrap_or_default())
            .map_err(|_| HttpError::Chunk)?;
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| HttpError::Chunk)?;
        let start = line_end + 2;
        if size == 0 {
            return Ok(Some(body));
        }
        if body.len().saturating_add(size) > MAX_BODY {
            return Err(HttpError::TooLarge(body.len().saturating_add(size)));
        }
        let Some(chunk) = rest.get(start..start.saturating_add(size)) else {
            return Ok(None);
        };
        body.extend_from_slice(chunk);
        let after = start + size;
        match rest.get(after..after + 2) {
            Some(b"\r\n") => rest = rest.get(after + 2..).unwrap_or_default(),
            Some(_) => return Err(HttpError::Chunk),
            None => return Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_framed_by_length_chunks_or_the_close() {
        let by_length = b"HTTP/1.1 200 OK\r\nContent-Type: Application/PKCS7-MIME; smime-type=certs-only\r\nContent-Length: 5\r\n\r\nhello";
        let found = parse_response(by_length, false).unwrap().unwrap();
        assert_eq!(found.status, 200);
        assert_eq!(
            found.content_type.as_deref(),
            Some("application/pkcs7-mime")
        );
        assert_eq!(found.body, b"hello");
        assert_eq!(
            parse_response(&by_length[..by_length.len() - 2], false),
            Ok(None)
        );
        assert_eq!(
            parse_response(&by_length[..by_length.len() - 2], true),
            Err(HttpError::Truncated)
        );
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        assert_eq!(
            parse_response(chunked, false).unwrap().unwrap().body,
            b"abcde"
        );
        let closing = b"HTTP/1.0 404 Not Found\r\n\r\n<html>gone</html>";
        assert_eq!(parse_response(closing, false), Ok(None));
        let found = parse_response(closing, true).unwrap().unwrap();
        assert_eq!((found.status, found.body.len()), (404, 17));
    }

    #[test]
    fn hostile_responses_are_refused() {
        assert_eq!(
            parse_response(b"SSH-2.0-x\r\n", true),
            Err(HttpError::NotHttp)
        );
        assert_eq!(
            parse_response(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                false
            ),
            Err(HttpError::Chunk)
        );
        assert_eq!(
            parse_response(
                b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
                false
            ),
            Err(HttpError::TooLarge(99_999_999_999))
        );
        assert!(matches!(
            parse_response(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffff\r\n",
                false
            ),
            Err(HttpError::TooLarge(_))
        ));
    }
}
