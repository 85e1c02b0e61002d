/*
 * A fixed pool of threads over one FIFO queue (see serve_pool.h): a mutex, a
 * condition variable and a singly linked list with head and tail.
 */
#include "runtime/serve_pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "io/base/alloc.h"

struct smg_serve_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct smg_serve_job *head, *tail;
    bool closing;
    unsigned n;
    pthread_t threads[];
};

static void *worker(void *arg)
{
    struct smg_serve_pool *p = arg;

    /*
     * Below libmicrohttpd's threads (best effort; Linux's nice is per thread):
     * on a machine whose cores are all scoring, /ping still gets one.
     */
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), SMG_SERVE_POOL_NICE);

    for (;;) {
        struct smg_serve_job *job;
        pthread_mutex_lock(&p->mu);
        while (p->head == NULL && !p->closing)
            pthread_cond_wait(&p->cv, &p->mu);
        job = p->head;
        if (job != NULL) {
            p->head = job->next;
            if (p->head == NULL)
                p->tail = NULL;
        }
        pthread_mutex_unlock(&p->mu);
        if (job == NULL)
            return NULL; /* closing and drained */
        job->run(job);
    }
}

enum smg_status smg_serve_pool_new(unsigned threads, struct smg_serve_pool **out,
                                   struct smg_error *err)
{
    struct smg_serve_pool *p;

    *out = NULL;
    if (threads == 0)
        threads = 1;
    p = smg_calloc(1, sizeof(*p) + threads * sizeof(pthread_t));
    if (p == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory starting the scoring threads");
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (; p->n < threads; p->n++)
        if (pthread_create(&p->threads[p->n], NULL, worker, p) != 0) {
            smg_serve_pool_free(p);
            return smg_error_set(err, SMG_EINTERNAL, "cannot start scoring thread %u", p->n);
        }
    *out = p;
    return SMG_OK;
}

void smg_serve_pool_submit(struct smg_serve_pool *p, struct smg_serve_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->tail != NULL)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void smg_serve_pool_free(struct smg_serve_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->closing = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    smg_free(p);
}
