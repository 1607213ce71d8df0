//! The `crl` cell: every CRL distribution point the CA's certificates name, fetched (HTTP,
//! or an anonymous LDAP base search as Java's PKIX does) and judged against the CA that must
//! have issued it (`wire::trust`). A point that cannot be read is "not checked", with the
//! reason; the cell passes only when every point was read and accepted.

use tokio::time::Instant;

use super::super::snmp_client::SnmpGetter;
use super::super::{Datagrams, NetworkProber};
use super::{joined, target_url};
use crate::catalog::CONVERSATION_TIMEOUTS;
use crate::clock::{self, date_text};
use crate::engine::Job;
use crate::results::{Evidence, Finding, State, Unproven};
use crate::transport::stream::{ReadEnd, read_until, write_all};
use crate::wire::http::{self, Response, Url};
use crate::wire::ldap::{self, LdapUrl};
use crate::wire::pkix::CaCert;
use crate::wire::trust::{self, Chain};

/// Distribution points read at most per CA; the rest are counted as not checked.
const MAX_POINTS: usize = 16;

/// One distribution point: its text, and the certificate that names it.
struct Point<'a> {
    text: &'a str,
    named_by: &'a CaCert,
}

impl<G: SnmpGetter, D: Datagrams> NetworkProber<G, D> {
    /// The `crl` cell: the CA's certificates, then each distribution point they name.
    pub(in crate::probes) async fn crl(&self, job: &Job) -> Finding {
        let url = match target_url(job) {
            Ok(url) => url,
            Err(finding) => return finding,
        };
        let read = match self.read_ca(job.peer, &url).await {
            Ok(read) => read,
            Err(mut finding) => {
                finding.evidence.summary = format!(
                    "the CA certificate could not be read, so neither can its CRL: {}",
                    finding.evidence.summary
                );
                return finding;
            }
        };
        let Some(chain) = read.chain else {
            let mut evidence = read.evidence;
            evidence.summary = format!(
                "no CRL was read: no CA certificate to read distribution points from ({})",
                evidence.summary
            );
            return Finding::unproven(evidence, Unproven::NotVerified).warn(
                "CEP/CES hands out the CA certificate only inside an authenticated SOAP \
                 exchange, so no CRL was checked: to check the CRL, give the same CA's SCEP URL \
                 (Microsoft: /certsrv/mscep/mscep.dll) as another --ca.",
            );
        };
        let mut points: Vec<Point> = Vec::new();
        for cert in &chain.certs {
            for text in &cert.crl_urls {
                if !points.iter().any(|p| p.text == text) {
                    points.push(Point {
                        text,
                        named_by: cert,
                    });
                }
            }
        }
        let unread: usize = chain.certs.iter().map(|c| c.crl_points_unread).sum();
        let over = points.len().saturating_sub(MAX_POINTS) + unread;
        points.truncate(MAX_POINTS);
        let mut results = Vec::new();
        for point in &points {
            results.push(Box::pin(self.check_point(point, &chain)).await);
        }
        let all: Vec<String> = points.iter().map(|p| http::redacted(p.text)).collect();
        let mut cell = summarize(results, over);
        cell.evidence.fact("crl_urls", all.join(" "));
        let unnamed: Vec<String> = chain
            .without_points()
            .iter()
            .map(|c| c.subject.clone())
            .collect();
        if !unnamed.is_empty() {
            let why = format!(
                "{} names no CRL distribution point, so a client that checks revocation cannot \
                 check it: have the CA issue it with the CRL's URL.",
                unnamed.join(" and ")
            );
            cell.evidence.notes.push(why.clone());
            if cell.warning.is_none() && cell.state == State::Verified {
                cell = cell.warn(why);
            }
        }
        cell
    }

    /// One point: fetched and judged, or `Err` with why it is not checked.
    async fn check_point(
        &self,
        point: &Point<'_>,
        chain: &Chain,
    ) -> (String, Result<Finding, String>) {
        let text = point.text;
        let lower = text.to_ascii_lowercase();
        let outcome = if lower.starts_with("ldap://") || lower.starts_with("ldaps://") {
            match LdapUrl::parse(text) {
                Some(ldap) => Ok(Box::pin(self.fetch_ldap(point, &ldap, chain)).await),
                None => Err(
                    "an LDAP point with no host (Active Directory's ldap:///…) takes its server \
                     from the domain, which mve-audit does not know"
                        .to_string(),
                ),
            }
        } else if lower.starts_with("http://") || lower.starts_with("https://") {
            match Url::parse(text) {
                Ok(url) => Ok(Box::pin(self.fetch_http(point, &url, chain)).await),
                Err(err) => Err(format!("not a URL that can be fetched: {err}")),
            }
        } else {
            Err("only HTTP and LDAP points are fetched (MVE's Java reads no other)".to_string())
        };
        (http::redacted(text), outcome)
    }

