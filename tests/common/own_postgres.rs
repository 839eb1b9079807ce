//! A PostgreSQL cluster of the test's own, in a temp dir, that the test may stop and start
//! again without touching the server the rest of the suite shares.

use std::path::PathBuf;
use std::process::Command;

use tempfile::TempDir;

pub struct OwnPostgres {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
}

impl OwnPostgres {
    /// Creates and starts the cluster; PostgreSQL's programs must be installed
    /// (`scripts/test` installs Debian's postgresql).
    pub fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("Debian's postgresql is installed (scripts/test installs it)")
            .filter_map(Result::ok)
            .map(|entry| entry.path().join("bin"))
            .max()
            .expect("a PostgreSQL version");
        let dir = TempDir::new().unwrap();
        if running_as_root() {
            // PostgreSQL refuses to run as root; the package's postgres user runs it.
            Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
        }
        let cluster = Self {
            dir,
            bin,
            port: super::process::free_port(),
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &["-D", &data, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        );
        cluster.start_again();
        cluster
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// A clean stop, as an operator's restart or a failover does it: connections are closed.
    pub fn stop(&self) {
        let data = self.data();
        self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
    }

    pub fn start_again(&self) {
        let data = self.data();
        let log = self.dir.path().join("server.log").display().to_string();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-w", "-o", &options, "start"],
        );
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let mut command = if running_as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        let output = command.args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let data = self.data();
        let _ = std::panic::catch_unwind(|| {
            self.run("pg_ctl", &["-D", &data, "-m", "immediate", "stop"])
        });
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}
