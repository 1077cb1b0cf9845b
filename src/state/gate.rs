//! The import gate: at most one import per unit and [`IMPORTS_AT_ONCE`] in all; memory handed
//! back to the system when the last one ends.

use crate::error::{AppError, AppResult};

/// Imports running at once in the whole service; one more is refused at once with 503.
pub const IMPORTS_AT_ONCE: usize = 2;

/// Seconds a refused import is told to wait (`Retry-After`).
pub const IMPORT_RETRY_SECONDS: u64 = 10;

/// Which imports are running: at most one per unit and [`IMPORTS_AT_ONCE`] in all, so that a burst
/// of uploads neither queues work nor multiplies memory. Entering never waits.
#[derive(Debug, Default)]
pub struct ImportGate {
    running: std::sync::Mutex<Vec<i64>>,
}

/// The right to run an import for a unit; leaving the gate when dropped.
#[derive(Debug)]
pub struct ImportPermit {
    gate: std::sync::Arc<ImportGate>,
    pub(crate) unit_id: i64,
}

impl ImportGate {
    /// Enters for `unit_id`, or refuses at once: 429 while the same unit imports, 503 while
    /// [`IMPORTS_AT_ONCE`] imports run. Either way the answer says when to try again.
    pub fn try_enter(self: &std::sync::Arc<Self>, unit_id: i64) -> AppResult<ImportPermit> {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let secs = IMPORT_RETRY_SECONDS;
        if running.contains(&unit_id) {
            return Err(AppError::new(
                crate::error::Problem::TooManyRequests,
                format!(
                    "Đơn vị đang nhập một tệp khác; hãy chờ tệp đó xong rồi thử lại sau {secs} giây."
                ),
                format!(
                    "The unit is already importing a file; wait for it to finish and try again in {secs} seconds."
                ),
            ));
        }
        if running.len() >= IMPORTS_AT_ONCE {
            return Err(AppError::new(
                crate::error::Problem::Unavailable,
                format!(
                    "Máy chủ đang nhập {IMPORTS_AT_ONCE} tệp khác; hãy thử lại sau {secs} giây."
                ),
                format!(
                    "The server is importing {IMPORTS_AT_ONCE} other files; try again in {secs} seconds."
                ),
            ));
        }
        running.push(unit_id);
        Ok(ImportPermit {
            gate: self.clone(),
            unit_id,
        })
    }

    /// Imports running now.
    pub fn running(&self) -> usize {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl Drop for ImportPermit {
    fn drop(&mut self) {
        let mut running = self.gate.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = running.iter().position(|u| *u == self.unit_id) {
            running.swap_remove(i);
        }
        let idle = running.is_empty();
        drop(running);
        if idle {
            give_back_memory();
            // The answer (an annotated workbook, a report) is freed only once it is sent: trim
            // again shortly after, if no import started meanwhile.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let gate = self.gate.clone();
                rt.spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    if gate.running() == 0 {
                        give_back_memory();
                    }
                });
            }
        }
    }
}

/// Returns freed heap pages to the system. The binary uses glibc's allocator, which keeps what an
/// import freed (millions of small strings, in per-thread arenas) for reuse; `malloc_trim` hands
/// it back, so the process shrinks to about its idle size after the last import ends (at once, and
/// again half a second later, once the answer has been sent and freed).
pub fn give_back_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of glibc's own arenas; it takes no pointer.
    unsafe {
        libc::malloc_trim(0);
    }
}
