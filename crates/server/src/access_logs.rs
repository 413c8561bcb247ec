//! Stage access logs on disk: one file per destination under `{data_dir}/access-logs/`,
//! written by a thread of its own so that requests never wait on the disk.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError};
use std::time::Duration;

use causeway_gateway::AccessLogSink;

/// Lines waiting for the writer; past this, lines are dropped (and counted).
const QUEUE: usize = 65_536;

/// How long lines may wait before they reach the file.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// The sink the gateway writes to.
#[derive(Debug)]
pub struct FileAccessLogs {
    queue: SyncSender<(Box<str>, String)>,
    dropped: AtomicU64,
}

impl FileAccessLogs {
    /// Starts the writer thread for files in `dir`.
    pub fn start(dir: PathBuf) -> std::io::Result<FileAccessLogs> {
        let (queue, lines) = std::sync::mpsc::sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("access-logs".into())
            .spawn(move || write_lines(&dir, &lines))?;
        Ok(FileAccessLogs {
            queue,
            dropped: AtomicU64::new(0),
        })
    }
}

impl AccessLogSink for FileAccessLogs {
    fn write(&self, destination: &str, line: String) {
        match self.queue.try_send((destination.into(), line)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if dropped.is_power_of_two() {
                    tracing::warn!(
                        dropped,
                        "access log lines dropped: the disk does not keep up"
                    );
                }
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// The file a destination's lines go to: its name with every character but letters, digits,
/// `.`, `-` and `_` made `_` (`/aws/apigateway/shop` → `_aws_apigateway_shop.log`).
pub fn file_name(destination: &str) -> String {
    let name: String = destination
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // Never `.` or `..`, nor a hidden file.
    format!("{}.log", name.replace("..", "__").trim_start_matches('.'))
}

/// Writes what the queue holds every [`FLUSH_EVERY`], in one go: the writer never wakes per
/// line, so a busy gateway does not pay a thread switch for each request it logs. While the
/// queue is empty the writer sleeps on it, so an idle gateway (or one with no access log)
/// does not wake it; the first line then waits at most [`FLUSH_EVERY`] for the file.
fn write_lines(dir: &Path, lines: &Receiver<(Box<str>, String)>) {
    let mut files: HashMap<Box<str>, BufWriter<File>> = HashMap::new();
    while let Ok((destination, line)) = lines.recv() {
        write_line(dir, &mut files, destination, &line);
        std::thread::sleep(FLUSH_EVERY);
        loop {
            match lines.try_recv() {
                Ok((destination, line)) => write_line(dir, &mut files, destination, &line),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    flush(&mut files);
                    return;
                }
            }
        }
        flush(&mut files);
    }
}

fn write_line(
    dir: &Path,
    files: &mut HashMap<Box<str>, BufWriter<File>>,
    destination: Box<str>,
    line: &str,
) {
    if !files.contains_key(&destination) {
        match open(dir, &destination) {
            Ok(file) => {
                files.insert(destination.clone(), BufWriter::with_capacity(1 << 16, file));
            }
            Err(error) => {
                tracing::error!(%destination, %error, "cannot open the access log file; line dropped");
                return;
            }
        }
    }
    if let Some(file) = files.get_mut(&destination)
        && let Err(error) = writeln!(file, "{line}")
    {
        tracing::error!(%destination, %error, "cannot write the access log");
        files.remove(&destination);
    }
}

fn open(dir: &Path, destination: &str) -> std::io::Result<File> {
    std::fs::create_dir_all(dir)?;
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(file_name(destination)))
}

fn flush(files: &mut HashMap<Box<str>, BufWriter<File>>) {
    files.retain(|destination, file| match file.flush() {
        Ok(()) => true,
        Err(error) => {
            tracing::error!(%destination, %error, "cannot write the access log");
            false
        }
    });
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn destinations_become_plain_file_names() {
        assert_eq!(
            file_name("/aws/apigateway/shop"),
            "_aws_apigateway_shop.log"
        );
        assert_eq!(file_name("access"), "access.log");
        assert_eq!(file_name(".."), "__.log");
        assert_eq!(file_name("../../etc/x"), "______etc_x.log");
        assert_eq!(file_name(".hidden"), "hidden.log");
    }

    /// How many times a thread of this process has been switched out, from `/proc`.
    #[cfg(target_os = "linux")]
    fn switches(tid: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status"))
            .expect("the thread's status");
        status
            .lines()
            .filter(|l| {
                l.starts_with("voluntary_ctxt_switches")
                    || l.starts_with("nonvoluntary_ctxt_switches")
            })
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_writer_sleeps_until_a_line_comes_then_writes_it_within_the_flush_interval() {
        let dir = std::env::temp_dir().join(format!(
            "causeway-access-logs-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        let (queue, lines) = std::sync::mpsc::sync_channel(16);
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        let writer = std::thread::spawn({
            let dir = dir.clone();
            move || {
                // `/proc/thread-self` names this thread: `{pid}/task/{tid}`.
                let me = std::fs::read_link("/proc/thread-self").expect("thread-self");
                let tid = me
                    .file_name()
                    .expect("a tid")
                    .to_string_lossy()
                    .into_owned();
                tid_tx.send(tid).expect("the test waits");
                write_lines(&dir, &lines);
            }
        });
        let tid = tid_rx.recv().expect("the writer's id");
        // Settled on the empty queue, the writer is not switched in again while nothing comes
        // (a writer that polled every FLUSH_EVERY would be, three or four times).
        std::thread::sleep(Duration::from_millis(50));
        let before = switches(&tid);
        std::thread::sleep(FLUSH_EVERY * 4);
        assert_eq!(switches(&tid), before, "the idle writer woke");

        let sent = std::time::Instant::now();
        queue
            .send(("/aws/apigateway/shop".into(), "first line".to_owned()))
            .expect("the writer runs");
        let file = dir.join("_aws_apigateway_shop.log");
        while std::fs::read_to_string(&file).unwrap_or_default() != "first line\n" {
            assert!(
                sent.elapsed() < FLUSH_EVERY * 10,
                "the line never reached the file"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        queue
            .send(("/aws/apigateway/shop".into(), "last line".to_owned()))
            .expect("the writer runs");
        drop(queue);
        writer
            .join()
            .expect("the writer ends when the queue closes");
        assert_eq!(
            std::fs::read_to_string(&file).expect("the log"),
            "first line\nlast line\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
