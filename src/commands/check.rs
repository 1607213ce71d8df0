//! `mve-audit check`: configuration → plan → engine → sink → report, streaming.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, IsTerminal};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc;

use super::output::Output;
use super::{Outcome, RunError, runtime, wants_color};
use crate::catalog::CheckId;
use crate::cli::{CheckArgs, CheckConfig, build_config};
use crate::engine::Timing;
use crate::engine::estimate::{self, Estimate};
use crate::engine::{self, Event, Job, Plan, Work, build_plan};
use crate::platform::signals::Interrupt;
use crate::probes::NetworkProber;
use crate::report::{
    self, Collector, DryRun, DryRunCheck, ListedTarget, Sink, Streamer, Style, Summary,
};
use crate::results::{Done, Evidence, Finding, SecondLook, State, Verdict};
use crate::targets::{self, TargetSet};
use crate::transport;

/// How long one name may take to resolve.
const RESOLVE_LIMIT: Duration = Duration::from_secs(10);
/// Names resolved at once.
const RESOLVE_PARALLEL: usize = 32;

pub fn check(args: &CheckArgs) -> Result<Outcome, RunError> {
    check_recorded(args, None)
}

/// The states each finished cell had, for a caller that checks them (the demo).
pub(crate) type Record = RefCell<Vec<(CheckId, State)>>;

/// `check`, noting each finished cell's check and state in `record`.
pub(crate) fn check_recorded(
    args: &CheckArgs,
    record: Option<&Record>,
) -> Result<Outcome, RunError> {
    let config = build_config(args)?;
    if !config.quiet {
        for note in &config.notes {
            eprintln!("mve-audit: note: {note}");
        }
    }
    for check in &config.inbound_requested {
        eprintln!(
            "mve-audit: '{check}' is an inbound path (toward this server): `check` cannot probe it"
        );
    }
    // Before sizing the slots: the descriptors a fleet run needs, as many as the system allows.
    let fd_limit = transport::sys::raise_fd_limit();
    let plan = build_plan(&config.targets, &config.selected, &config.ports);
    let timing = config.probe.timing;
    let slots = estimate::slots(&plan.columns, timing, fd_limit, config.concurrency);
    let list = match (config.dry_run, config.verbose) {
        (false, _) => 0,
        (true, 0) => report::LISTED,
        (true, _) => report::LISTED_VERBOSE,
    };
    let Counted {
        rows: targets,
        per_check: probes,
        listed,
    } = count(&plan, &config.targets, list);
    // The configuration refuses a selection with nothing to probe; should a plan still come
    // out empty, no audit happened, and that is never a pass.
    if plan.columns.is_empty() || probes.iter().all(|(_, n)| *n == 0) {
        eprintln!("mve-audit: nothing to check: no selected check applies to the targets given");
        return Ok(Outcome::Usage);
    }
    let estimate = Estimate::new(targets, &probes, timing, slots);
    let mut dry_run = dry_run_of(&estimate, &probes, timing, fd_limit);
    dry_run.listed = listed;
    if config.verbose >= 1 {
        eprintln!("mve-audit: settings (value, and where it came from):");
        for setting in &config.settings {
            eprintln!("  {setting}");
        }
        eprintln!(
            "  {:<17} {:<28} (from the rate, the waits and the open-file limit)",
            "slots", slots
        );
    }
    if config.dry_run {
        // The plan goes where the report would have gone.
        let mut out = Output::open(config.output.as_deref())?;
        config.format.render_dry_run(&dry_run, &mut out)?;
        out.finish()?;
        return Ok(Outcome::Passed);
    }
    if (estimate.probes >= LARGE_RUN && !config.quiet) || config.verbose >= 1 {
        let line = report::estimate_line(&dry_run);
        eprintln!("mve-audit: {line}");
    }
    let sizes = Sizes {
        rows: targets,
        probes: estimate.probes,
    };
    let (summary, interrupted) = probe_and_report(&config, &plan, slots, sizes, record)?;
    if let Some(signal) = interrupted {
        eprintln!("mve-audit: interrupted by {signal}: the report is partial");
        return Ok(Outcome::Interrupted(signal));
    }
    let failed = [(Verdict::Fail, summary.fail), (Verdict::Warn, summary.warn)]
        .into_iter()
        .any(|(verdict, cells)| cells > 0 && verdict.fails_run(config.fail_on));
    Ok(Outcome::of_run(failed))
}

