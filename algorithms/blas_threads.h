/*
 * OpenBLAS on the calling thread only. smalgo's own worker pool is its one
 * source of parallelism (runtime/threads.h), so BLAS must never start threads
 * of its own: they would oversubscribe the cores the pool is sized to, and
 * the models would depend on BLAS's thread count.
 *
 * Setting the count is not enough: a threaded OpenBLAS starts its server
 * threads when the library loads (one per CPU less one), and each spins,
 * calling sched_yield, for about 2^28 cycles (~0.1 s) before it sleeps. On a
 * 2-CPU host that spinning took 3-9% of a 0.3 s training job's CPU samples.
 * smg_blas_one_thread also stops those threads, through OpenBLAS's
 * blas_thread_shutdown_ (its fork handler; exported by the threaded builds),
 * looked up as a weak symbol so that a single-threaded BLAS links too.
 */
#ifndef SMG_BLAS_THREADS_H
#define SMG_BLAS_THREADS_H

/*
 * BLAS runs on the calling thread from now on and its idle threads are gone.
 * Call before any other thread makes BLAS calls (at start-up).
 */
void smg_blas_one_thread(void);

#endif
