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
    match soap::parse_answer(&answer.body) {
        Ok(soap::Answer::Policies(count)) => {
            let mut evidence = Evidence::new(format!(
                "{head}: MS-XCEP GetPoliciesResponse with {count} polic{}",
                if count == 1 { "y" } else { "ies" }
            ));
            evidence.fact("protocol", "cep-ces");
            evidence.fact("http_status", answer.status);
            evidence.fact("policies", count);
            Ok(read(evidence))
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
