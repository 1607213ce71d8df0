//! Fuzz target: hostile bytes into one network parser; it may refuse them, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mve_audit::wire::snmp::parse_get_response(data);
});
