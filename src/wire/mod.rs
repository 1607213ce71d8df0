//! Pure codecs, one file per protocol: request bytes in, parsed replies out. Nothing here
//! touches a socket or a runtime, so every codec is testable with byte fixtures.

pub mod ber;
pub mod dns;
pub mod firebird;
pub mod kerberos;
pub mod ldap;
pub mod lexmark;
pub mod snmp;
pub mod tds;
pub mod text;
pub mod x509;
