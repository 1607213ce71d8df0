//! Microsoft CEP/CES (MS-XCEP, MS-WSTEP): one SOAP 1.2 `GetPolicies` POST, a policy query
//! that enrolls nothing. The endpoint passes on its own SOAP answer: the policies, or the
//! fault a service without our credentials answers. A 404, an HTML login page, a redirect
//! or a 401 is not that answer.

use std::net::SocketAddr;

use super::super::snmp_client::SnmpGetter;
use super::super::{Datagrams, NetworkProber};
use super::CaRead;
use crate::results::{Evidence, Finding, Unproven};
use crate::wire::http::{self, Response, Url};
use crate::wire::{nonce, soap};

impl<G: SnmpGetter, D: Datagrams> NetworkProber<G, D> {
    pub(super) async fn cep_ces(&self, peer: SocketAddr, url: &Url) -> Result<CaRead, Finding> {
        let body = soap::get_policies(&url.shown(), nonce());
        let request = http::request(
            "POST",
            url,
            Some("application/soap+xml; charset=utf-8"),
            &body,
        );
        let answer = self.http_send(peer, url, &request).await?;
        let mut read = judge(&answer, url)?;
        if !url.tls {
            read.warnings.push(
                "CEP/CES is served over HTTPS: MVE will not use it over plain HTTP.".to_string(),
            );
        }
        Ok(read)
    }
}

/// The cell's reading of the answer to `GetPolicies`.
fn judge(answer: &Response, url: &Url) -> Result<CaRead, Finding> {
    let head = format!(
        "CEP/CES GetPolicies at {}: HTTP {} {}",
        url.path, answer.status, answer.reason
    );
    if answer.status == 401 {
        let schemes = if answer.authenticate.is_empty() {
            "no scheme named".to_string()
        } else {
            answer.authenticate.join(", ")
        };
        let mut evidence = Evidence::new(format!(
            "{head}: the web server asks for authentication ({schemes}) before any SOAP answer"
        ));
        evidence.fact("http_status", answer.status);
        return Err(
            Finding::unproven(evidence, Unproven::NotVerified).warn(format!(
                "The endpoint demands HTTP authentication ({schemes}) before it answers SOAP, so \
             mve-audit cannot show that CEP/CES answers there. MVE signs in to CEP/CES with a \
             user name and password inside the SOAP message: give it the endpoint for that \
             (…_CEP_UsernamePassword/service.svc/CEP), or check the IIS authentication settings."
            )),
        );
    }
    if (300..400).contains(&answer.status) {
        let to = answer.location.as_deref().unwrap_or("nowhere named");
        let mut evidence = Evidence::new(format!("{head}: a redirect to {to}"));
        evidence.fact("http_status", answer.status);
        return Err(
            Finding::unproven(evidence, Unproven::WrongProtocol).warn(format!(
                "The URL redirects (to {to}) instead of answering SOAP: give MVE the endpoint's \
             own URL."
            )),
        );
    }
    let soap_type = answer.content_type.as_deref() == Some(soap::CONTENT_TYPE);
    match soap::parse_answer(&answer.body) {
        // SOAP 1.2 over HTTP (its binding, and what a WCF client reads): the policies with
        // 200, a fault with 400 or 500, always as application/soap+xml.
        Ok(_) if !soap_type => Err(Finding::unproven(
            Evidence::new(format!(
                "{head}: a SOAP envelope served as {}, where SOAP 1.2 is application/soap+xml",
                answer.content_type.as_deref().unwrap_or("no content type")
            )),
            Unproven::WrongProtocol,
        )),
        Ok(soap::Answer::Policies(_)) if answer.status != 200 => Err(Finding::unproven(
            Evidence::new(format!("{head}: policies under an error status")),
            Unproven::WrongProtocol,
        )),
        Ok(soap::Answer::Fault { code, reason })
            if !matches!(answer.status, 400 | 500) || !is_sender(&code) =>
        {
            let mut evidence = Evidence::new(format!(
                "{head}: a SOAP fault ({code}: {reason}) from the service's side, not the \
                 answer to a request without credentials"
            ));
            evidence.fact("soap_fault", format!("{code}: {reason}"));
            Err(
                Finding::unproven(evidence, Unproven::NotVerified).warn(format!(
                    "The CEP/CES service answers with a fault of its own ({code}: {reason}, HTTP \
                 {}): it is there but not working; check the service and its CA on the server.",
                    answer.status
                )),
            )
        }
        Ok(soap::Answer::Policies(count)) => {
            let mut evidence = Evidence::new(format!(
                "{head}: MS-XCEP GetPoliciesResponse with {count} polic{}",
                if count == 1 { "y" } else { "ies" }
            ));
            evidence.fact("protocol", "cep-ces");
            evidence.fact("http_status", answer.status);
            evidence.fact("policies", count);
            let mut read = read(evidence);
            if count == 0 {
                read.warnings.push(
                    "The policy service lists no certificate policy: MVE has no template to \
                     enroll with."
                        .to_string(),
                );
            }
            Ok(read)
        }
        Ok(soap::Answer::Fault { code, reason }) => {
            let mut evidence = Evidence::new(format!(
                "{head}: a SOAP 1.2 fault ({code}: {reason}), the service's answer to a \
                 request without credentials"
            ));
            evidence.fact("protocol", "cep-ces");
            evidence.fact("http_status", answer.status);
            evidence.fact("soap_fault", format!("{code}: {reason}"));
            Ok(read(evidence))
        }
        Ok(soap::Answer::Other(element)) => Err(Finding::unproven(
            Evidence::new(format!(
                "{head}: a SOAP envelope holding {element}, neither policies nor a fault"
            )),
            Unproven::WrongProtocol,
        )),
        Err(err) => Err(Finding::unproven(
            Evidence::new(format!(
                "{head} with {} ({} bytes): {err}, where CEP/CES answers a SOAP 1.2 envelope",
                answer.content_type.as_deref().unwrap_or("no content type"),
                answer.body.len()
            )),
            Unproven::WrongProtocol,
        )),
    }
}

/// A fault the client caused (SOAP 1.2 `Sender`, the class of a missing or refused
/// credential), as opposed to one of the service's own (`Receiver`).
fn is_sender(code: &str) -> bool {
    code.rsplit(':')
        .next()
        .is_some_and(|c| c.eq_ignore_ascii_case("Sender"))
}

fn read(evidence: Evidence) -> CaRead {
    CaRead {
        evidence,
        chain: None,
        warnings: Vec::new(),
    }
}

/// `judge`, for the module's tests.
#[cfg(test)]
pub(super) fn tests_judge(answer: &Response, url: &Url) -> Result<CaRead, Finding> {
    judge(answer, url)
}
