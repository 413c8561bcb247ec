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
    /// More `-c` settings for the server (TLS).
    settings: String,
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
            settings: String::new(),
        };
        server.run();
        server
    }

    /// A server that accepts TCP connections over TLS only, with a certificate for
    /// `127.0.0.1` and `localhost` from a CA of its own; returns the CA's certificate (PEM).
    pub fn start_tls() -> (Postgres, Vec<u8>) {
        let mut server = Postgres::start();
        server.stop();
        let ca_key = rcgen::KeyPair::generate().expect("CA key");
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let key = rcgen::KeyPair::generate().expect("server key");
        let cert =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .expect("server params")
                .signed_by(&key, &ca_cert, &ca_key)
                .expect("server certificate");
        let data = server.dir.path().join("data");
        std::fs::write(data.join("server.crt"), cert.pem()).expect("write server.crt");
        std::fs::write(data.join("server.key"), key.serialize_pem()).expect("write server.key");
        // Over TCP, TLS or nothing.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .expect("write pg_hba.conf");
        let status = Command::new("chmod")
            .arg("600")
            .arg(data.join("server.key"))
            .status()
            .expect("chmod");
        assert!(status.success());
        if server.as_postgres {
            for file in ["server.crt", "server.key", "pg_hba.conf"] {
                chown_postgres(&data.join(file));
            }
        }
        server.settings = "-c ssl=on".to_owned();
        server.run();
        (server, ca_cert.pem().into_bytes())
    }

    /// Starts the server on its data folder and port (again, after [`Postgres::stop`]).
    pub fn run(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off {}",
            self.port,
            self.dir.path().display(),
            self.settings
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
