/* A team of threads that runs one function on every member at once (fork-join), for the
 * data-block loop of one chain's gradient. The caller's thread is member 0. Members wait for
 * work by spinning briefly, then sleeping: handing work over by a condition variable alone
 * costs tens of microseconds, too much inside a sub-millisecond gradient. */
#ifndef BNN_CORE_TEAM_H
#define BNN_CORE_TEAM_H

#include <stddef.h>

#include "core/status.h"

typedef struct bnn_team bnn_team;

/* fn(arg, member, n_members) runs once on each member. */
typedef void (*bnn_team_fn)(void *arg, size_t member, size_t n_members);

/* A team of n_members threads (n_members - 1 are started here). */
bnn_status bnn_team_alloc(size_t n_members, bnn_team **out);
void bnn_team_free(bnn_team *team);
size_t bnn_team_size(const bnn_team *team);

/* Runs fn on every member and returns when all have finished. Not reentrant. */
void bnn_team_run(bnn_team *team, bnn_team_fn fn, void *arg);

#endif
