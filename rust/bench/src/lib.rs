//! What the benchmark binaries share: argument parsing, the result line format, and process
//! figures read from `/proc`.
//!
//! Every measurement is printed as one line, `RESULT name=value name=value ...`, which
//! `cargo xtask bench` collects; the GDScript contenders print the same format.

use std::collections::HashMap;
use std::fmt::Display;
use std::fs;

/// Command-line options of the form `--name=value` (or a bare `--flag`).
pub struct Options(HashMap<String, String>);

impl Options {
    /// The options of this process.
    pub fn from_env() -> Self {
        Self(
            std::env::args()
                .skip(1)
                .filter_map(|arg| {
                    let arg = arg.strip_prefix("--")?;
                    let (name, value) = arg.split_once('=').unwrap_or((arg, ""));
                    Some((name.to_owned(), value.to_owned()))
                })
                .collect(),
        )
    }

    /// The value of `--name=value`, or `default`.
    pub fn text(&self, name: &str, default: &str) -> String {
        self.0
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }

    /// The number given as `--name=N`, or `default`. Exits with a message on a malformed one.
    pub fn number(&self, name: &str, default: usize) -> usize {
        match self.0.get(name) {
            None => default,
            Some(text) => text.parse().unwrap_or_else(|_| {
                eprintln!("--{name}={text}: not a number");
                std::process::exit(2)
            }),
        }
    }

    /// Whether `--name` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}

/// Prints one result line: `RESULT name=value ...`.
pub fn report(fields: &[(&str, &dyn Display)]) {
    let fields: Vec<String> = fields
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    println!("RESULT {}", fields.join(" "));
}

/// The value at quantile `q` (0.0–1.0) of `samples`, which it sorts.
pub fn percentile(samples: &mut [f64], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    let index = ((samples.len() - 1) as f64 * q).round() as usize;
    samples[index]
}

/// A field of `/proc/self/status` in its own unit (kB for memory, a count for `Threads`).
pub fn process_status(field: &str) -> usize {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                let rest = line.strip_prefix(field)?.strip_prefix(':')?;
                rest.split_whitespace().next()?.parse().ok()
            })
        })
        .unwrap_or(0)
}

/// Resets the process's peak resident size (`VmHWM`) to its current size.
pub fn reset_peak_rss() {
    let _ = fs::write("/proc/self/clear_refs", "5");
}

/// Raises this process's soft limit of open files to its hard limit, as the 10,000-connection
/// scenario needs (the usual soft limit is 1,024). Returns the limit now in force.
pub fn raise_open_file_limit() -> libc::rlim_t {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: both calls only read or write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            ..limit
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
            return raised.rlim_cur;
        }
    }
    limit.rlim_cur
}
