/* Fork-join thread team: a generation counter announces work; members spin, then sleep. */
#include "core/team.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#define SPIN_ROUNDS 20000 /* polls before a member goes to sleep on the condition variable */

struct member {
    struct bnn_team *team;
    size_t index;
    pthread_t thread;
};

struct bnn_team {
    size_t n;
    struct member *members;
    atomic_ulong generation; /* incremented for each run; 0 = none yet */
    atomic_size_t pending;   /* members (other than 0) still running the current work */
    atomic_int stop;
    bnn_team_fn fn;
    void *arg;
    pthread_mutex_t lock;
    pthread_cond_t wake;
};

static void *member_main(void *p)
{
    struct member *m = p;
    struct bnn_team *t = m->team;
    unsigned long seen = 0;
    for (;;) {
        unsigned long g;
        int spins = 0;
        while ((g = atomic_load(&t->generation)) == seen && !atomic_load(&t->stop)) {
            if (++spins < SPIN_ROUNDS) {
                sched_yield();
                continue;
            }
            pthread_mutex_lock(&t->lock);
            while (atomic_load(&t->generation) == seen && !atomic_load(&t->stop))
                pthread_cond_wait(&t->wake, &t->lock);
            pthread_mutex_unlock(&t->lock);
        }
        if (atomic_load(&t->stop)) return NULL;
        seen = g;
        t->fn(t->arg, m->index, t->n);
        atomic_fetch_sub(&t->pending, 1);
    }
}

bnn_status bnn_team_alloc(size_t n_members, bnn_team **out)
{
    if (n_members == 0) return BNN_ERROR(BNN_EINVAL, "a thread team needs at least one member");
    struct bnn_team *t = calloc(1, sizeof *t);
    if (!t) return BNN_ERROR(BNN_ENOMEM, "out of memory for a thread team");
    t->n = n_members;
    t->members = calloc(n_members, sizeof *t->members);
    if (!t->members) {
        free(t);
        return BNN_ERROR(BNN_ENOMEM, "out of memory for a thread team");
    }
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    for (size_t i = 1; i < n_members; i++) {
        t->members[i] = (struct member){.team = t, .index = i};
        if (pthread_create(&t->members[i].thread, NULL, member_main, &t->members[i]) != 0) {
            t->n = i; /* free only the threads that started */
            bnn_team_free(t);
            return BNN_ERROR(BNN_EIO, "could not start thread %zu of %zu", i + 1, n_members);
        }
    }
    *out = t;
    return BNN_OK;
}

void bnn_team_free(bnn_team *t)
{
    if (!t) return;
    pthread_mutex_lock(&t->lock);
    atomic_store(&t->stop, 1);
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->lock);
    for (size_t i = 1; i < t->n; i++) pthread_join(t->members[i].thread, NULL);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->wake);
    free(t->members);
    free(t);
}

size_t bnn_team_size(const bnn_team *t) { return t->n; }

void bnn_team_run(bnn_team *t, bnn_team_fn fn, void *arg)
{
    if (t->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    t->fn = fn;
    t->arg = arg;
    atomic_store(&t->pending, t->n - 1);
    pthread_mutex_lock(&t->lock);
    atomic_fetch_add(&t->generation, 1);
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->lock);
    fn(arg, 0, t->n);
    while (atomic_load(&t->pending) != 0) sched_yield();
}
