//! A PostgreSQL server of the test's own: `initdb` into a temporary folder, `pg_ctl start`
//! on a free loopback port, and `pg_ctl stop` when dropped. The binaries come from
//! `$CAUSEWAY_TEST_PG_BIN`, else `pg_config --bindir`, else the newest
//! `/usr/lib/postgresql/*/bin` (Debian's `postgresql` package). As root, the server runs as
//! the `postgres` user (PostgreSQL refuses to run as root).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running PostgreSQL server, stopped on drop.
#[derive(Debug)]
pub struct Postgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
}

impl Postgres {
    /// Creates and starts a server. Panics with what to install when PostgreSQL is missing.
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let as_postgres = is_root();
        let dir = tempfile::tempdir().expect("temp dir for PostgreSQL");
        if as_postgres {
            chown_postgres(dir.path());
        }
        let data = dir.path().join("data");
        let init = command(&bin, "initdb", as_postgres)
            .arg("-D")
            .arg(&data)
            .args(["-U", "causeway", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .output()
            .expect("run initdb");
        assert!(
            init.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let server = Postgres {
            bin,
            dir,
            port: free_port(),
            as_postgres,
        };
        server.run();
        server
    }

    /// Starts the server on its data folder and port (again, after [`Postgres::stop`]).
    pub fn run(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        let start = command(&self.bin, "pg_ctl", self.as_postgres)
            .arg("start")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-w", "-s", "-t", "30", "-l"])
            .arg(self.dir.path().join("log"))
            .args(["-o", &options])
            .output()
            .expect("run pg_ctl start");
        assert!(
            start.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&start.stderr),
            std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
        );
    }

    /// The URL of the server's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://causeway@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server at once (`immediate`: as if it crashed).
    pub fn stop(&self) {
        let _ = command(&self.bin, "pg_ctl", self.as_postgres)
            .arg("stop")
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "-w", "-s"])
            .output();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

fn command(bin: &Path, program: &str, as_postgres: bool) -> Command {
    if as_postgres {
        let mut command = Command::new("runuser");
        command
            .args(["-u", "postgres", "--"])
            .arg(bin.join(program));
        command
    } else {
        Command::new(bin.join(program))
    }
}

fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CAUSEWAY_TEST_PG_BIN") {
        return PathBuf::from(dir);
    }
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if output.status.success() && dir.join("initdb").exists() {
            return dir;
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).expect(
        "these tests need a PostgreSQL server: install it (apt-get install postgresql) or set \
         CAUSEWAY_TEST_PG_BIN to the folder of initdb and pg_ctl",
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
        .unwrap_or(false)
}

fn chown_postgres(dir: &Path) {
    let status = Command::new("chown")
        .arg("postgres")
        .arg(dir)
        .status()
        .expect("run chown");
    assert!(
        status.success(),
        "cannot give {} to the postgres user (does it exist? apt-get install postgresql makes it)",
        dir.display()
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}
