/*
 * Sharing pids between ranks so a stop handler can name a rank that died
 * (see mpi_peers.h).
 */
#include "runtime/mpi_peers.h"

#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/base/alloc.h"
#include "io/base/log.h"
#include "runtime/signals.h"

struct peer_card {
    long long pid;
    char host[64];   /* SageMaker's name, algo-N */
    char kernel[64]; /* gethostname(): tells ranks on this machine */
};

void smg_mpi_peers_share(const struct smg_job *job)
{
    struct peer_card me, *all;
    struct smg_signal_peer peers[SMG_SIGNALS_MAX_PEERS];
    size_t n = 0;

    if (!job->comm.mpi || job->comm.size < 2)
        return;
    memset(&me, 0, sizeof(me));
    me.pid = (long long)getpid();
    snprintf(me.host, sizeof(me.host), "%.63s", job->current_host);
    (void)gethostname(me.kernel, sizeof(me.kernel) - 1);
    all = smg_calloc((size_t)job->comm.size, sizeof(*all));
    if (all == NULL || MPI_Allgather(&me, (int)sizeof(me), MPI_BYTE, all, (int)sizeof(me), MPI_BYTE,
                                     job->comm.handle) != MPI_SUCCESS) {
        smg_log_warn("could not share process ids between ranks; a rank that dies will not be "
                     "named in output/failure");
        smg_free(all);
        return;
    }
    for (int r = 0; r < job->comm.size && n < SMG_SIGNALS_MAX_PEERS; r++) {
        if (r == job->comm.rank || strcmp(all[r].kernel, me.kernel) != 0)
            continue;
        peers[n].pid = (pid_t)all[r].pid;
        snprintf(peers[n].text, sizeof(peers[n].text),
                 "AlgorithmError: rank %d (pid %lld on host %.63s) ended unexpectedly (killed or "
                 "crashed) and mpirun stopped the other ranks; the job did not finish\n",
                 r, all[r].pid, all[r].host);
        n++;
    }
    smg_free(all);
    smg_signals_watch_peers(peers, n);
}
