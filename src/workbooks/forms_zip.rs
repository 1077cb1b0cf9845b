//! Every registered unit's official form of one type in one zip, streamed as it is written.

use super::{
    export::{audit_export, unit_job, units_with_report},
    form_or_404,
};
use crate::{auth::Actor, campaigns, error::AppResult, progress, replica, state::AppState};

/// A zip being written: its file name and its bytes as they are produced.
pub struct ZipStream {
    /// Suggested file name.
    pub file_name: String,
    /// Chunks of the zip, in order; an error ends it early.
    pub chunks: super::Chunks,
}

/// A `Write` whose bytes are taken out after each file of a streamed zip.
#[derive(Clone, Default)]
struct Drain(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Drain {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("zip buffer poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drain {
    fn take(&self) -> std::io::Result<Vec<u8>> {
        Ok(std::mem::take(&mut *self.0.lock().map_err(|_| {
            std::io::Error::other("zip buffer poisoned")
        })?))
    }
}

/// Every registered unit's official form of one form under the view's node
/// ([`progress::view`]), in one zip (one `.xlsx` per unit, in unit-code order). The zip is
/// streamed: each workbook is sent as soon as it is made, so the download starts after the
/// first unit. One audit event records the export.
pub async fn forms_zip(
    state: &AppState,
    actor: &Actor,
    view: &progress::View,
    campaign_id: i64,
    form_code: &str,
) -> AppResult<ZipStream> {
    // Reads from the replica when it has the caller's writes; the audit event goes to the primary.
    let (primary, state) = (state, &replica::reader(state, actor).await);
    let form = form_or_404(state, form_code)?.clone();
    campaigns::get(&state.db, campaign_id).await?;
    let unit_ids: Vec<i64> = units_with_report(&state.db, actor, view, campaign_id, &form.code)
        .await?
        .iter()
        .map(|u| u.id)
        .collect();
    let file_name = format!("{}_tat_ca_don_vi.zip", form.code);
    audit_export(primary, actor, campaign_id, &file_name).await?;
    let (tx, chunks) = tokio::sync::mpsc::channel(2);
    let state = state.clone();
    let form_code = form.code.clone();
    tokio::spawn(async move {
        let drain = Drain::default();
        let mut zip = zip::ZipWriter::new_stream(drain.clone());
        // Workbooks are zip files already: stored, not compressed again.
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(false);
        for unit_id in unit_ids {
            // Each workbook is written straight into its zip entry, then handed on.
            let job = match unit_job(&state, campaign_id, unit_id, &form_code, None).await {
                Ok(job) => job,
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            };
            let written = match zip.start_file(job.file_name.as_str(), options) {
                Ok(()) => job.write_to(zip).await.map_err(|(_, e)| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            zip = match written {
                Ok(z) => z,
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(e))).await;
                    return;
                }
            };
            let bytes = drain.take();
            let failed = bytes.is_err();
            if tx.send(bytes).await.is_err() || failed {
                return;
            }
        }
        let end = zip
            .finish()
            .map_err(std::io::Error::other)
            .and_then(|_| drain.take());
        let _ = tx.send(end).await;
    });
    Ok(ZipStream { file_name, chunks })
}
