//! DNS-SD queries for unicast mDNS (RFC 6762 §6.7 "legacy unicast"): sent from an ephemeral
//! port, the responder answers straight back to it.

/// The DNS-SD meta-query: every service type the responder offers.
pub const SERVICES: &str = "_services._dns-sd._udp.local";

const TYPE_PTR: u16 = 12;
const CLASS_IN: u16 = 1;

/// A standard query for `name`'s PTR records with a non-zero `id`.
pub fn ptr_query(id: u16, name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(18 + name.len());
    out.extend_from_slice(&id.max(1).to_be_bytes());
    out.extend_from_slice(&[0, 0]); // flags: standard query
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // one question
    for label in name.split('.').filter(|l| !l.is_empty()) {
        // Names here are our own constants; labels are short by construction.
        let bytes = &label.as_bytes()[..label.len().min(63)];
        out.push(bytes.len() as u8);
        out.extend_from_slice(bytes);
    }
    out.push(0);
    out.extend_from_slice(&TYPE_PTR.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_query_bytes() {
        let q = ptr_query(0x4d56, SERVICES);
        assert_eq!(&q[..12], &[0x4d, 0x56, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&q[12..22], b"\x09_services");
        assert_eq!(&q[q.len() - 5..], &[0, 0, 12, 0, 1]);
        assert_eq!(q.len(), 12 + SERVICES.len() + 2 + 4);
    }

    #[test]
    fn id_is_never_zero() {
        assert_eq!(&ptr_query(0, SERVICES)[..2], &[0, 1]);
    }
}