    async fn fetch_http(&self, point: &Point<'_>, url: &Url, chain: &Chain) -> Finding {
        let what = format!("CRL at {}", point.text);
        let reached = match self.reach(&url.host, url.port, &what).await {
            Ok(reached) => reached,
            Err(finding) => return finding,
        };
        let mut finding = match self.http_get(reached.peer, url).await {
            Err(mut finding) => {
                finding.evidence.summary = format!("{what}: {}", finding.evidence.summary);
                finding
            }
            Ok(answer) => read_http(point, &answer, chain),
        };
        finding.port = Some(url.port);
        finding.evidence.fact("crl_url", point.text);
        finding.evidence.notes.extend(reached.note);
        finding
    }

    /// The CRL attribute of the entry an `ldap://` distribution point names: an anonymous
    /// base-object search, as MVE's Java PKIX does.
    async fn fetch_ldap(&self, point: &Point<'_>, url: &LdapUrl, chain: &Chain) -> Finding {
        let text = point.text;
        let what = format!("CRL at {text}");
        let reached = match self.reach(&url.host, url.port, &what).await {
            Ok(reached) => reached,
            Err(finding) => return finding,
        };
        let mut finding = self.search(point, url, reached.peer, chain).await;
        finding.port = Some(url.port);
        finding.evidence.fact("crl_url", text);
        finding.evidence.notes.extend(reached.note);
        finding
    }

    async fn search(
        &self,
        point: &Point<'_>,
        url: &LdapUrl,
        peer: std::net::SocketAddr,
        chain: &Chain,
    ) -> Finding {
        let text = point.text;
        let mut stream = match self.open(peer).await {
            Ok(stream) => stream,
            Err(mut finding) => {
                finding.evidence.summary = format!("CRL at {text}: {}", finding.evidence.summary);
                return finding;
            }
        };
        let deadline = Instant::now() + self.settings.timing.timeout * CONVERSATION_TIMEOUTS;
        let id = 1;
        let request = ldap::attribute_request(id, &url.dn, &url.attribute);
        if let Err(err) = write_all(&mut stream, &request, deadline).await {
            return Finding::unproven(
                Evidence::new(format!(
                    "CRL at {text}: the search could not be sent: {err}"
                )),
                Unproven::CutShort,
            );
        }
        let mut buf = Vec::new();
        let max = http::MAX_BODY + 64 * 1024;
        let end = read_until(&mut stream, &mut buf, max, deadline, |b| {
            ldap::search_len_up_to(b, max)
        })
        .await;
        let bytes = match end {
            ReadEnd::Done(len) => buf.get(..len).unwrap_or_default(),
            ReadEnd::Closed if !buf.is_empty() => &buf[..],
            _ => {
                return Finding::unproven(
                    Evidence::new(format!("CRL at {text}: no complete LDAP answer")),
                    Unproven::NoAnswer,
                );
            }
        };
        match ldap::parse_attribute(bytes, id, &url.attribute) {
            // A search that ends in an error is refused, whatever entries came first: JNDI
            // throws on it.
            Ok((values, code)) if !values.is_empty() && code.is_none_or(|c| c == 0) => judge(
                point,
                values.first().map_or(&[][..], Vec::as_slice),
                None,
                chain,
            ),
            Ok((_, code)) => Finding::unproven(
                Evidence::new(format!(
                    "CRL at {text}: the directory answered (result {}) with no {} value it vouches for",
                    code.map_or("none".to_string(), |c| c.to_string()),
                    url.attribute
                )),
                Unproven::WrongProtocol,
            ),
            Err(err) => Finding::unproven(
                Evidence::new(format!("CRL at {text}: not an LDAP answer ({err})")),
                Unproven::WrongProtocol,
            ),
        }
    }
}

/// The cell from each point's result (`Err`: not checked, and why) and the count of points
/// past the limit or not URIs.
fn summarize(results: Vec<(String, Result<Finding, String>)>, over: usize) -> Finding {
    let total = results.len() + over;
    let mut unchecked: Vec<String> = Vec::new();
    let mut checked: Vec<Finding> = Vec::new();
    for (text, outcome) in results {
        match outcome {
            Ok(finding) => checked.push(finding),
            Err(why) => unchecked.push(format!("{text} ({why})")),
        }
    }
    if over > 0 {
        unchecked.push(format!(
            "{over} more point(s) past the first {MAX_POINTS} or not URLs"
        ));
    }
    let unchecked_text = unchecked.join("; ");
    if checked.is_empty() {
        let summary = if total == 0 {
            "no CRL was read: the CA's certificates name no CRL distribution point".to_string()
        } else {
            format!(
                "no CRL was read: {total} distribution point(s), none checked: {unchecked_text}"
            )
        };
        let mut evidence = Evidence::new(summary);
        evidence.fact("crl_points_not_checked", total);
        return Finding::unproven(evidence, Unproven::NotVerified).warn(
            "No CRL of this CA could be checked, so its revocation path is unknown: if MVE \
             reports \"CA validation failed\", publish the CRL over HTTP (or LDAP with a host) \
             and name it in the CA certificate.",
        );
    }
    let fine = checked
        .iter()
        .filter(|f| f.state == State::Verified && f.warning.is_none())
        .count();
    let count = checked.len();
    let at = checked
        .iter()
        .position(|f| f.state != State::Verified || f.warning.is_some())
        .unwrap_or(0);
    let mut chosen = checked.swap_remove(at);
    if total > 1 {
        chosen.evidence.summary = format!(
            "{} ({fine} of {total} distribution points fine)",
            chosen.evidence.summary
        );
    }
    if !unchecked.is_empty() {
        chosen.evidence.summary =
            format!("{}; not checked: {unchecked_text}", chosen.evidence.summary);
        chosen
            .evidence
            .fact("crl_points_not_checked", total - count);
        if chosen.state == State::Verified && chosen.warning.is_none() {
            chosen = chosen.warn(format!(
                "{} of {total} CRL distribution points could not be checked ({unchecked_text}): \
                 a client that tries one of them may fail to validate the CA.",
                total - count
            ));
        }
    }
    chosen
}

