//! Fuzz target: hostile bytes into one network parser; it may refuse them, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mve_audit::inbound::listen::tagged(data, mve_audit::inbound::PROBE_TAG.as_bytes());
});
