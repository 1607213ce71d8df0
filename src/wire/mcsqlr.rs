//! The SQL Server Resolution Protocol ([MC-SQLR]) spoken by the SQL Server Browser on UDP
//! 1434: which TCP port a named instance listens on. Read-only requests only:
//! `CLNT_UCAST_INST` (one instance by name) and `CLNT_UCAST_EX` (every instance of the host),
//! and the `SVR_RESP` they draw: `0x05`, a 16-bit little-endian size, then text of
//! `key;value;…;;` records (`ServerName;SQL1;InstanceName;SQLEXPRESS;IsClustered;No;
//! Version;15.0.2000.5;tcp;49712;np;\\SQL1\pipe\…;;`).
//!
//! Written by hand: the protocol is a byte and a string each way, and no crate speaks it.
//! Hostile bytes: the size is checked against what arrived, records and pairs are bounded,
//! nothing panics.

/// `CLNT_UCAST_EX`: every instance of the host.
const UCAST_EX: u8 = 0x03;
/// `CLNT_UCAST_INST`: one instance by name.
const UCAST_INST: u8 = 0x04;
/// `SVR_RESP`.
const SVR_RESP: u8 = 0x05;
/// An instance name is at most 16 characters (32 bytes with its NUL in MBCS, the protocol's
/// own bound).
pub const MAX_INSTANCE: usize = 16;
/// Instances read from one answer at most (a host has a handful; the protocol allows 64 KB).
const MAX_INSTANCES: usize = 256;

/// One instance as the Browser describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub server: String,
    pub name: String,
    pub version: Option<String>,
    /// The TCP port, when TCP/IP is enabled for the instance.
    pub tcp: Option<u16>,
    /// A `tcp` value that is no port (`0`, `abc`, `70000`), cut to 16 characters: the
    /// Browser's answer is broken, which is not "TCP/IP disabled".
    pub tcp_invalid: Option<String>,
    /// Other protocols it names (np, via, rpc, spx, adsp, bv), for the evidence.
    pub others: Vec<String>,
}

/// Why an answer was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum McSqlrError {
    #[error("not an SVR_RESP (first byte {0:#04x})")]
    NotResponse(u8),
    #[error("cut short: {have} bytes of a {want}-byte answer")]
    Truncated { have: usize, want: usize },
    #[error("empty answer")]
    Empty,
    #[error("the answer holds no instance record")]
    NoInstance,
}

/// Why an instance name cannot be asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstanceNameError {
    #[error("an instance name is 1 to {MAX_INSTANCE} characters")]
    Length,
    #[error("an instance name holds letters, digits, _, $ and # only")]
    Characters,
}

/// Checks an instance name as SQL Server accepts it: 1 to 16 letters, digits, `_`, `$`, `#`,
/// starting with a letter or `_`.
pub fn check_instance_name(name: &str) -> Result<(), InstanceNameError> {
    if name.is_empty() || name.chars().count() > MAX_INSTANCE {
        return Err(InstanceNameError::Length);
    }
    let first = name.chars().next().unwrap_or('0');
    let valid = (first.is_ascii_alphabetic() || first == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '#'));
    if valid {
        Ok(())
    } else {
        Err(InstanceNameError::Characters)
    }
}

/// `CLNT_UCAST_INST` for `instance` (a name `check_instance_name` accepted).
pub fn instance_request(instance: &str) -> Vec<u8> {
    let mut request = Vec::with_capacity(instance.len() + 2);
    request.push(UCAST_INST);
    request.extend_from_slice(instance.as_bytes());
    request.push(0);
    request
}

/// `CLNT_UCAST_EX`: the host's every instance.
pub fn every_instance_request() -> Vec<u8> {
    vec![UCAST_EX]
}

