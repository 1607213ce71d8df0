//! Microsoft's certificate enrollment web services, read-only: the MS-XCEP `GetPolicies`
//! request (a policy query: it enrolls nothing and carries no key or CSR) as a SOAP 1.2
//! envelope, and what answered it — a `GetPoliciesResponse`, a SOAP fault (what CEP or CES
//! answers a request without credentials), or no SOAP at all.
//!
//! The answer is read with `roxmltree`, which parses the whole document into a tree, never
//! expands external entities and refuses a DTD: a hostile server cannot make it fetch or
//! grow anything.

/// SOAP 1.2's envelope namespace.
const SOAP12: &str = "http://www.w3.org/2003/05/soap-envelope";
/// MS-XCEP's namespace.
const XCEP: &str = "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy";
/// The media type of a SOAP 1.2 message.
pub const CONTENT_TYPE: &str = "application/soap+xml";
/// Text of a fault reason kept at most.
const MAX_REASON: usize = 200;

/// The `GetPolicies` envelope addressed to `to` (the endpoint's URL), with `message_id` a
/// fresh number.
pub fn get_policies(to: &str, message_id: u32) -> Vec<u8> {
    let to = escape(to);
    format!(
        "<s:Envelope xmlns:s=\"{SOAP12}\" xmlns:a=\"http://www.w3.org/2005/08/addressing\">\
         <s:Header>\
         <a:Action s:mustUnderstand=\"1\">{XCEP}/IPolicy/GetPolicies</a:Action>\
         <a:MessageID>urn:uuid:00000000-0000-4000-8000-{message_id:012x}</a:MessageID>\
         <a:To s:mustUnderstand=\"1\">{to}</a:To>\
         </s:Header>\
         <s:Body xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\
         <GetPolicies xmlns=\"{XCEP}\">\
         <client><lastUpdate xsi:nil=\"true\"/><preferredLanguage xsi:nil=\"true\"/></client>\
         <requestFilter xsi:nil=\"true\"/>\
         </GetPolicies>\
         </s:Body>\
         </s:Envelope>"
    )
    .into_bytes()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// What a SOAP 1.2 answer said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// MS-XCEP's `GetPoliciesResponse`, with the number of policies it lists.
    Policies(usize),
    /// A SOAP fault: its code (`s:Sender`, `a:ActionNotSupported`…) and reason text.
    Fault { code: String, reason: String },
    /// A SOAP envelope whose body holds something else (its first element's name).
    Other(String),
}

/// Why bytes are not a SOAP 1.2 answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SoapError {
    #[error("not XML")]
    NotXml,
    #[error("XML, but not a SOAP 1.2 envelope")]
    NotEnvelope,
    #[error("a SOAP envelope without a body")]
    NoBody,
}

/// Reads a SOAP 1.2 answer.
pub fn parse_answer(bytes: &[u8]) -> Result<Answer, SoapError> {
    let text = std::str::from_utf8(bytes).map_err(|_| SoapError::NotXml)?;
    let document = roxmltree::Document::parse(text).map_err(|_| SoapError::NotXml)?;
    let envelope = document.root_element();
    if !is(envelope, SOAP12, "Envelope") {
        return Err(SoapError::NotEnvelope);
    }
    let body = envelope
        .children()
        .find(|n| is(*n, SOAP12, "Body"))
        .ok_or(SoapError::NoBody)?;
    let Some(first) = body.children().find(roxmltree::Node::is_element) else {
        return Ok(Answer::Other("an empty body".into()));
    };
    if is(first, SOAP12, "Fault") {
        let code = first
            .descendants()
            .find(|n| is(*n, SOAP12, "Value"))
            .and_then(|n| n.text())
            .unwrap_or_default();
        let reason = first
            .descendants()
            .find(|n| is(*n, SOAP12, "Text"))
            .and_then(|n| n.text())
            .unwrap_or_default();
        return Ok(Answer::Fault {
            code: clip(code.trim()),
            reason: clip(reason.trim()),
        });
    }
    if is(first, XCEP, "GetPoliciesResponse") {
        let policies = first
            .descendants()
            .filter(|n| is(*n, XCEP, "policy"))
            .count();
        return Ok(Answer::Policies(policies));
    }
    Ok(Answer::Other(clip(first.tag_name().name())))
}

fn is(node: roxmltree::Node, namespace: &str, name: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == name
        && node.tag_name().namespace() == Some(namespace)
}

fn clip(text: &str) -> String {
    text.chars().take(MAX_REASON).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAULT: &str = "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" \
        xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header/><s:Body><s:Fault>\
        <s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>a:ActionNotSupported</s:Value>\
        </s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"en-US\">The message with Action '' \
        cannot be processed</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>";

    #[test]
    fn the_request_is_a_soap_envelope_this_parser_reads() {
        let request = get_policies("https://ca.lab.test/x/service.svc/CEP?a=1&b=<2>", 7);
        let text = String::from_utf8(request.clone()).unwrap();
        assert!(text.contains("a=1&amp;b=&lt;2&gt;"), "{text}");
        assert!(!text.to_ascii_lowercase().contains("certificaterequest"));
        assert_eq!(
            parse_answer(&request).unwrap(),
            Answer::Other("GetPolicies".into())
        );
    }

    #[test]
    fn a_fault_and_a_policy_answer_are_read() {
        let fault = parse_answer(FAULT.as_bytes()).unwrap();
        assert_eq!(
            fault,
            Answer::Fault {
                code: "s:Sender".into(),
                reason: "The message with Action '' cannot be processed".into()
            }
        );
        let policies = format!(
            "<s:Envelope xmlns:s=\"{SOAP12}\"><s:Body><GetPoliciesResponse xmlns=\"{XCEP}\">\
             <response><policies><policy/><policy/></policies></response>\
             </GetPoliciesResponse></s:Body></s:Envelope>"
        );
        assert_eq!(
            parse_answer(policies.as_bytes()).unwrap(),
            Answer::Policies(2)
        );
    }

    #[test]
    fn what_is_not_soap_is_refused() {
        for (bytes, want) in [
            (
                &b"<html><body>Sign in</body></html>"[..],
                SoapError::NotEnvelope,
            ),
            (b"404 Not Found", SoapError::NotXml),
            (b"", SoapError::NotXml),
            (
                b"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"/>",
                SoapError::NotEnvelope,
            ),
            (
                b"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>",
                SoapError::NotXml,
            ),
            (
                b"<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"/>",
                SoapError::NoBody,
            ),
        ] {
            assert_eq!(
                parse_answer(bytes),
                Err(want),
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
        for cut in 0..FAULT.len() {
            let _ = parse_answer(&FAULT.as_bytes()[..cut]);
        }
    }
}