/// Probes, streaming each cell (jsonl, csv) or collecting them for the matrix (the others);
/// the summary, and the signal that cut the run short if one did.
fn probe_and_report(
    config: &CheckConfig,
    plan: &Plan,
    slots: usize,
    sizes: Sizes,
    record: Option<&Record>,
) -> Result<(Summary, Option<Interrupt>), RunError> {
    let out = Output::open(config.output.as_deref())?;
    let terminal = out.is_terminal();
    let size = if terminal {
        super::terminal_size()
    } else {
        None
    };
    let started = Instant::now();
    let runtime = runtime()?;
    let progress = Progress::new(sizes.probes, config.quiet, config.verbose);
    if let Some(stream) = config.format.stream() {
        let mut streamer = Streamer::new(stream, &config.promoted, config.vantage.as_deref(), out)?;
        let mut sink = Recorded {
            inner: &mut streamer,
            record,
        };
        let interrupted =
            runtime.block_on(audit(config, plan, slots, sizes, &progress, &mut sink))?;
        let summary = streamer.summary();
        streamer.finish(started.elapsed(), interrupted)?.finish()?;
        return Ok((summary, interrupted));
    }
    let mut out = out;
    let mut collector = Collector::new(
        &plan.columns,
        &config.promoted,
        config.format.keep(config.details),
    );
    let mut sink = Recorded {
        inner: &mut collector,
        record,
    };
    let interrupted = runtime.block_on(audit(config, plan, slots, sizes, &progress, &mut sink))?;
    let mut matrix = collector
        .finish(started.elapsed(), interrupted)
        .with_vantage(config.vantage.as_deref());
    let summary = matrix.summary();
    if config.failures_only {
        matrix = matrix.failures_only();
    }
    let style = Style {
        color: wants_color(config.color, terminal),
        terminal,
        details: config.details,
        ..super::terminal_style(&matrix, size, config.summary)
    };
    matrix.render(config.format, style, &mut out)?;
    out.finish()?;
    Ok((summary, interrupted))
}

/// Runs at or over this many probes print their estimate on stderr before they start.
const LARGE_RUN: u64 = 5_000;

/// Targets, and probes per check, of a run: one walk over the targets, no name resolved.
/// The first `list` rows are kept for the dry run to name.
fn count(plan: &Plan, targets: &TargetSet, list: usize) -> Counted {
    let mut per_check: Vec<(CheckId, u64)> = plan.columns.iter().map(|c| (*c, 0)).collect();
    let mut rows = 0;
    let mut listed = Vec::new();
    for target in targets.iter() {
        let mut any = false;
        for (check, n) in &mut per_check {
            if crate::engine::applies(*check, &target) {
                *n += 1;
                any = true;
            }
        }
        rows += u64::from(any);
        if any && listed.len() < list {
            listed.push(ListedTarget {
                role: target.role.to_string(),
                target: target.to_string(),
            });
        }
    }
    Counted {
        rows,
        per_check,
        listed,
    }
}

/// What one walk over the targets counted.
struct Counted {
    rows: u64,
    per_check: Vec<(CheckId, u64)>,
    listed: Vec<ListedTarget>,
}

/// The engine's estimate as the dry run shows it.
fn dry_run_of(
    estimate: &Estimate,
    probes: &[(CheckId, u64)],
    timing: Timing,
    fd_limit: Option<u64>,
) -> DryRun {
    DryRun {
        targets: estimate.targets,
        probes: estimate.probes,
        packets_at_most: estimate.packets,
        rate_pps: timing.rate,
        slots: estimate.slots,
        fd_limit,
        longest_wait: estimate.longest_wait,
        estimated_seconds: estimate.seconds,
        checks: probes
            .iter()
            .map(|(check, n)| {
                let cost = estimate::cost(*check, timing);
                DryRunCheck {
                    check: *check,
                    probes: *n,
                    packets_each: cost.packets,
                    wait: cost.wait,
                }
            })
            .collect(),
        listed: Vec::new(),
    }
}

/// A sink that notes each cell's check and state before passing it on.
struct Recorded<'a> {
    inner: &'a mut dyn Sink,
    record: Option<&'a Record>,
}

impl Sink for Recorded<'_> {
    fn cell(&mut self, done: Done) -> io::Result<()> {
        if let Some(record) = self.record {
            record.borrow_mut().push((done.check, done.finding.state));
        }
        self.inner.cell(done)
    }

    fn summary(&self) -> Summary {
        self.inner.summary()
    }
}

