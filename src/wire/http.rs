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
    /// Where a redirect points (`Location`), cut to 200 characters.
    pub location: Option<String>,
    /// The schemes a 401 asks for (`WWW-Authenticate`: `Negotiate`, `NTLM`, `Basic`…).
    pub authenticate: Vec<String>,
    pub body: Vec<u8>,
}

/// A URL the probe reads: `http(s)://host[:port]/path?query`, parsed by the `url` crate
/// (WHATWG rules: the path and query percent-encoded, the fragment never sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub tls: bool,
    /// The host to connect to: a name, or an address without brackets.
    pub host: String,
    pub port: u16,
    /// The path and query, from the first `/`, as the request line carries them.
    pub path: String,
    /// The `Host` header's value: an IPv6 address in brackets, the port when it is not the
    /// scheme's default.
    pub authority: String,
}

/// Why text is not a URL the probe reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("not a URL")]
    NotUrl,
    #[error("not an http or https URL")]
    NotHttp,
    #[error("it holds a control character or a space, which no request line may carry")]
    Control,
    #[error("it names no host")]
    NoHost,
    #[error("port 0 cannot be reached")]
    PortZero,
    #[error("it carries a user name or password, which mve-audit never sends")]
    Credentials,
}

impl Url {
    /// Parses an `http` or `https` URL; IPv6 hosts in brackets.
    pub fn parse(text: &str) -> Result<Url, UrlError> {
        // WHATWG parsing drops tabs and line breaks and encodes spaces: text from a
        // certificate that holds them is refused, not quietly repaired into another URL.
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(UrlError::Control);
        }
        let url = url::Url::parse(text).map_err(|err| match err {
            url::ParseError::EmptyHost => UrlError::NoHost,
            url::ParseError::InvalidPort => UrlError::NotUrl,
            _ => UrlError::NotUrl,
        })?;
        let tls = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(UrlError::NotHttp),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlError::Credentials);
        }
        let host = match url.host() {
            Some(url::Host::Domain(name)) if !name.is_empty() => name.to_string(),
            Some(url::Host::Ipv4(addr)) => addr.to_string(),
            Some(url::Host::Ipv6(addr)) => addr.to_string(),
            _ => return Err(UrlError::NoHost),
        };
        let port = url.port_or_known_default().ok_or(UrlError::NotUrl)?;
        if port == 0 {
            return Err(UrlError::PortZero);
        }
        let mut path = url.path().to_string();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        let host_header = url.host_str().ok_or(UrlError::NoHost)?;
        let authority = match url.port() {
            Some(port) => format!("{host_header}:{port}"),
            None => host_header.to_string(),
        };
        Ok(Url {
            tls,
            host,
            port,
            path,
            authority,
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

    /// The URL as a report shows it.
    pub fn shown(&self) -> String {
        format!("{}://{}{}", self.scheme(), self.authority, self.path)
    }
}

/// A URL given by hand, shown in an error: any password replaced by `***`.
pub fn redacted(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => text.to_string(),
    }
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
    #[error("a transfer coding other than chunked ('{0}'), which a client cannot read")]
    Coding(String),
}

/// `GET` of `url`'s path with its Host header; the connection closes after the response.
pub fn get_request(url: &Url) -> Vec<u8> {
    request("GET", url, None, &[])
}

/// A request of `method` for `url`, with a body of `content_type` when one is given.
pub fn request(method: &str, url: &Url, content_type: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "{method} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: mve-audit/{}\r\nAccept: */*\r\n\
         Connection: close\r\n",
        url.path,
        url.authority,
        env!("CARGO_PKG_VERSION")
    );
    if let Some(kind) = content_type {
        head.push_str(&format!(
            "Content-Type: {kind}\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
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
    let location = header("location").map(|v| v.chars().take(200).collect());
    let authenticate: Vec<String> = head
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("www-authenticate"))
        .filter_map(|h| {
            let value = String::from_utf8_lossy(h.value);
            let scheme = value.split_whitespace().next()?.trim_end_matches(',');
            Some(scheme.chars().take(20).collect())
        })
        .take(8)
        .collect();
    // Only "chunked" is read, as Java's HttpURLConnection reads it: any other coding (or one
    // that merely holds the word) leaves the body unreadable to a client.
    let chunked = match header("transfer-encoding") {
        None => false,
        Some(coding) if coding.trim().eq_ignore_ascii_case("chunked") => true,
        Some(coding) => return Err(HttpError::Coding(coding.chars().take(40).collect())),
    };
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
        location,
        authenticate,
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

    #[test]
    fn requests_carry_the_host_header_and_path_by_the_url_rules() {
        let url = Url::parse("https://[fd00::5]:8443/est/cacerts?x=1#frag").unwrap();
        assert_eq!(url.host, "fd00::5");
        assert_eq!(url.authority, "[fd00::5]:8443");
        let request = String::from_utf8(get_request(&url)).unwrap();
        assert!(
            request.starts_with("GET /est/cacerts?x=1 HTTP/1.1\r\nHost: [fd00::5]:8443\r\n"),
            "{request}"
        );
        assert!(
            !request.contains("frag"),
            "a fragment is never sent: {request}"
        );
        // The default port is left out of Host, as browsers and nginx expect.
        let plain = Url::parse("http://[::1]:80/crl").unwrap();
        assert_eq!(plain.authority, "[::1]");
        let named = Url::parse("HTTPS://CA.Lab.Test:443/a%20b").unwrap();
        assert_eq!(
            (named.authority.as_str(), named.path.as_str()),
            ("ca.lab.test", "/a%20b")
        );
        // Text that would smuggle a header or split the request line is refused.
        for bad in [
            "http://crl.lab.test/ca.crl\r\nX-Injected: 1",
            "http://crl.lab.test/ca crl",
            "http://crl.lab.test/\tca.crl",
            "http://crl.lab.test/\u{85}",
        ] {
            assert_eq!(Url::parse(bad), Err(UrlError::Control), "{bad:?}");
        }
        for (bad, why) in [
            ("ftp://x/", UrlError::NotHttp),
            ("file:///c:/ca.crl", UrlError::NotHttp),
            ("https://", UrlError::NoHost),
            ("http://h:0/", UrlError::PortZero),
            ("http://h:99999/", UrlError::NotUrl),
            ("mail.lab.test", UrlError::NotUrl),
            ("https://u:p@ca/", UrlError::Credentials),
            ("https://u@ca/", UrlError::Credentials),
        ] {
            assert_eq!(Url::parse(bad), Err(why), "{bad}");
        }
        assert_eq!(
            redacted("https://admin:s3cret@ca.lab.test/x"),
            "https://admin:***@ca.lab.test/x"
        );
    }

    #[test]
    fn only_the_chunked_coding_is_read() {
        let body = b"5\r\nhello\r\n0\r\n\r\n";
        let answer = |coding: &str| {
            let mut bytes =
                format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: {coding}\r\n\r\n").into_bytes();
            bytes.extend_from_slice(body);
            parse_response(&bytes, true)
        };
        assert_eq!(answer("chunked").unwrap().unwrap().body, b"hello");
        assert_eq!(answer(" Chunked ").unwrap().unwrap().body, b"hello");
        for other in ["identity-notchunked", "gzip, chunked", "xchunked"] {
            assert!(
                matches!(answer(other), Err(HttpError::Coding(_))),
                "{other}"
            );
        }
    }
}
