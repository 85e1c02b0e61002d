/*
 * The status hand-back between the leader and its workers. Workers run no
 * rank themselves (mpirun's orted starts it through sshd), so when the job
 * ends the leader writes the job's status into /tmp/smalgo-done on every
 * worker, over ssh, and each worker exits with it: every container of the job
 * ends with the job's status, whichever one docker compose reports first.
 *
 * The done file, byte by byte:
 *
 *     <status>\n          decimal exit status, 0..255 (0: the job succeeded)
 *     <reason>            only when status != 0: up to 1024 bytes of the
 *                         leader's output/failure (the job's cause), or nothing
 *
 * A first line that is empty, not all digits or above 255 reads as status 1.
 */
#ifndef SMG_LAUNCH_DONE_H
#define SMG_LAUNCH_DONE_H

#include <stddef.h>

#define SMG_LAUNCH_DONE_FILE       "/tmp/smalgo-done"
#define SMG_LAUNCH_DONE_REASON_MAX 1024

/*
 * The done file's text for status and the leader's failure text (NULL or ""
 * when none; ignored when status is 0) into out (always terminated; the
 * reason is cut at SMG_LAUNCH_DONE_REASON_MAX bytes). Returns the length.
 */
size_t smg_launch_done_format(int status, const char *failure, char *out, size_t size);

/*
 * Parse a done file's text (len bytes, need not be terminated): returns the
 * status; *reason and *reason_len give the text after the first line (empty
 * when absent).
 */
int smg_launch_done_parse(const char *text, size_t len, const char **reason, size_t *reason_len);

/*
 * What a worker writes to its output/failure when the leader reports a
 * failed job: the job's cause first (reason; or a generic line naming the
 * leader and the status when the leader sent none), then what this host's
 * own rank wrote (own, may be NULL or ""), as "<reason> (on <host>: <own>)".
 * When the reason is this host's own failure ("host <host> failed: ..."),
 * own alone (or the reason when own is empty). Into out, always terminated.
 */
void smg_launch_worker_failure(const char *reason, const char *own, const char *host,
                               const char *leader, int status, char *out, size_t size);

#endif
