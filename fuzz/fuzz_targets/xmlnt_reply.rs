//! Fuzz target: hostile bytes into one network parser; it may refuse them, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Ok::<bool, ()>(mve_audit::wire::lexmark::is_xmlnt_exception(data));
});
