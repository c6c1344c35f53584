//! Load spread over several generator processes. One process may hold at most 20,000 open
//! files here, and one source address has a limited range of ports, so a scenario starts
//! copies of this binary (hidden `*-worker` subcommands), each connecting from its own source
//! address, and talks to them over their standard input and output, one line at a time.

use crate::target::TargetArgs;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// A generator process started by this one.
pub struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Worker {
    /// Starts this binary with `args` (a worker subcommand and its options).
    pub fn spawn(args: &[String]) -> Result<Worker, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start a worker: {e}"))?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().ok_or("worker without stdout")?).lines();
        Ok(Worker {
            child,
            stdin,
            stdout,
        })
    }

    /// Sends one line to the worker.
    pub async fn send(&mut self, line: &str) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("the worker's input is closed")?;
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .map_err(|e| format!("cannot talk to a worker: {e}"))
    }

    /// Reads the worker's next line; an error when it exited.
    pub async fn receive(&mut self) -> Result<String, String> {
        match self.stdout.next_line().await {
            Ok(Some(line)) => Ok(line),
            Ok(None) => {
                let status = self.child.wait().await.map_err(|e| e.to_string())?;
                Err(format!("a worker exited ({status})"))
            }
            Err(error) => Err(format!("cannot read from a worker: {error}")),
        }
    }

    /// Closes the worker's input, which tells it to finish, and waits for it to exit.
    pub async fn finish(mut self) {
        self.stdin = None;
        let _ = self.child.wait().await;
    }
}

/// Splits `total` into `parts` shares that differ by at most one.
pub fn share(total: usize, parts: usize, index: usize) -> usize {
    total * (index + 1) / parts - total * index / parts
}

/// The start of worker `index`'s command line: its subcommand, where it connects, and the
/// source address it connects from (the sources taken in turn).
pub fn command_line(
    subcommand: &str,
    target: &TargetArgs,
    sources: &[String],
    index: usize,
) -> Vec<String> {
    let mut command = vec![subcommand.to_string()];
    command.extend(target.to_args());
    command.extend(["--source".into(), sources[index % sources.len()].clone()]);
    command
}

/// The standard input of a worker, read line by line.
pub fn commands() -> Lines<BufReader<tokio::io::Stdin>> {
    BufReader::new(tokio::io::stdin()).lines()
}

/// Writes one line to the parent on standard output, at once.
pub fn reply(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
