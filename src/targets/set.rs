//! The targets of a run as a lazy, deduplicated stream: CIDR ranges are kept as two numbers
//! and `@FILE` lists as a path, and both are walked when the audit runs, so a /16 or a
//! million-line list costs memory for what is in flight, not for the whole fleet.
//!
//! Duplicates are still merged. What that costs is bounded by what the user wrote, never by
//! what a range expands to: ranges are remembered as merged intervals (one entry per range
//! named), single addresses in a hash set (4 bytes an IPv4 address), and names and service
//! targets as written. An address a range yields is a duplicate when an earlier range or an
//! earlier single address holds it; a single address, when an earlier range or single does.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Lines};

use crate::platform::text::TextReader;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::parse::{Item, Span, check_list_file_as, list_line, parse_printer_item};
use super::{Host, Limits, Origin, Target, TargetError};
use crate::catalog::Role;

/// Copies standard input to a private temporary file.
fn copy_stdin() -> std::io::Result<tempfile::NamedTempFile> {
    let mut copy = tempfile::NamedTempFile::new()?;
    std::io::copy(&mut std::io::stdin().lock(), copy.as_file_mut())?;
    Ok(copy)
}

/// Where targets come from, in the order the user gave them.
#[derive(Debug, Clone)]
enum Source {
    One(Target),
    Span(Span),
    /// A list file, checked line by line when it was added and read again when iterated.
    List(PathBuf),
}

/// Every target of a run, validated, not expanded.
#[derive(Debug, Clone, Default)]
pub struct TargetSet {
    sources: Vec<Source>,
    names: BTreeSet<String>,
    roles: BTreeSet<Role>,
    limits: Limits,
    /// Standard input's list (`@-`), copied: removed when the set is dropped.
    stdin_copy: Option<std::sync::Arc<tempfile::NamedTempFile>>,
    /// Lists that held no target (`site.toml: targets.printers: @empty.txt`): named when the
    /// run would have nothing to probe.
    empty_lists: Vec<String>,
    /// Whether a target names a SQL Server instance.
    instances: bool,
}

impl TargetSet {
    pub fn new(limits: Limits) -> TargetSet {
        TargetSet {
            limits,
            ..TargetSet::default()
        }
    }

