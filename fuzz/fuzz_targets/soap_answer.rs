//! Fuzz target: hostile bytes into one network parser; it may refuse them, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(parse) = mve_audit::fuzzing::target("soap_answer") {
        parse(data);
    }
});
