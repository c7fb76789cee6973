/* Sharding of the training data: for many sizes, block sizes, shard counts and rank counts,
 * the ranks' row ranges cover every training example exactly once, in order, and each rank's
 * shards are whole blocks. */
#include <stdio.h>

#include "backend/cpu.h"

int main(void)
{
    const size_t sizes[] = {0, 1, 7, 255, 256, 257, 1437, 60000};
    const size_t blocks[] = {1, 8, 256};
    size_t cases = 0, bad = 0;
    for (size_t a = 0; a < sizeof sizes / sizeof *sizes; a++)
        for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++)
            for (size_t shards = 1; shards <= 9; shards++)
                for (size_t ranks = 1; ranks <= shards; ranks++) {
                    size_t next_row = 0, next_shard = 0;
                    for (size_t r = 0; r < ranks; r++) {
                        bnn_shard_layout l;
                        size_t row0, row1;
                        bnn_shard_layout_for(sizes[a], blocks[b], shards, r, ranks, &l, &row0,
                                             &row1);
                        if (row0 != next_row || row1 < row0 || l.first_shard != next_shard ||
                            (row0 % blocks[b] != 0 && row0 != sizes[a]))
                            bad++;
                        next_row = row1;
                        next_shard = l.first_shard + l.n_local;
                    }
                    if (next_row != sizes[a] || next_shard != shards) bad++;
                    cases++;
                }
    printf("%s shard layouts cover every row once (%zu cases, %zu bad)\n", bad ? "not ok" : "ok",
           cases, bad);
    return bad != 0;
}
