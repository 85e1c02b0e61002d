#!/usr/bin/env python3
"""NYC-taxi-like trip records: a seeded, deterministic, vectorised generator.

What: the numeric columns of the 2015 NYC yellow-taxi trip schema (plus the trip
duration derived from its two timestamps), 17 float32 features per row, with the
structure of the real data: pickups and dropoffs clustered around Manhattan, the
three airports (JFK, LGA, EWR) and Brooklyn; fares tied to distance and time with
a heavy tail (lognormal distance, flat JFK fare, Newark surcharge, tolls on
airport runs); tips only on card payments; and a few percent of junk rows (zero
coordinates, zero distance, negative fares) as in the real files.

How: rows are made in fixed blocks of BLOCK_ROWS, each from its own
numpy Generator seeded by (seed, block index), so the same --seed and --rows
give the same bytes whatever the sharding and whether written to files or
streamed. Everything is numpy array arithmetic (several million rows/s).

Output: recordIO-protobuf exactly as sagemaker.amazon.common.
write_numpy_to_dense_tensor writes it (one Record per row with a dense
float32 tensor under features["values"], no label), encoded by the kit's
fixed-layout numpy encoder (smgkit.payloads.encode_dense) that `--verify`
checks byte for byte against the SDK; or CSV
(no header, no label column, as SageMaker's text/csv;label_size=0). Either
sharded into many files in a folder (as the SageMaker study's 1674 files), or
streamed to stdout so a large run needs no disk:

    taxi_gen.py --rows 1000000 --format recordio --out data/train --shards 16
    taxi_gen.py --rows 50000000 --format recordio --out - | smalgo pipe ...
    taxi_gen.py --verify

Why: the benchmarks need the SageMaker Pipe-mode study's kind of data
(NYC taxi trips) at any size, without a download, reproducibly.
"""

import argparse
import os
import sys
import time

import numpy as np

import common  # noqa: F401  (puts tests/kit on sys.path)
from smgkit import payloads

COLUMNS = [
    "vendor_id",
    "passenger_count",
    "trip_distance",
    "pickup_longitude",
    "pickup_latitude",
    "rate_code_id",
    "dropoff_longitude",
    "dropoff_latitude",
    "payment_type",
    "fare_amount",
    "extra",
    "mta_tax",
    "tip_amount",
    "tolls_amount",
    "improvement_surcharge",
    "total_amount",
    "duration_minutes",
]
FEATURE_DIM = len(COLUMNS)
BLOCK_ROWS = 1 << 18  # rows per deterministic block (262144)

# Zones: (name, longitude, latitude, sd longitude, sd latitude, pickup weight).
ZONES = [
    ("midtown", -73.9855, 40.7580, 0.012, 0.012, 0.36),
    ("downtown", -74.0060, 40.7150, 0.010, 0.010, 0.14),
    ("upper_east", -73.9590, 40.7740, 0.010, 0.012, 0.12),
    ("upper_west", -73.9750, 40.7870, 0.008, 0.012, 0.10),
    ("village", -73.9980, 40.7320, 0.008, 0.008, 0.11),
    ("brooklyn", -73.9570, 40.6870, 0.025, 0.020, 0.06),
    ("jfk", -73.7781, 40.6413, 0.006, 0.004, 0.025),
    ("lga", -73.8740, 40.7769, 0.004, 0.003, 0.04),
    ("ewr", -74.1745, 40.6895, 0.004, 0.004, 0.005),
    ("queens", -73.9000, 40.7450, 0.030, 0.020, 0.04),
]
Z_LON = np.array([z[1] for z in ZONES])
Z_LAT = np.array([z[2] for z in ZONES])
Z_SLON = np.array([z[3] for z in ZONES])
Z_SLAT = np.array([z[4] for z in ZONES])
Z_PICK = np.array([z[5] for z in ZONES])
Z_PICK = Z_PICK / Z_PICK.sum()
JFK, LGA, EWR = 6, 7, 8
AIRPORTS = (JFK, LGA, EWR)
# Dropoff zone given pickup zone: mostly Manhattan; from an airport mostly to
# Manhattan; 4% of Manhattan trips go to an airport.
_DROP = np.tile(Z_PICK, (len(ZONES), 1))
for a in AIRPORTS:
    _DROP[:, a] *= 0.6
    _DROP[a, a] = 0.0
    _DROP[a, :5] *= 1.6