/// The CRL cell from an HTTP answer.
fn read_http(point: &Point<'_>, answer: &Response, chain: &Chain) -> Finding {
    if answer.status != 200 {
        return Finding::unproven(
            Evidence::new(format!(
                "CRL at {}: HTTP {} {}",
                point.text, answer.status, answer.reason
            )),
            Unproven::WrongProtocol,
        );
    }
    judge(
        point,
        &answer.body,
        Some(answer.content_type.as_deref().unwrap_or_default()),
        chain,
    )
}

/// A CRL's bytes judged against the CA that must have issued it, and (for HTTP) its content
/// type against RFC 5280's.
fn judge(point: &Point<'_>, body: &[u8], content_type: Option<&str>, chain: &Chain) -> Finding {
    let text = point.text;
    let now = clock::unix_now();
    let judged = match trust::judge_crl(body, text, point.named_by, chain, now) {
        Ok(judged) => judged,
        Err(_) => {
            return Finding::unproven(
                Evidence::new(format!(
                    "CRL at {text}: {} bytes of {}, not a CRL",
                    body.len(),
                    match content_type {
                        Some("") => "no content type",
                        Some(kind) => kind,
                        None => "an LDAP value",
                    }
                )),
                Unproven::WrongProtocol,
            );
        }
    };
    let crl = &judged.crl;
    let mut evidence = Evidence::new(format!(
        "CRL of {} at {text}: issued {}, next update {}, {} revoked",
        crl.issuer,
        date_text(crl.this_update),
        crl.next_update.map_or("none".into(), date_text),
        crl.revoked
    ));
    evidence.fact("crl_issuer", crl.issuer.clone());
    evidence.fact("crl_this_update", date_text(crl.this_update));
    if let Some(next) = crl.next_update {
        evidence.fact("crl_next_update", date_text(next));
    }
    evidence.fact("crl_revoked", crl.revoked);
    if !judged.refusals.is_empty() {
        evidence.summary = format!(
            "{}; refused: {}",
            evidence.summary,
            judged.refusals.join("; ")
        );
        return Finding::unproven(evidence, Unproven::Rejected).warn(format!(
            "MVE's Java refuses the CRL at {text}: {}. It then reports \"CA validation \
             failed\": publish the CRL its CA issues and signs at this point.",
            judged.refusals.join("; ")
        ));
    }
    if judged.stale {
        let next = crl.next_update.map_or("?".into(), date_text);
        return Finding::unproven(evidence, Unproven::Stale).warn(format!(
            "The CRL at {text} expired on {next} (its nextUpdate): MVE reports \"CA validation \
             failed\". Have the CA publish a fresh CRL, and check its publication schedule."
        ));
    }
    let mut warnings: Vec<String> = judged
        .oddities
        .iter()
        .map(|o| format!("The CRL: {o}."))
        .collect();
    if let Some(content) = content_type
        && content != "application/pkix-crl"
    {
        warnings.push(format!(
            "The CRL is served as '{}', where RFC 5280 names application/pkix-crl: strict \
             clients refuse it.",
            if content.is_empty() {
                "no type"
            } else {
                content
            }
        ));
    }
    Finding::new(State::Verified, evidence).maybe_warn(joined(&warnings))
}

/// A CRL judged for the chain's issuing CA, for the module's tests.
#[cfg(test)]
pub(super) fn tests_judge(chain: &Chain, body: &[u8]) -> Finding {
    let Some(named_by) = chain.issuing() else {
        unreachable!("a judged chain has an issuing CA")
    };
    let point = Point {
        text: "http://x/ca.crl",
        named_by,
    };
    judge(&point, body, Some("application/pkix-crl"), chain)
}

/// `summarize`, for the module's tests.
#[cfg(test)]
pub(super) fn tests_summarize(
    results: Vec<(String, Result<Finding, String>)>,
    over: usize,
) -> Finding {
    summarize(results, over)
}