/// How big a run is: its rows (targets with a column) and its probes.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    rows: u64,
    probes: u64,
}

/// Which planned cells finished: one bit per row and column, so a cut-short run can name
/// every cell that did not. A bit per cell is 125 KB for a million probes; the cells
/// themselves are never kept for it.
struct Finished {
    columns: Vec<CheckId>,
    bits: Vec<u64>,
}

impl Finished {
    fn new(rows: u64, columns: &[CheckId]) -> Finished {
        let cells = usize::try_from(rows)
            .unwrap_or(usize::MAX)
            .saturating_mul(columns.len());
        Finished {
            columns: columns.to_vec(),
            bits: vec![0; cells.div_ceil(64)],
        }
    }

    fn at(&self, row: usize, check: CheckId) -> Option<(usize, u64)> {
        let column = self.columns.iter().position(|c| *c == check)?;
        let bit = row.checked_mul(self.columns.len())?.checked_add(column)?;
        Some((bit / 64, 1 << (bit % 64)))
    }

    fn mark(&mut self, row: usize, check: CheckId) {
        if let Some((word, mask)) = self.at(row, check)
            && let Some(bits) = self.bits.get_mut(word)
        {
            *bits |= mask;
        }
    }

    fn has(&self, row: usize, check: CheckId) -> bool {
        self.at(row, check)
            .and_then(|(word, mask)| self.bits.get(word).map(|bits| bits & mask != 0))
            .unwrap_or(false)
    }
}

/// Second looks: on a path that loses packets, a silent cell (a TCP connect unanswered, a
/// datagram without reply) on a host that answered on another path is probed once more
/// before its silence is believed, since a lost packet looks just like a firewall.
///
/// - A host that answered nothing is never probed again: dark hosts cost what they did.
/// - The run knows the path loses packets when an answer needed a retry (a reply to a
///   second or third datagram, a connect answered only after the kernel's SYN
///   retransmission), which on a lossy path shows within the first second or two, before
///   any silence is final. Until then a silent cell goes out at once, so a clean network
///   (and a dark fleet's first line) pays nothing.
/// - On a lossy path a silent cell waits for the rest of its row (rows finish in the order
///   of the plan, so what waits is bounded by the rows in flight), then goes out, or is
///   asked again when the host answered.
struct SecondLooks<'p> {
    plan: &'p Plan,
    /// Dropped once nothing more will be asked, which ends the engine's run.
    again: Option<mpsc::UnboundedSender<Job>>,
    rows: HashMap<usize, RowWait>,
    /// Silent cells whose second look is out, by row and check.
    asked: HashMap<(usize, CheckId), Done>,
    /// Whether an answer has shown that packets are lost on the way.
    lossy: bool,
}

/// A connect answered this late was answered to a retransmitted SYN (Linux and Windows
/// retransmit the first after a second).
const RETRANSMITTED_SYN: f64 = 900.0;

/// A row whose cells are still coming in.
#[derive(Default)]
struct RowWait {
    remaining: usize,
    answered: bool,
    silent: Vec<(Done, Job)>,
}

/// A path that got no answer at all: no reply, no reset, no ICMP error.
fn silent(finding: &Finding) -> bool {
    match finding.state {
        State::OpenFiltered => true,
        State::Filtered => finding.evidence.errno.is_none() && finding.evidence.icmp.is_none(),
        _ => false,
    }
}

/// The host itself answered on this path (a reset and a port unreachable count).
fn answered(finding: &Finding) -> bool {
    matches!(finding.state, State::Verified | State::Open | State::Closed)
}

/// An answer that came only after a retry: a datagram answered after the first, or a
/// connect answered after the retransmitted SYN.
fn shows_loss(done: &Done) -> bool {
    let evidence = &done.finding.evidence;
    answered(&done.finding)
        && (evidence.attempts.is_some_and(|n| n > 1)
            || (done.check.path().transport == crate::catalog::Transport::Tcp
                && evidence.rtt_ms.is_some_and(|ms| ms >= RETRANSMITTED_SYN)))
}