    /// Adds one `--printers` value: comma-separated hosts, addresses, CIDR ranges and `@FILE`s.
    /// `base` is the directory relative `@FILE` paths are read from (a profile's own directory).
    /// Every line of a list is checked now, so a bad line is a usage error before any probe.
    pub fn add_printers(
        &mut self,
        value: &str,
        origin: &Origin,
        base: Option<&Path>,
    ) -> Result<(), TargetError> {
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let source = match item.strip_prefix('@') {
                Some(file) => {
                    // `@-`: standard input, copied once to a private temporary file so the
                    // list streams like any other (it is read again as targets are reached).
                    let (file, shown) = if file == "-" {
                        if self.stdin_copy.is_some() {
                            return Err(TargetError::Invalid {
                                origin: origin.clone(),
                                value: item.to_string(),
                                reason: "standard input can be read once: give @- once",
                            });
                        }
                        let copy = copy_stdin().map_err(|source| TargetError::ListFile {
                            origin: origin.clone(),
                            path: "-".to_string(),
                            source,
                        })?;
                        let path = copy.path().display().to_string();
                        self.stdin_copy = Some(std::sync::Arc::new(copy));
                        (path, Some("-"))
                    } else {
                        (file.to_string(), None)
                    };
                    let names = &mut self.names;
                    let mut items = 0u64;
                    let path = check_list_file_as(
                        &file,
                        shown,
                        origin,
                        base,
                        self.limits,
                        |item: &Item| {
                            items += 1;
                            if let Item::Host(Host::Name(name)) = item {
                                names.insert(name.clone());
                            }
                        },
                    )?;
                    if items == 0 {
                        let named =
                            shown.map_or_else(|| path.display().to_string(), str::to_string);
                        self.empty_lists.push(format!("{origin}: @{named}"));
                        continue;
                    }
                    Source::List(path)
                }
                None => match parse_printer_item(item, origin, self.limits)? {
                    Item::Span(span) => Source::Span(span),
                    Item::Host(host) => {
                        if let Host::Name(name) = &host {
                            self.names.insert(name.clone());
                        }
                        Source::One(printer(host))
                    }
                },
            };
            self.sources.push(source);
            self.roles.insert(Role::Printer);
        }
        Ok(())
    }

    /// Whether a target names a SQL Server instance.
    pub fn has_instances(&self) -> bool {
        self.instances
    }

    /// Adds a service target (`--smtp mail:2525` and the like), already parsed.
    pub fn add(&mut self, target: Target) {
        self.instances |= target.instance.is_some();
        if let Host::Name(name) = &target.host {
            self.names.insert(name.clone());
        }
        self.roles.insert(target.role);
        self.sources.push(Source::One(target));
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// The lists that held no target, as the user named them.
    pub fn empty_lists(&self) -> &[String] {
        &self.empty_lists
    }

    /// The roles that have at least one target.
    pub fn roles(&self) -> &BTreeSet<Role> {
        &self.roles
    }

    /// Every distinct host name, to resolve before probing.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// Targets of one role given twice under different words for the same address
    /// (`localhost,127.0.0.1`): each pair as (first as given, second as given, the address).
    /// Both are still probed (the user named both rows); the caller notes it. One walk over
    /// the targets, and only when a name was given: memory follows the names, not the fleet.
    pub fn same_address(&self, addresses: &super::Addresses) -> Vec<(String, String, IpAddr)> {
        let mut by_address: BTreeMap<(Role, IpAddr, Option<u16>), Vec<String>> = BTreeMap::new();
        let names: HashMap<&str, IpAddr> = addresses.resolved().collect();
        if names.is_empty() {
            return Vec::new();
        }
        let wanted: HashSet<IpAddr> = names.values().copied().collect();
        for target in self.iter() {
            let addr = match &target.host {
                Host::Addr(addr) => *addr,
                Host::Name(name) => match names.get(name.as_str()) {
                    Some(addr) => *addr,
                    None => continue,
                },
            };
            if wanted.contains(&addr) {
                let given = target.to_string();
                let seen = by_address
                    .entry((target.role, addr, target.port))
                    .or_default();
                if !seen.contains(&given) {
                    seen.push(given);
                }
            }
        }
        by_address
            .into_iter()
            .flat_map(|((_, addr, _), given)| {
                let first = given[0].clone();
                given
                    .into_iter()
                    .skip(1)
                    .map(move |other| (first.clone(), other, addr))
            })
            .collect()
    }

    /// The targets, each once, in the order given; lists and ranges are read as they go.
    pub fn iter(&self) -> Targets<'_> {
        Targets {
            sources: self.sources.iter(),
            limits: self.limits,
            cursor: Cursor::Idle,
            seen: Seen::default(),
        }
    }
}

fn printer(host: Host) -> Target {
    Target::new(Role::Printer, host, None)
}

/// Where the walk stands inside the current source.
enum Cursor {
    Idle,
    Span { span: Span, next: Option<u128> },
    List(ListCursor),
}

struct ListCursor {
    lines: Lines<BufReader<TextReader<BufReader<File>>>>,
    /// A range named on the current line, being walked.
    span: Option<(Span, Option<u128>)>,
}

/// The deduplicated stream of targets.
pub struct Targets<'a> {
    sources: std::slice::Iter<'a, Source>,
    limits: Limits,
    cursor: Cursor,
    seen: Seen,
}

