//! Tests of `targets::parse`: every target form, and the errors that name the bad value.

use super::*;

const FLAG: Origin = Origin::Flag("--printers");
const SMALL: Limits = Limits { allow_large: false };

fn printers_with(
    value: &str,
    base: Option<&Path>,
    limits: Limits,
) -> Result<Vec<Target>, TargetError> {
    let mut set = super::super::TargetSet::new(limits);
    set.add_printers(value, &FLAG, base)?;
    Ok(set.iter().collect())
}

fn printers(value: &str) -> Result<Vec<Target>, TargetError> {
    printers_with(value, None, SMALL)
}

fn hosts(value: &str) -> Vec<String> {
    printers(value)
        .unwrap()
        .iter()
        .map(|t| t.host.to_string())
        .collect()
}

#[test]
fn printer_forms_parse() {
    let cases: &[(&str, &[&str])] = &[
        ("127.1.2.3", &["127.1.2.3"]),
        ("printer-1.example.test", &["printer-1.example.test"]),
        ("2001:db8::5", &["2001:db8::5"]),
        ("[2001:db8::5]", &["2001:db8::5"]),
        ("a, b ,c", &["a", "b", "c"]),
        ("192.0.2.0/30", &["192.0.2.1", "192.0.2.2"]),
        ("192.0.2.8/31", &["192.0.2.8", "192.0.2.9"]),
        ("192.0.2.7/32", &["192.0.2.7"]),
        ("2001:db8::/127", &["2001:db8::", "2001:db8::1"]),
    ];
    for (input, want) in cases {
        assert_eq!(hosts(input), *want, "input {input}");
    }
}

#[test]
fn a_slash_24_skips_network_and_broadcast() {
    let all = hosts("192.0.2.77/24");
    assert_eq!(all.len(), 254);
    assert_eq!(all.first().map(String::as_str), Some("192.0.2.1"));
    assert_eq!(all.last().map(String::as_str), Some("192.0.2.254"));
}

#[test]
fn bad_printer_values_name_the_value_and_reason() {
    let cases = [
        ("127.0.0.0/33", "at most 32"),
        ("127.0.0.0/x", "not a number"),
        ("127.0.0.300/24", "not an IP address"),
        ("printer:9100", "take no port"),
        ("bad host", "letters, digits"),
        ("-lead.example", "start or end"),
        ("999.1.1.1", "canonical"),
        ("[zz::1]", "IPv6"),
    ];
    for (input, reason) in cases {
        let err = printers(input).unwrap_err().to_string();
        assert!(err.starts_with("--printers: "), "{input}: {err}");
        assert!(err.contains(&format!("'{input}'")), "{input}: {err}");
        assert!(err.contains(reason), "{input}: {err}");
    }
}

#[test]
fn large_ranges_need_allow_large() {
    let err = printers("127.0.0.0/15").unwrap_err().to_string();
    assert!(err.contains("131072 addresses"), "{err}");
    assert!(err.contains("--allow-large"), "{err}");
    assert_eq!(printers("127.0.0.0/16").unwrap().len(), 65_534);
    let err = printers("2001:db8::/64").unwrap_err().to_string();
    assert!(err.contains("over the limit"), "{err}");
    let big = Limits { allow_large: true };
    assert_eq!(
        printers_with("127.0.0.0/15", None, big).unwrap().len(),
        131_070
    );
    let err = printers_with("127.0.0.0/7", None, big).unwrap_err();
    assert!(!err.to_string().contains("--allow-large"), "{err}");
}

#[test]
fn list_files_skip_comments_and_report_line_numbers() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().to_path_buf();
    let list = dir.join("fleet.txt");
    std::fs::write(
        &list,
        "# fleet\n\n127.0.0.1  # lobby\nprinter2\n127.0.0.0/40\n",
    )
    .unwrap();
    let err = printers_with("@fleet.txt", Some(&dir), SMALL).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("fleet.txt:5"), "{text}");
    assert!(text.contains("'127.0.0.0/40'"), "{text}");
    std::fs::write(&list, "127.0.0.1\n").unwrap();
    let read = printers_with("@fleet.txt", Some(&dir), SMALL).unwrap();
    assert_eq!(read.len(), 1);
    let missing = printers_with("@nope.txt", Some(&dir), SMALL);
    assert!(missing.unwrap_err().to_string().contains("nope.txt"));
}

#[test]
fn service_targets_take_a_port() {
    let origin = Origin::Flag("--smtp");
    let cases: &[(&str, &str, Option<u16>)] = &[
        ("mail.example.test", "mail.example.test", None),
        ("mail.example.test:2525", "mail.example.test", Some(2525)),
        ("192.0.2.1:25", "192.0.2.1", Some(25)),
        ("[2001:db8::1]:587", "2001:db8::1", Some(587)),
        ("[2001:db8::1]", "2001:db8::1", None),
    ];
    for (input, host, port) in cases {
        let target = parse_service(input, Role::Smtp, &origin).unwrap();
        assert_eq!(target.host.to_string(), *host, "{input}");
        assert_eq!(target.port, *port, "{input}");
    }
    // A bare IPv6 service is ambiguous (`::1:25`): brackets are required.
    for bare in ["2001:db8::1", "::1:25"] {
        let err = parse_service(bare, Role::Smtp, &origin).unwrap_err();
        assert!(err.to_string().contains("[ADDR]:PORT"), "{bare}: {err}");
    }
}

#[test]
fn bad_service_ports_are_named() {
    let origin = Origin::Flag("--ldap");
    for (input, reason) in [
        ("dc1:0", "port 0"),
        ("dc1:70000", "at most 65535"),
        ("dc1:ldap", "not a number"),
        ("dc1:", "empty"),
        ("[2001:db8::1]389", "':PORT'"),
    ] {
        let err = parse_service(input, Role::Ldap, &origin)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("--ldap: "), "{err}");
        assert!(err.contains(input), "{err}");
        assert!(err.contains(reason), "{input}: {err}");
    }
}

#[test]
fn last_octet_ranges_expand_and_bad_ones_are_refused() {
    let origin = Origin::Flag("--printers");
    let Item::Span(span) = parse_printer_item("127.1.2.1-40", &origin, Limits::default()).unwrap()
    else {
        panic!("a range")
    };
    assert_eq!(span.last - span.first, 39);
    for (bad, why) in [
        ("127.1.2.9-3", "smaller"),
        ("127.1.2.1-256", "last octet"),
        ("127.1.2.1-x", "last octet"),
    ] {
        let err = parse_printer_item(bad, &origin, Limits::default()).unwrap_err();
        assert!(err.to_string().contains(why), "{bad}: {err}");
        assert!(err.to_string().contains(bad), "{bad}: {err}");
    }
}
