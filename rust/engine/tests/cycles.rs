//! 1,000 connect/echo/close cycles leave the process's threads, file descriptors and memory
//! flat. The only test in its binary, so no other test's sockets or threads are counted.

mod support;

use std::thread;
use std::time::{Duration, Instant};

use rust_websocket_engine::{Client, ConnectRequest, Event, Message};
use support::*;

/// Connect/close cycles measured.
const CYCLES: usize = 1000;
/// Cycles before the first measurement, so one-time allocations (the I/O thread, the server's
/// threads, allocator pools) do not count as a leak.
const WARM_UP_CYCLES: usize = 50;
/// Resident memory the cycles may add: the leak bound. A leak of 16 KiB per cycle (a socket
/// buffer, a connection's state) would exceed it; allocator noise stays far below.
const RSS_GROWTH_LIMIT_KIB: i64 = 16 * 1024;

/// Set (to the emulator's name) by whoever runs this test under a user-mode emulator: qemu-user
/// does not give back the memory of finished threads (about 280 KiB each, and the test server
/// starts one per connection), so the memory bound cannot hold there and is not checked.
const EMULATOR_ENV: &str = "RUST_WEBSOCKET_TEST_EMULATOR";

/// Threads, open descriptors (file descriptors; handles on Windows) and resident memory (KiB;
/// the working set on Windows) of this process.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Usage {
    threads: usize,
    fds: usize,
    rss_kib: i64,
}

#[cfg(not(windows))]
fn usage() -> Usage {
    use std::fs;
    let count = |dir: &str| fs::read_dir(dir).map(Iterator::count).unwrap_or(0);
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss_kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap_or(-1);
    Usage {
        threads: count("/proc/self/task"),
        fds: count("/proc/self/fd"),
        rss_kib,
    }
}

#[cfg(windows)]
fn usage() -> Usage {
    use windows_sys::Win32::Foundation::{CloseHandle, INVALID_HANDLE_VALUE};
    use windows_sys::Win32::System::Diagnostics::ToolHelp::{
        CreateToolhelp32Snapshot, Thread32First, Thread32Next, TH32CS_SNAPTHREAD, THREADENTRY32,
    };
    use windows_sys::Win32::System::ProcessStatus::{
        K32GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS,
    };
    use windows_sys::Win32::System::Threading::{
        GetCurrentProcess, GetCurrentProcessId, GetProcessHandleCount,
    };
    // SAFETY: plain queries about this process into owned, correctly sized structs; the
    // snapshot handle is closed before returning.
    unsafe {
        let process = GetCurrentProcess();
        let mut handles = 0u32;
        if GetProcessHandleCount(process, &mut handles) == 0 {
            handles = 0;
        }
        let mut memory: PROCESS_MEMORY_COUNTERS = std::mem::zeroed();
        memory.cb = std::mem::size_of::<PROCESS_MEMORY_COUNTERS>() as u32;
        let rss_kib = if K32GetProcessMemoryInfo(process, &mut memory, memory.cb) != 0 {
            (memory.WorkingSetSize / 1024) as i64
        } else {
            -1
        };
        let mut threads = 0;
        let snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
        if snapshot != INVALID_HANDLE_VALUE {
            let mut entry: THREADENTRY32 = std::mem::zeroed();
            entry.dwSize = std::mem::size_of::<THREADENTRY32>() as u32;
            let mut more = Thread32First(snapshot, &mut entry) != 0;
            while more {
                if entry.th32OwnerProcessID == GetCurrentProcessId() {
                    threads += 1;
                }
                more = Thread32Next(snapshot, &mut entry) != 0;
            }
            CloseHandle(snapshot);
        }
        Usage {
            threads,
            fds: handles as usize,
            rss_kib,
        }
    }
}

fn cycle(client: &mut Client, url: &str) {
    client.connect(ConnectRequest::new(url).unwrap()).unwrap();
    open(client);
    client.send(Message::from("cycle")).unwrap();
    assert_eq!(receive(client, 1), vec![Message::from("cycle")]);
    client.close(1000, "").unwrap();
    let events = poll_until(client, |event| matches!(event, Event::Closed { .. }));
    assert_eq!(events.last(), Some(&Event::Closed { clean: true }));
}

#[test]
fn a_thousand_connect_close_cycles_leave_threads_fds_and_memory_flat() {
    let url = format!("ws://{}/", echo_server());
    // A new client object for each cycle, as a game that makes one per connection would.
    for _ in 0..WARM_UP_CYCLES {
        cycle(&mut Client::default(), &url);
    }
    // The server's last session thread may still be ending: counted in `before`, which only
    // makes the check below more lenient by one.
    let before = usage();
    for _ in 0..CYCLES {
        cycle(&mut Client::default(), &url);
    }
    // Threads and descriptors must come back to where they were (the server's per-connection
    // threads and the sockets end a moment after the close); a watchdog, not a timing check.
    let started = Instant::now();
    let mut after = usage();
    while (after.threads > before.threads || after.fds > before.fds) && started.elapsed() < WATCHDOG
    {
        thread::sleep(Duration::from_millis(10));
        after = usage();
    }
    eprintln!("{CYCLES} cycles: before {before:?}, after {after:?}");
    assert!(
        after.threads <= before.threads,
        "threads grew: {before:?} → {after:?}"
    );
    assert!(
        after.fds <= before.fds,
        "file descriptors grew: {before:?} → {after:?}"
    );
    assert!(
        before.rss_kib > 0,
        "this process's resident memory was read"
    );
    if let Ok(emulator) = std::env::var(EMULATOR_ENV) {
        eprintln!("memory bound not checked: running under {emulator} ({EMULATOR_ENV})");
        return;
    }
    let growth = after.rss_kib - before.rss_kib;
    assert!(
        growth < RSS_GROWTH_LIMIT_KIB,
        "resident memory grew {growth} KiB over {CYCLES} cycles (leak bound {RSS_GROWTH_LIMIT_KIB} KiB)"
    );
}