impl Iterator for Targets<'_> {
    type Item = Target;

    fn next(&mut self) -> Option<Target> {
        loop {
            match &mut self.cursor {
                Cursor::Idle => {
                    self.cursor = match self.sources.next()? {
                        Source::One(target) => {
                            if self.seen.first_target(target) {
                                return Some(target.clone());
                            }
                            Cursor::Idle
                        }
                        Source::Span(span) => self.seen.start_span(*span),
                        // The file was read moments ago when it was checked; if it has gone
                        // since, it adds nothing rather than stopping the run.
                        Source::List(path) => {
                            match File::open(path)
                                .and_then(|file| TextReader::new(BufReader::new(file)))
                            {
                                Ok(text) => Cursor::List(ListCursor {
                                    lines: BufReader::new(text).lines(),
                                    span: None,
                                }),
                                Err(_) => Cursor::Idle,
                            }
                        }
                    };
                }
                Cursor::Span { span, next } => {
                    let span = *span;
                    match self.seen.walk(span, next) {
                        Some(addr) => return Some(printer(Host::Addr(addr))),
                        None => {
                            self.seen.end_span(span);
                            self.cursor = Cursor::Idle;
                        }
                    }
                }
                Cursor::List(list) => {
                    if let Some((span, next)) = &mut list.span {
                        let span = *span;
                        match self.seen.walk(span, next) {
                            Some(addr) => return Some(printer(Host::Addr(addr))),
                            None => {
                                self.seen.end_span(span);
                                list.span = None;
                            }
                        }
                        continue;
                    }
                    let Some(Ok(raw)) = list.lines.next() else {
                        self.cursor = Cursor::Idle;
                        continue;
                    };
                    let Some(line) = list_line(&raw) else {
                        continue;
                    };
                    // Every line parsed when the list was added; one that no longer does (the
                    // file changed mid-run) is passed over.
                    let origin = Origin::Flag("--printers");
                    match parse_printer_item(line, &origin, self.limits) {
                        Ok(Item::Host(host)) => {
                            let target = printer(host);
                            if self.seen.first_target(&target) {
                                return Some(target);
                            }
                        }
                        Ok(Item::Span(span)) => {
                            if let Cursor::Span { span, next } = self.seen.start_span(span) {
                                list.span = Some((span, next));
                            }
                        }
                        Err(_) => {}
                    }
                }
            }
        }
    }
}

/// What the walk has already produced.
#[derive(Default)]
struct Seen {
    /// Ranges already walked, merged into disjoint intervals: (is IPv6, first) → last.
    spans: BTreeMap<(bool, u128), u128>,
    v4: HashSet<u32>,
    v6: HashSet<u128>,
    /// Names and service targets, as written.
    others: HashSet<Target>,
}

impl Seen {
    fn covered(&self, v6: bool, raw: u128) -> Option<u128> {
        let (&(family, _), &last) = self.spans.range(..=(v6, raw)).next_back()?;
        (family == v6 && last >= raw).then_some(last)
    }

    /// True the first time a target is met.
    fn first_target(&mut self, target: &Target) -> bool {
        match (target.role, &target.host, target.port) {
            (Role::Printer, Host::Addr(addr), None) => {
                let (v6, raw) = raw_addr(*addr);
                self.covered(v6, raw).is_none()
                    && match addr {
                        IpAddr::V4(v4) => self.v4.insert(u32::from(*v4)),
                        IpAddr::V6(v6) => self.v6.insert(u128::from(*v6)),
                    }
            }
            _ => self.others.insert(target.clone()),
        }
    }

    fn start_span(&self, span: Span) -> Cursor {
        // A range wholly inside ranges already walked adds nothing.
        match self.covered(span.v6, span.first) {
            Some(last) if last >= span.last => Cursor::Idle,
            _ => Cursor::Span {
                span,
                next: Some(span.first),
            },
        }
    }

    /// The next address of `span` from `next` on that no earlier source produced; `next`
    /// becomes `None` once the range is done.
    fn walk(&self, span: Span, next: &mut Option<u128>) -> Option<IpAddr> {
        while let Some(raw) = *next {
            if raw > span.last {
                break;
            }
            let after = if raw == span.last {
                None
            } else {
                raw.checked_add(1)
            };
            if let Some(last) = self.covered(span.v6, raw) {
                // Jump past an interval already walked.
                *next = if last >= span.last {
                    None
                } else {
                    last.checked_add(1)
                };
                continue;
            }
            *next = after;
            let single = if span.v6 {
                self.v6.contains(&raw)
            } else {
                self.v4.contains(&(raw as u32))
            };
            if !single {
                return Some(span.addr(raw));
            }
        }
        *next = None;
        None
    }

    /// Remembers a walked range, merging it with the intervals it touches.
    fn end_span(&mut self, span: Span) {
        let (v6, mut first, mut last) = (span.v6, span.first, span.last);
        if let Some((&(family, start), &end)) = self.spans.range(..=(v6, first)).next_back()
            && family == v6
            && end.saturating_add(1) >= first
        {
            first = start;
            last = last.max(end);
            self.spans.remove(&(v6, start));
        }
        let touching: Vec<((bool, u128), u128)> = self
            .spans
            .range((v6, first)..=(v6, last.saturating_add(1)))
            .map(|(k, v)| (*k, *v))
            .collect();
        for (key, end) in touching {
            self.spans.remove(&key);
            last = last.max(end);
        }
        self.spans.insert((v6, first), last);
    }
}