/// Reads an `SVR_RESP` into its instances.
pub fn parse_response(bytes: &[u8]) -> Result<Vec<Instance>, McSqlrError> {
    let (&kind, rest) = bytes.split_first().ok_or(McSqlrError::Empty)?;
    if kind != SVR_RESP {
        return Err(McSqlrError::NotResponse(kind));
    }
    let size = match rest {
        [low, high, ..] => usize::from(u16::from_le_bytes([*low, *high])),
        _ => {
            return Err(McSqlrError::Truncated {
                have: bytes.len(),
                want: 3,
            });
        }
    };
    let data = rest.get(2..2 + size).ok_or(McSqlrError::Truncated {
        have: bytes.len(),
        want: 3 + size,
    })?;
    // MBCS in the server's code page: the keys are ASCII, values outside it are shown lossily.
    let text = String::from_utf8_lossy(data);
    let mut instances = Vec::new();
    for record in text.split(";;").take(MAX_INSTANCES) {
        let fields: Vec<&str> = record.split(';').collect();
        let mut instance = Instance {
            server: String::new(),
            name: String::new(),
            version: None,
            tcp: None,
            tcp_invalid: None,
            others: Vec::new(),
        };
        for pair in fields.chunks(2) {
            let [key, value] = pair else { continue };
            match key.to_ascii_lowercase().as_str() {
                "servername" => instance.server = value.to_string(),
                "instancename" => instance.name = value.to_string(),
                "version" => instance.version = Some(value.to_string()),
                "tcp" => match value.trim().parse::<u16>() {
                    Ok(port) if port != 0 => instance.tcp = Some(port),
                    _ => instance.tcp_invalid = Some(value.chars().take(16).collect()),
                },
                "isclustered" => {}
                other if !other.is_empty() && instance.others.len() < 8 => {
                    instance.others.push(other.to_string());
                }
                _ => {}
            }
        }
        if !instance.name.is_empty() {
            instances.push(instance);
        }
    }
    if instances.is_empty() {
        return Err(McSqlrError::NoInstance);
    }
    Ok(instances)
}

/// An `SVR_RESP` carrying `records` (for stand-ins and tests).
pub fn response(records: &str) -> Vec<u8> {
    let data = records.as_bytes();
    let size = u16::try_from(data.len()).unwrap_or(u16::MAX);
    let mut out = vec![SVR_RESP];
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(data.get(..usize::from(size)).unwrap_or(data));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "ServerName;SQL1;InstanceName;SQLEXPRESS;IsClustered;No;Version;15.0.2000.5;\
                       tcp;49712;np;\\\\SQL1\\pipe\\MSSQL$SQLEXPRESS\\sql\\query;;\
                       ServerName;SQL1;InstanceName;MVE;IsClustered;No;Version;16.0.1000.6;\
                       np;\\\\SQL1\\pipe\\MSSQL$MVE\\sql\\query;;";

    #[test]
    fn requests_are_the_protocol_bytes() {
        assert_eq!(instance_request("MVE"), b"\x04MVE\x00");
        assert_eq!(every_instance_request(), b"\x03");
    }

    #[test]
    fn a_response_lists_instances_with_their_ports() {
        let found = parse_response(&response(TWO)).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].name, "SQLEXPRESS");
        assert_eq!(found[0].tcp, Some(49712));
        assert_eq!(found[0].version.as_deref(), Some("15.0.2000.5"));
        assert_eq!(found[1].name, "MVE");
        assert_eq!(found[1].tcp, None, "named pipes only");
        assert_eq!(found[1].others, ["np"]);
    }

    #[test]
    fn hostile_answers_are_refused() {
        let whole = response(TWO);
        assert_eq!(parse_response(&[]), Err(McSqlrError::Empty));
        assert!(matches!(
            parse_response(b"\x04abc"),
            Err(McSqlrError::NotResponse(4))
        ));
        assert!(matches!(
            parse_response(&whole[..20]),
            Err(McSqlrError::Truncated { .. })
        ));
        assert!(matches!(
            parse_response(&[5]),
            Err(McSqlrError::Truncated { .. })
        ));
        assert_eq!(
            parse_response(&response("garbage;;")),
            Err(McSqlrError::NoInstance)
        );
        assert_eq!(
            parse_response(&response("InstanceName;X;tcp;99999;;"))
                .unwrap()
                .first()
                .map(|i| i.tcp),
            Some(None),
            "a port out of range is no port"
        );
        // Invalid UTF-8 is read lossily, never a panic.
        assert!(parse_response(&[5, 4, 0, 0xff, 0xfe, b';', b';']).is_err());
    }

    #[test]
    fn instance_names_follow_sql_servers_rules() {
        for good in ["SQLEXPRESS", "MVE", "_x1", "A$B#C"] {
            assert_eq!(check_instance_name(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("", InstanceNameError::Length),
            ("ABCDEFGHIJKLMNOPQ", InstanceNameError::Length),
            ("1ABC", InstanceNameError::Characters),
            ("A B", InstanceNameError::Characters),
            ("A\\B", InstanceNameError::Characters),
        ] {
            assert_eq!(check_instance_name(bad), Err(why), "{bad}");
        }
    }
}
