//! A spinner on stderr while the CLI waits for a person, only when stderr is a terminal
//! (otherwise the message is printed once, so logs stay readable).

use std::io::{IsTerminal, Write};
use std::time::Duration;

use tokio::task::JoinHandle;

/// A running spinner; `stop` clears it.
pub struct Spinner {
    task: Option<JoinHandle<()>>,
}

impl Spinner {
    /// Shows `message` with a spinner (or once, when stderr is not a terminal).
    pub fn start(message: &str) -> Spinner {
        if !std::io::stderr().is_terminal() {
            eprintln!("{message}...");
            return Spinner { task: None };
        }
        let message = message.to_owned();
        let task = tokio::spawn(async move {
            const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
            for frame in FRAMES.iter().cycle() {
                eprint!("\r{frame} {message}... ");
                let _ = std::io::stderr().flush();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Spinner { task: Some(task) }
    }

    /// Stops the spinner and clears its line.
    pub fn stop(self) {
        if let Some(task) = self.task {
            task.abort();
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }
}