fn raw_addr(addr: IpAddr) -> (bool, u128) {
    match addr {
        IpAddr::V4(v4) => (false, u128::from(u32::from(v4))),
        IpAddr::V6(v6) => (true, u128::from(v6)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAG: Origin = Origin::Flag("--printers");

    fn hosts(values: &[&str]) -> Vec<String> {
        let mut set = TargetSet::new(Limits::default());
        for value in values {
            set.add_printers(value, &FLAG, None).unwrap();
        }
        set.iter().map(|t| t.host.to_string()).collect()
    }

    #[test]
    fn duplicates_merge_across_ranges_singles_and_lists() {
        let rows: &[(&[&str], &[&str])] = &[
            (&["192.0.2.1,192.0.2.1"], &["192.0.2.1"]),
            (&["192.0.2.2", "192.0.2.0/30"], &["192.0.2.2", "192.0.2.1"]),
            (&["192.0.2.0/30", "192.0.2.2"], &["192.0.2.1", "192.0.2.2"]),
            (
                &["192.0.2.0/30", "192.0.2.0/30"],
                &["192.0.2.1", "192.0.2.2"],
            ),
            (
                &["192.0.2.4/31", "192.0.2.0/29"],
                &[
                    "192.0.2.4",
                    "192.0.2.5",
                    "192.0.2.1",
                    "192.0.2.2",
                    "192.0.2.3",
                    "192.0.2.6",
                ],
            ),
            (&["a.test", "a.test", "b.test"], &["a.test", "b.test"]),
            (
                &["2001:db8::/127", "2001:db8::1"],
                &["2001:db8::", "2001:db8::1"],
            ),
        ];
        for (input, want) in rows {
            assert_eq!(hosts(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn a_range_inside_one_already_walked_adds_nothing() {
        let all = hosts(&["127.9.0.0/16", "127.9.4.0/24", "127.9.4.7"]);
        assert_eq!(all.len(), 65_534);
        assert_eq!(all.iter().collect::<HashSet<_>>().len(), 65_534);
    }

    #[test]
    fn lists_are_read_lazily_and_merged_with_the_rest() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().to_path_buf();
        let list = dir.join("fleet.txt");
        std::fs::write(
            &list,
            "# fleet\n127.8.0.1\n127.8.0.0/30 # two\nprinter.test\n127.8.0.1\n",
        )
        .unwrap();
        let mut set = TargetSet::new(Limits::default());
        set.add_printers("127.8.0.2", &FLAG, None).unwrap();
        set.add_printers("@fleet.txt", &FLAG, Some(&dir)).unwrap();
        assert_eq!(set.names().collect::<Vec<_>>(), ["printer.test"]);
        let all: Vec<String> = set.iter().map(|t| t.host.to_string()).collect();
        assert_eq!(all, ["127.8.0.2", "127.8.0.1", "printer.test"]);
        // A second walk gives the same targets: nothing was consumed.
        assert_eq!(set.iter().count(), 3);
    }

    #[test]
    fn a_name_and_an_address_of_one_host_are_noted() {
        let mut set = TargetSet::new(Limits::default());
        set.add_printers(
            "printer.test,192.0.2.7,192.0.2.0/29,other.test",
            &FLAG,
            None,
        )
        .unwrap();
        let addresses = crate::targets::Addresses::from_pairs([
            ("printer.test", "192.0.2.7".parse().unwrap()),
            ("other.test", "198.51.100.1".parse().unwrap()),
        ]);
        let pairs = set.same_address(&addresses);
        assert_eq!(
            pairs,
            [(
                "printer.test".to_string(),
                "192.0.2.7".to_string(),
                "192.0.2.7".parse().unwrap()
            )]
        );
        // Both are still rows: two names, the literal, the /29's six hosts (its .7 is the
        // broadcast address, so the literal is not inside it).
        assert_eq!(set.iter().count(), 9);
    }

    #[test]
    fn services_keep_their_role_and_port() {
        let mut set = TargetSet::new(Limits::default());
        set.add_printers("192.0.2.1", &FLAG, None).unwrap();
        let smtp = Target::new(
            Role::Smtp,
            Host::Addr("192.0.2.1".parse().unwrap()),
            Some(2525),
        );
        set.add(smtp.clone());
        set.add(smtp);
        let all: Vec<Target> = set.iter().collect();
        assert_eq!(all.len(), 2, "same address, another role: both kept once");
        assert_eq!(set.roles().len(), 2);
    }
}
