"""k-means quality, computed the same way by every test and benchmark: each
row's squared Euclidean distance to its nearest centre, and their mean (msd,
SageMaker's k-means metric), in float64.

How: the difference form sum((x - c)^2), one centre at a time over blocks of
rows, never the expansion |x|^2 - 2 x.c + |c|^2, which loses digits to
cancellation: the tests compare smalgo's logged test msd with this to 1e-9
relative. Memory stays at a block of rows whatever the data size.
"""
import numpy as np

BLOCK_ROWS = 1 << 16


def nearest_sq_dist(x, centres):
    """Per row of x, the squared distance to the nearest row of centres (float64)."""
    c = np.asarray(centres, dtype=np.float64)
    out = np.empty(len(x))
    for s in range(0, len(x), BLOCK_ROWS):
        xs = np.asarray(x[s:s + BLOCK_ROWS], dtype=np.float64)
        best = np.full(len(xs), np.inf)
        for j in range(len(c)):
            best = np.minimum(best, ((xs - c[j]) ** 2).sum(1))
        out[s:s + len(xs)] = best
    return out


def msd(x, centres):
    """Mean over the rows of x of the squared distance to the nearest centre."""
    return float(nearest_sq_dist(x, centres).mean())
