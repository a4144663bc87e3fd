/* upload-journal.h — the temporary files of uploads, and the journal that outlives a
 * session: every temporary file a session makes for an upload has an entry in the state
 * folder's PORCH_STATE_UPLOADS (porch-state.h), written before the file is made and removed
 * once the file is gone or has become the target. What a session leaves listed when it ends
 * (it died, or its client went before finishing) porchd removes
 * (porch_upload_journal_cleanup()).
 *
 * An entry is a key file named "PID.SERIAL" (the session's pid, a count within the session)
 * holding, in its group [upload], the share ("share"), the folder beneath the share's root
 * ("dir", "" for the root) and the temporary file's name in it ("name"). */
#pragma once

#include <glib.h>

#include "porch-config.h"
#include "sftp-server.h"

G_BEGIN_DECLS

/* Hidden temporary files of uploads that replace a file are named with this prefix; they
 * never appear in listings and cannot be opened by name. */
#define PORCH_UPLOAD_PREFIX ".porch-upload."
/* What `porch put` names the new file it uploads to before renaming it over the target
 * (porch-wire.h): such a file, created by a session, is journaled like an upload of ours, so
 * that it is removed if the session ends before the rename. */
#define PORCH_CLIENT_TEMP_PREFIX PORCH_WIRE_PUT_TEMP_PREFIX

/* One session's journal. */
typedef struct _PorchUploadJournal PorchUploadJournal;

/* The journal of this process's session, in the state folder @state_dir. */
PorchUploadJournal *porch_upload_journal_new(const char *state_dir);
/* Frees @journal; the entries still listed stay, for porch_upload_journal_cleanup(). */
void porch_upload_journal_free(PorchUploadJournal *journal);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PorchUploadJournal, porch_upload_journal_free)

/* Writes the entry of the temporary file @temp_name, to be made beside @rel (a path beneath
 * the root of share @share), before the file exists. Returns the entry's path, for
 * porch_upload_journal_remove(), or NULL with @error. */
char *porch_upload_journal_add(PorchUploadJournal *journal, const char *share, const char *rel,
                               const char *temp_name, GError **error);
/* The temporary file of @entry (may be NULL) is gone or is the target now: its entry goes. */
void porch_upload_journal_remove(const char *entry);

/* `porch put` made its new file @rel in @share, journaled as @entry (taken): the entry stays
 * until the client renames or removes that file (porch_upload_journal_forget_client_temp()),
 * or, when the session ends first, for porch_upload_journal_cleanup(). */
void porch_upload_journal_keep_client_temp(PorchUploadJournal *journal, const char *share,
                                           const char *rel, char *entry);
/* @rel in @share was renamed or removed: if it is a `porch put` file kept above, its entry
 * goes. */
void porch_upload_journal_forget_client_temp(PorchUploadJournal *journal, const char *share,
                                             const char *rel);

/* Removes the temporary upload files that the journal of session @pid (or of every session,
 * @pid 0, but those of sessions still running) in @state_dir still lists, through the files
 * of the shares of @config (@files_for with @user_data; NULL: in this process), and the
 * entries. For porchd: when a session process ends, and at start for the leftovers of a
 * crash. Returns how many temporary files were removed. */
guint porch_upload_journal_cleanup(const PorchConfig *config, const char *state_dir, GPid pid,
                                   PorchSftpFilesFunc files_for, void *user_data);

G_END_DECLS