impl<'p> SecondLooks<'p> {
    fn new(plan: &'p Plan, again: mpsc::UnboundedSender<Job>) -> SecondLooks<'p> {
        SecondLooks {
            plan,
            again: Some(again),
            rows: HashMap::new(),
            asked: HashMap::new(),
            lossy: false,
        }
    }

    /// A finished cell in; the cells ready for the report out.
    fn take(&mut self, mut done: Done, job: Option<Job>) -> Vec<Done> {
        if job.as_ref().is_some_and(|j| j.again) {
            let Some(first) = self.asked.remove(&(done.row, done.check)) else {
                return vec![done];
            };
            return vec![if silent(&done.finding) {
                let mut first = first;
                first.finding.second_look = Some(SecondLook::SilentAgain);
                first
                    .finding
                    .evidence
                    .notes
                    .push("probed a second time: silent again".into());
                first
            } else {
                done.finding.second_look = Some(SecondLook::Answered);
                done.finding.evidence.notes.push(format!(
                    "silent at first ({}), answered a second probe: packets were lost on the way",
                    first.finding.evidence.summary
                ));
                done
            }];
        }
        let mut ready = Vec::new();
        self.lossy |= shows_loss(&done);
        let row = done.row;
        // A row's cells: its target's checks (a job knows its target; an unresolved row's
        // cells are never held, so its count only needs to be an upper bound).
        let cells = match &job {
            Some(job) => self.plan.checks_for(&job.row.target).count(),
            None => self.plan.columns.len(),
        };
        let wait = self.rows.entry(row).or_insert_with(|| RowWait {
            remaining: cells,
            ..RowWait::default()
        });
        wait.remaining = wait.remaining.saturating_sub(1);
        wait.answered |= answered(&done.finding);
        match job {
            Some(job) if self.lossy && silent(&done.finding) => wait.silent.push((done, job)),
            _ => ready.push(done),
        }
        if wait.remaining == 0
            && let Some(wait) = self.rows.remove(&row)
        {
            ready.extend(self.settle(wait));
        }
        ready
    }

    /// Sends a second look for `first`, keeping the cell until its answer; hands the cell
    /// back when no more can be asked.
    fn ask(&mut self, first: Done, mut job: Job) -> Option<Done> {
        match &self.again {
            Some(again) => {
                job.again = true;
                let _ = again.send(job);
                self.asked.insert((first.row, first.check), first);
                None
            }
            None => Some(first),
        }
    }

    /// A finished row: its silent cells go out, or are asked again when the host answered.
    fn settle(&mut self, wait: RowWait) -> Vec<Done> {
        let mut ready = Vec::new();
        for (done, job) in wait.silent {
            if wait.answered {
                ready.extend(self.ask(done, job));
            } else {
                ready.push(done);
            }
        }
        ready
    }

    /// The engine has nothing left: settle every row still open (a plan that changed under
    /// us); the run ends once no second look is out.
    fn idle(&mut self) -> Vec<Done> {
        let rows: Vec<RowWait> = self.rows.drain().map(|(_, wait)| wait).collect();
        let ready: Vec<Done> = rows.into_iter().flat_map(|w| self.settle(w)).collect();
        if self.asked.is_empty() {
            self.again = None;
        }
        ready
    }
}

/// Resolve, plan, probe: everything between the configuration and the report. Each finished
/// cell goes to `sink` as it arrives; a sink that cannot write (a closed pipe) stops the run.
/// A signal stops it too, and then every planned cell that did not finish goes to `sink` as
/// `unfinished`, so each format shows what was not probed.
async fn audit(
    config: &CheckConfig,
    plan: &Plan,
    slots: usize,
    sizes: Sizes,
    progress: &Progress,
    sink: &mut dyn Sink,
) -> io::Result<Option<Interrupt>> {
    let addresses =
        targets::resolve_names(config.targets.names(), RESOLVE_PARALLEL, RESOLVE_LIMIT).await;
    if !config.quiet {
        for (first, second, addr) in config.targets.same_address(&addresses) {
            progress.println(format!(
                "mve-audit: note: '{first}' and '{second}' are the same host ({addr}): each \
                 is probed and has its own row; give one of them to probe it once"
            ));
        }
    }
    let finished = RefCell::new(Finished::new(sizes.rows, &plan.columns));
    let interrupted = {
        let work = plan.work(plan.rows(config.targets.iter(), &addresses));
        let prober = Arc::new(NetworkProber::new(config.probe.clone()));
        let (events, mut received) = mpsc::channel(256);
        let (again, second_looks) = mpsc::unbounded_channel();
        let engine = engine::run_with_again(work, second_looks, prober, slots, events);
        let verbose = config.verbose >= 2;
        let sink = &mut *sink;
        let finished = &finished;
        let consume = async move {
            let mut looks = SecondLooks::new(plan, again);
            while let Some(event) = received.recv().await {
                let ready = match *event {
                    Event::Cell { done, job } => {
                        if !job.as_ref().is_some_and(|j| j.again) {
                            progress
                                .tick(matches!(done.finding.state, State::Open | State::Verified));
                        }
                        looks.take(done, job)
                    }
                    Event::Idle => looks.idle(),
                };
                for done in ready {
                    if verbose {
                        progress.println(format!(
                            "{} {} {}/{}: {} — {}",
                            done.label,
                            done.check,
                            done.check.path().transport,
                            done.port,
                            done.finding.state,
                            crate::report::visible(&done.finding.evidence.summary)
                        ));
                    }
                    finished.borrow_mut().mark(done.row, done.check);
                    if let Err(err) = sink.cell(done) {
                        progress.finish();
                        // Dropping the receiver tells the engine to stop.
                        return Err(err);
                    }
                }
            }
            progress.finish();
            Ok(())
        };
        // A signal drops the engine (and with it every probe in flight) and the consumer;
        // what reached the sink is the partial report.
        tokio::select! {
            ((), consumed) = async { tokio::join!(engine, consume) } => consumed.map(|()| None)?,
            signal = crate::platform::signals::interrupted() => {
                progress.finish();
                Some(signal)
            }
        }
    };
    if let Some(signal) = interrupted {
        let finished = finished.into_inner();
        let why = format!("not finished: the run was interrupted by {signal}");
        for item in plan.work(plan.rows(config.targets.iter(), &addresses)) {
            let (row, check, port) = match &item {
                Work::Probe(job) => (&job.row, job.check, job.peer.port()),
                Work::Unresolved { row, check, port } => (row, *check, *port),
            };
            if !finished.has(row.index, check) {
                let unfinished = Finding::new(State::Unfinished, Evidence::new(why.clone()));
                sink.cell(row.done(check, port, unfinished))?;
            }
        }
    }
    Ok(interrupted)
}

/// A progress bar on stderr with the rate and time left: only when stderr is a terminal,
/// never under `CI` or `--quiet`, and redrawn at most 10 times a second.
pub(crate) struct Progress {
    bar: ProgressBar,
    done: std::cell::Cell<u64>,
    answered: std::cell::Cell<u64>,
    /// When the bar was last redrawn: indicatif's own limit lets a burst through.
    drawn: std::cell::Cell<Option<std::time::Instant>>,
}

/// How often the bar may redraw.
const PROGRESS_HZ: u8 = 10;

impl Progress {
    fn new(total: u64, quiet: bool, verbose: u8) -> Progress {
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
        let shown = io::stderr().is_terminal() && !quiet && !ci && verbose < 2;
        let bar = if shown {
            let bar = ProgressBar::with_draw_target(
                Some(total),
                ProgressDrawTarget::stderr_with_hz(PROGRESS_HZ),
            );
            // A narrow terminal (a split pane, a phone) gets a bar that fits its width.
            let narrow = super::terminal_size_of_stderr().is_some_and(|width| width < 80);
            let template = if narrow {
                "{wide_bar} {pos}/{len}"
            } else {
                "{bar:30} {pos}/{len} probes · {eta} left · {msg}"
            };
            let style = ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        } else {
            ProgressBar::hidden()
        };
        Progress {
            bar,
            done: std::cell::Cell::new(0),
            answered: std::cell::Cell::new(0),
            drawn: std::cell::Cell::new(None),
        }
    }

    fn tick(&self, answered: bool) {
        self.done.set(self.done.get() + 1);
        self.answered.set(self.answered.get() + u64::from(answered));
        let due = self
            .drawn
            .get()
            .is_none_or(|at| at.elapsed() >= Duration::from_millis(1000 / u64::from(PROGRESS_HZ)));
        if due && !self.bar.is_hidden() {
            self.drawn.set(Some(std::time::Instant::now()));
            self.bar
                .set_message(format!("{} answered", self.answered.get()));
            self.bar.set_position(self.done.get());
        }
    }

    /// A line on stderr above the bar (or alone without one).
    fn println(&self, line: String) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