_DROP = _DROP / _DROP.sum(axis=1, keepdims=True)
_DROP_CDF = np.cumsum(_DROP, axis=1)

# Hour-of-day pickup profile (low at 5am, peaks evening).
_HOURS = np.array([4.0, 3, 2, 1.5, 1, 1, 2, 4, 5, 5, 5, 5, 5.5, 5.5, 5.5, 5.5, 5, 6, 7, 7, 6.5, 6,
                   5.5, 5])
_HOURS = _HOURS / _HOURS.sum()

MILES_PER_DEG_LAT = 69.0
MILES_PER_DEG_LON = 52.4  # at 40.7 degrees north


def make_block(seed, block, rows):
    """Rows of block `block` (float32, rows x FEATURE_DIM), deterministic."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, block]))
    n = rows
    u = rng.random
    pz = rng.choice(len(ZONES), size=n, p=Z_PICK)
    r = u(n)
    dz = (r[:, None] > _DROP_CDF[pz]).sum(axis=1)
    dz = np.minimum(dz, len(ZONES) - 1)

    plon = Z_LON[pz] + rng.standard_normal(n) * Z_SLON[pz]
    plat = Z_LAT[pz] + rng.standard_normal(n) * Z_SLAT[pz]
    dlon = Z_LON[dz] + rng.standard_normal(n) * Z_SLON[dz]
    dlat = Z_LAT[dz] + rng.standard_normal(n) * Z_SLAT[dz]
    # Some trips stay inside one neighbourhood: short hops.
    short = u(n) < 0.25
    dlon = np.where(short, plon + rng.standard_normal(n) * 0.006, dlon)
    dlat = np.where(short, plat + rng.standard_normal(n) * 0.006, dlat)

    dx = (dlon - plon) * MILES_PER_DEG_LON
    dy = (dlat - plat) * MILES_PER_DEG_LAT
    straight = np.sqrt(dx * dx + dy * dy)
    # Street detour factor, lognormal: the heavy right tail of real distances.
    dist = straight * 1.3 * rng.lognormal(0.0, 0.25, n) + 0.1 * u(n)
    longtrip = u(n) < 0.003  # out-of-town rides
    dist = np.where(longtrip, dist + rng.lognormal(3.0, 0.6, n), dist)

    hour = rng.choice(24, size=n, p=_HOURS)
    rush = (hour >= 16) & (hour < 20)
    night = (hour >= 20) | (hour < 6)
    mph = rng.lognormal(np.log(11.0), 0.35, n) * np.where(night, 1.35, 1.0) * np.where(rush, 0.8, 1.0)
    duration = dist / mph * 60.0 + rng.exponential(1.5, n)

    airport_jfk = (pz == JFK) | (dz == JFK)
    manhattan = lambda z: z <= 4  # noqa: E731
    jfk_flat = airport_jfk & (manhattan(pz) | manhattan(dz))
    to_ewr = dz == EWR
    rate = np.ones(n)
    rate = np.where(jfk_flat, 2.0, rate)
    rate = np.where(to_ewr, 3.0, rate)
    negotiated = u(n) < 0.004
    rate = np.where(negotiated, 5.0, rate)

    fare = 2.5 + 2.5 * dist + 0.12 * duration
    fare = np.where(rate == 2.0, 52.0, fare)
    fare = np.where(rate == 3.0, fare + 17.5, fare)
    fare = np.where(negotiated, rng.lognormal(np.log(60.0), 0.5, n), fare)
    fare = np.round(fare * 2.0) / 2.0

    extra = np.where(rush, 1.0, np.where(night, 0.5, 0.0))
    extra = np.where(rate == 2.0, 0.0, extra)
    mta = np.full(n, 0.5)
    surcharge = np.full(n, 0.3)
    is_airport = np.isin(pz, AIRPORTS) | np.isin(dz, AIRPORTS)
    tolls = np.where(is_airport & (u(n) < 0.45), 5.54, 0.0)
    tolls = np.where(to_ewr, 15.0, tolls)
    tolls = np.where((pz == 5) ^ (dz == 5), np.where(u(n) < 0.08, 5.54, tolls), tolls)

    payment = np.where(u(n) < 0.62, 1.0, 2.0)  # 1 card, 2 cash
    odd = u(n)
    payment = np.where(odd < 0.006, 3.0, np.where(odd < 0.009, 4.0, payment))  # no charge, dispute
    tip_pct = np.clip(rng.normal(0.19, 0.07, n), 0.0, 0.6)
    tip = np.where(payment == 1.0, np.round((fare + extra) * tip_pct, 2), 0.0)
    total = fare + extra + mta + surcharge + tip + tolls

    pc = rng.choice(7, size=n, p=[0.004, 0.70, 0.14, 0.04, 0.02, 0.06, 0.036])
    vendor = np.where(u(n) < 0.47, 1.0, 2.0)

    # Junk rows as in the 2015 files: zero coordinates (~2%), zero distance,
    # negative amounts (reversed charges).
    j = u(n)
    zero_pick = j < 0.018
    zero_drop = (j >= 0.018) & (j < 0.024)
    plon = np.where(zero_pick, 0.0, plon)
    plat = np.where(zero_pick, 0.0, plat)
    dlon = np.where(zero_pick | zero_drop, 0.0, dlon)
    dlat = np.where(zero_pick | zero_drop, 0.0, dlat)
    zero_dist = (j >= 0.024) & (j < 0.030)
    dist = np.where(zero_dist, 0.0, dist)
    neg = (j >= 0.030) & (j < 0.0312)
    sign = np.where(neg, -1.0, 1.0)

    out = np.empty((n, FEATURE_DIM), dtype=np.float32)
    cols = [vendor, pc, np.round(dist, 2), plon, plat, rate, dlon, dlat, payment,
            fare * sign, extra * sign, mta * sign, tip * sign, tolls * sign, surcharge * sign,
            np.round(total, 2) * sign, np.round(duration, 2)]
    for i, c in enumerate(cols):
        out[:, i] = c
    return out


def blocks(seed, rows):
    """Yield (block index, rows array) covering `rows` rows."""
    b = 0
    done = 0
    while done < rows:
        m = min(BLOCK_ROWS, rows - done)
        yield b, make_block(seed, b, m)
        done += m
        b += 1


def generate(seed, rows):
    """All rows as one array (for the peers and small runs)."""
    return np.concatenate([a for _, a in blocks(seed, rows)]) if rows else np.empty(
        (0, FEATURE_DIM), np.float32)


# ---- encodings: the kit's (smgkit.payloads) ----------------------------------------

def record_size(d=FEATURE_DIM):
    """Bytes of one framed record (header + payload + padding)."""
    return payloads.record_size(d)


def encode_recordio(x):
    """Bytes of x (float32, n x d) framed exactly as write_numpy_to_dense_tensor."""
    return payloads.encode_dense(x)


def decode_recordio(data, d=FEATURE_DIM):
    """Inverse of encode_recordio for this fixed layout (the peers' loader)."""
    return payloads.decode_dense(data, d)


def encode_csv(x):
    """CSV text of x, no header; floats in the shortest %g form that keeps 7 digits."""
    return payloads.csv_bytes(x, fmt="%.7g")


def verify(rows=2000, seed=7):
    """Check encode_recordio against the SDK byte for byte, and the decoder."""
    import io

    x = generate(seed, rows)
    ref = payloads.sdk_dense(x)
    ours = encode_recordio(x)
    if ref != ours:
        raise SystemExit("verify: recordIO bytes differ from the SDK's")
    back = decode_recordio(ours)
    if not np.array_equal(back, x):
        raise SystemExit("verify: decode_recordio does not round-trip")
    from sagemaker.amazon.common import read_records

    recs = read_records(io.BytesIO(ref))
    sdk = np.array([r.features["values"].float32_tensor.values for r in recs], dtype=np.float32)
    if not np.array_equal(sdk, x):
        raise SystemExit("verify: SDK read_records disagrees")
    for d in (1, 2, 29, 40, 300):  # other widths: multi-byte varints, padding
        y = np.random.default_rng(d).standard_normal((5, d)).astype(np.float32)
        if payloads.sdk_dense(y) != encode_recordio(y):
            raise SystemExit("verify: bytes differ for d=%d" % d)
    print("verify: %d rows (d=%d) and d in 1,2,29,40,300: byte-identical to the SDK" %
          (rows, FEATURE_DIM))


def write(seed, rows, fmt, out, shards, quiet=False):
    """Write rows to `out` ('-' = stdout) in `fmt`, in `shards` files. Returns bytes."""
    enc = encode_recordio if fmt == "recordio" else encode_csv
    ext = "rec" if fmt == "recordio" else "csv"
    total = 0
    t0 = time.monotonic()
    if out == "-":
        sink = sys.stdout.buffer
        try:
            for _, a in blocks(seed, rows):
                b = enc(a)
                sink.write(b)
                total += len(b)
            sink.flush()
        except BrokenPipeError:
            pass
    else:
        os.makedirs(out, exist_ok=True)
        shards = max(1, min(shards, rows)) if rows else 1
        # Shard s holds rows [s*rows/shards, (s+1)*rows/shards).
        bounds = [rows * s // shards for s in range(shards + 1)]
        s = 0
        pos = 0
        f = open(os.path.join(out, "part-%05d.%s" % (0, ext)), "wb")
        for _, a in blocks(seed, rows):
            i = 0
            while i < len(a):
                if pos >= bounds[s + 1]:
                    f.close()
                    s += 1
                    f = open(os.path.join(out, "part-%05d.%s" % (s, ext)), "wb")
                    continue
                take = min(len(a) - i, bounds[s + 1] - pos)
                b = enc(a[i:i + take])
                f.write(b)
                total += len(b)
                i += take
                pos += take
        f.close()
    if not quiet:
        dt = time.monotonic() - t0
        print("taxi_gen: %d rows, %s, %.1f MB in %.2f s (%.0f MB/s)" %
              (rows, fmt, total / 1e6, dt, total / 1e6 / max(dt, 1e-9)), file=sys.stderr)
    return total


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=100000)
    p.add_argument("--bytes", type=str, default=None,
                   help="size instead of --rows, e.g. 2G or 500M (recordIO bytes)")
    p.add_argument("--seed", type=int, default=2015)
    p.add_argument("--format", choices=["recordio", "csv"], default="recordio")
    p.add_argument("--out", default="-", help="folder for shards, or - for stdout")
    p.add_argument("--shards", type=int, default=16)
    p.add_argument("--verify", action="store_true",
                   help="check the encoder against the SageMaker SDK and exit")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    if a.verify:
        verify()
        return 0
    rows = a.rows
    if a.bytes:
        mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
        s = a.bytes.upper().rstrip("B")
        n = float(s[:-1]) * mult[s[-1]] if s[-1] in mult else float(s)
        rows = int(n // record_size())
    write(a.seed, rows, a.format, a.out, a.shards, a.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
